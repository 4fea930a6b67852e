#include "infra/kafka/projector_feed.hpp"

#include <algorithm>

namespace realmkit::infra::kafka {
namespace {

constexpr std::string_view kColumns =
    "global_position, event_id, stream_id, stream_version, type, schema_version, recorded_at_us, "
    "data, metadata";

recorded_event event_of(const sql::row& r) {
  recorded_event e;
  e.global_position = r.integer(0);
  e.event_id = r.text(1);
  e.stream_id = r.text(2);
  e.stream_version = r.integer(3);
  e.type = r.text(4);
  e.schema_version = static_cast<int>(r.integer(5));
  e.recorded_at = timestamp(std::chrono::microseconds(r.integer(6)));
  e.data = r.text(7);
  e.metadata = r.text(8);
  return e;
}

}  // namespace

feed_log::feed_log(event_store& store, sql::database& db, feed_log_options options)
    : store_(store), db_(db), options_(options) {}

feed_log::~feed_log() = default;

append_result feed_log::append(std::span<const stream_write> writes,
                               const std::optional<idempotency_key>& key) {
  return store_.append(writes, key);
}

std::optional<append_result> feed_log::find_idempotent(const idempotency_key& key) {
  return store_.find_idempotent(key);
}

std::vector<recorded_event> feed_log::read_stream(std::string_view stream_id,
                                                  std::int64_t from_version, std::size_t max) {
  return store_.read_stream(stream_id, from_version, max);
}

std::int64_t feed_log::stream_version(std::string_view stream_id) {
  return store_.stream_version(stream_id);
}

std::int64_t feed_log::refresh() {
  std::int64_t from = 0;
  {
    std::lock_guard lock(mutex_);
    from = std::max<std::int64_t>(contiguous_, 0);
  }
  auto session = db_.acquire();
  const auto pruned = session->query("SELECT through FROM projector_feed_pruned");
  const std::int64_t pruned_through = pruned.empty() ? 0 : pruned[0].integer(0);
  // Positions at or below the pruned mark were all consumed: the prefix reaches at least there.
  std::int64_t end = std::max(from, pruned_through);
  for (;;) {
    const sql::value params[] = {end};
    const auto rows = session->query(
        "SELECT global_position FROM projector_feed WHERE global_position > $1 "
        "ORDER BY global_position LIMIT 10000",
        params);
    std::size_t walked = 0;
    for (const auto& r : rows) {
      if (r.integer(0) != end + 1) break;
      ++end;
      ++walked;
    }
    if (walked < 10'000) break;
  }
  {
    std::lock_guard lock(mutex_);
    pruned_through_ = std::max(pruned_through_, pruned_through);
    contiguous_ = std::max(contiguous_, end);
    end = contiguous_;
  }
  changed_.notify_all();
  return end;
}

std::int64_t feed_log::head_position() {
  return refresh();
}

std::vector<recorded_event> feed_log::read_all(std::int64_t after_position, std::size_t max) {
  if (max == 0) return {};
  // The prefix only grows: while the cached end is ahead of the reader, there is no need to look
  // for new rows before reading (the projectors read in batches far more often than they catch
  // up with the head).
  std::int64_t head = 0;
  std::int64_t pruned_through = 0;
  {
    std::lock_guard lock(mutex_);
    head = contiguous_;
    pruned_through = pruned_through_;
  }
  if (head <= after_position) {
    head = refresh();
    std::lock_guard lock(mutex_);
    pruned_through = pruned_through_;
  }
  if (after_position < pruned_through) {
    const auto count = static_cast<std::size_t>(pruned_through - after_position);
    return store_.read_all(after_position, std::min(max, count));
  }
  if (after_position >= head) return {};
  auto session = db_.acquire();
  const sql::value params[] = {after_position, head, static_cast<std::int64_t>(max)};
  const auto rows = session->query("SELECT " + std::string(kColumns) +
                                       " FROM projector_feed WHERE global_position > $1 AND "
                                       "global_position <= $2 ORDER BY global_position LIMIT $3",
                                   params);
  std::vector<recorded_event> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto e = event_of(r);
    const auto expected = out.empty() ? after_position + 1 : out.back().global_position + 1;
    if (e.global_position != expected) {
      // Pruned between the two reads: what is gone from the feed is in the store.
      if (out.empty()) {
        return store_.read_all(
            after_position,
            std::min(max, static_cast<std::size_t>(e.global_position - 1 - after_position)));
      }
      break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

void feed_log::wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (contiguous_ <= position) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    if (!refreshing_) {
      // One waiter polls for all of them.
      refreshing_ = true;
      lock.unlock();
      try {
        refresh();
      } catch (...) {
        lock.lock();
        refreshing_ = false;
        throw;
      }
      lock.lock();
      refreshing_ = false;
      if (contiguous_ > position) return;
      changed_.wait_until(lock,
                          std::min(deadline, std::chrono::steady_clock::now() + options_.poll));
    } else {
      changed_.wait_until(lock, deadline);
    }
  }
}

void feed_log::notify() {
  { std::lock_guard lock(mutex_); }
  changed_.notify_all();
}

}  // namespace realmkit::infra::kafka
