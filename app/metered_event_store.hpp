// The event store as the API uses it, timed: every append's latency as its caller sees it (queue,
// group commit and fsync included) and its outcome, whatever the backend.
#pragma once

#include "infra/event_store.hpp"
#include "infra/metrics.hpp"

namespace realmkit::app {

class metered_event_store final : public infra::event_store {
 public:
  // Both must outlive this decorator.
  metered_event_store(infra::event_store& inner, infra::metrics_registry& metrics);

  using event_store::append;
  infra::append_result append(std::span<const infra::stream_write> writes,
                              const std::optional<infra::idempotency_key>& key) override;
  std::optional<infra::append_result> find_idempotent(const infra::idempotency_key& key) override;
  std::vector<infra::recorded_event> read_stream(std::string_view stream_id,
                                                 std::int64_t from_version = 1,
                                                 std::size_t max = 100'000) override;
  std::int64_t stream_version(std::string_view stream_id) override;
  std::vector<infra::recorded_event> read_all(std::int64_t after_position,
                                              std::size_t max) override;
  std::size_t concurrent_reads() override { return inner_.concurrent_reads(); }
  std::int64_t head_position() override;
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::unique_ptr<infra::subscription> subscribe_all(
      std::int64_t after_position, infra::event_handler on_event,
      infra::error_handler on_error) override;

 private:
  infra::event_store& inner_;
  infra::histogram& append_seconds_;
  infra::counter& appended_;   // committed appends (replays included)
  infra::counter& conflicts_;  // refused with wrong_expected_version
  infra::counter& failed_;     // any other store error
  infra::counter& events_;     // events written
};

}  // namespace realmkit::app
