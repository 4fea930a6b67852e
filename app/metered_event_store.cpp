#include "app/metered_event_store.hpp"

#include <chrono>

namespace realmkit::app {
namespace {

constexpr const char* kAppends = "realmkit_event_store_appends_total";
constexpr const char* kAppendsHelp = "Appends to the event store, by outcome";

}  // namespace

metered_event_store::metered_event_store(infra::event_store& inner,
                                         infra::metrics_registry& metrics)
    : inner_(inner),
      append_seconds_(metrics.histogram_for(
          "realmkit_event_store_append_duration_seconds",
          "Time an append takes as its caller sees it, commit (and fsync) included",
          infra::latency_buckets())),
      appended_(metrics.counter_for(kAppends, kAppendsHelp, {{"outcome", "ok"}})),
      conflicts_(metrics.counter_for(kAppends, kAppendsHelp, {{"outcome", "conflict"}})),
      failed_(metrics.counter_for(kAppends, kAppendsHelp, {{"outcome", "error"}})),
      events_(metrics.counter_for("realmkit_event_store_events_appended_total",
                                  "Events written by appends that committed")) {}

infra::append_result metered_event_store::append(std::span<const infra::stream_write> writes,
                                                 const std::optional<infra::idempotency_key>& key) {
  const auto start = std::chrono::steady_clock::now();
  try {
    auto result = inner_.append(writes, key);
    append_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    appended_.inc();
    if (!result.replayed) {
      std::uint64_t n = 0;
      for (const auto& w : writes) n += w.events.size();
      events_.inc(n);
    }
    return result;
  } catch (const infra::wrong_expected_version&) {
    append_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    conflicts_.inc();
    throw;
  } catch (...) {
    failed_.inc();
    throw;
  }
}

std::optional<infra::append_result> metered_event_store::find_idempotent(
    const infra::idempotency_key& key) {
  return inner_.find_idempotent(key);
}

std::vector<infra::recorded_event> metered_event_store::read_stream(std::string_view stream_id,
                                                                    std::int64_t from_version,
                                                                    std::size_t max) {
  return inner_.read_stream(stream_id, from_version, max);
}

std::int64_t metered_event_store::stream_version(std::string_view stream_id) {
  return inner_.stream_version(stream_id);
}

std::vector<infra::recorded_event> metered_event_store::read_all(std::int64_t after_position,
                                                                 std::size_t max) {
  return inner_.read_all(after_position, max);
}

std::int64_t metered_event_store::head_position() {
  return inner_.head_position();
}

void metered_event_store::wait_for_append(std::int64_t position,
                                          std::chrono::milliseconds timeout) {
  inner_.wait_for_append(position, timeout);
}

std::unique_ptr<infra::subscription> metered_event_store::subscribe_all(
    std::int64_t after_position, infra::event_handler on_event, infra::error_handler on_error) {
  return inner_.subscribe_all(after_position, std::move(on_event), std::move(on_error));
}

}  // namespace realmkit::app
