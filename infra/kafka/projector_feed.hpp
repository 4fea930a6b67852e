// The projectors' view of the global log in the distributed mode: the events the projector group
// consumed from Kafka (feed_consumer.hpp writes them to the projector_feed table), read back in
// global order up to the first position not consumed yet, so projections see a gap-free prefix
// (ARCHITECTURE §3 invariant 3) although Kafka orders each partition only. History the feed no
// longer keeps (pruned, or from before the feed existed) comes from the event store, so a
// rebuild reads the whole log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::infra::kafka {

struct feed_log_options {
  // How often a waiter looks for positions another process's consumer wrote (this process's
  // consumer wakes waiters at once).
  std::chrono::milliseconds poll{20};
};

// An event store whose global reads come from the feed: read_all, head_position and
// wait_for_append. Everything else (appends, stream reads) goes to `store`. Thread-safe; the
// store and database must outlive it.
class feed_log final : public event_store {
 public:
  feed_log(event_store& store, sql::database& db, feed_log_options options = {});
  ~feed_log() override;

  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) override;
  std::optional<append_result> find_idempotent(const idempotency_key& key) override;
  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from_version,
                                          std::size_t max) override;
  std::int64_t stream_version(std::string_view stream_id) override;

  // Events after `after_position` in global order, never past the feed's first missing
  // position.
  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) override;
  // The end of the feed's gap-free prefix.
  std::int64_t head_position() override;
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override;

  // The consumer of this process committed new rows: wakes the waiters.
  void notify();

 private:
  std::int64_t refresh();

  event_store& store_;
  sql::database& db_;
  feed_log_options options_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  std::int64_t contiguous_ = -1;  // end of the gap-free prefix (-1: not read yet)
  std::int64_t pruned_through_ = 0;
  bool refreshing_ = false;
};

}  // namespace realmkit::infra::kafka
