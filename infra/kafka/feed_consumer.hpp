// The projector group's consumer (the `projector` role with Kafka): consumes the events topic as
// a member of a consumer group and writes what it consumed to the projector feed
// (projector_feed.hpp) in the same PostgreSQL transaction as the partitions' next offsets.
//
// Why it is shaped this way (ARCHITECTURE §3 invariants 3 and 5):
// - The offsets in PostgreSQL are the truth: on assignment the consumer seeks to them, and Kafka
//   offsets are never committed. A batch and its offsets commit together or not at all.
// - A consumer moves a partition's offset only from the value it read at assignment (or last
//   wrote), so a consumer that lost the partition in a rebalance and still commits a batch is
//   refused and seeks again: nothing is applied twice, nothing skipped.
// - A duplicate (the relay re-produces after a fail-over or a producer restart) has the global
//   position of its original and is dropped by the feed's key.
// - Consumed rows are pruned once every projection generation has applied them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infra/kafka/kafka_settings.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::infra::kafka {

struct feed_consumer_options {
  kafka_settings settings;
  std::string group = "realmkit-projectors";
  // Messages per transaction at most, and how long to gather them.
  std::size_t batch_messages = 5'000;
  std::chrono::milliseconds batch_wait{10};
  // After a database or Kafka failure.
  std::chrono::milliseconds retry_delay{1'000};
  // Pruning consumed rows: how often, and how many events behind the slowest generation to keep.
  std::chrono::milliseconds prune_every{10'000};
  std::int64_t prune_keep = 10'000;
  infra::metrics_registry* metrics = nullptr;
  // Called after every committed batch (the feed_log of this process wakes its readers).
  std::function<void()> on_commit;
};

struct feed_consumer_status {
  std::vector<int> partitions;  // assigned now
  std::uint64_t consumed = 0;   // messages committed to the feed by this process
  std::uint64_t refused = 0;    // messages that were not envelopes (logged, skipped)
  std::uint64_t stale = 0;      // batches refused because another member moved the offsets
  std::optional<std::string> error;
};

class feed_consumer final {
 public:
  // The database must outlive the consumer. Nothing runs before start(). Throws
  // kafka_config_error for settings librdkafka refuses.
  feed_consumer(sql::database& db, feed_consumer_options options);
  ~feed_consumer();
  feed_consumer(const feed_consumer&) = delete;
  feed_consumer& operator=(const feed_consumer&) = delete;

  void start();
  // Leaves the group (its partitions go to the other members) after the current batch.
  void stop();
  feed_consumer_status status() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra::kafka
