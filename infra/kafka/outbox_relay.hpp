// The outbox relay (the `relay` role of the distributed mode): tails the event store in global
// order and produces every event to Kafka (key = stream id, value = the envelope), moving a
// checkpoint only over events Kafka has acknowledged. One relay per name is active at a time; the
// others stand by and take over when it dies.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "infra/event_store.hpp"
#include "infra/kafka/kafka_settings.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"

struct rd_kafka_s;  // rd_kafka_t

namespace realmkit::infra::kafka {

enum class relay_state {
  stopped,   // not started, or stopped
  standby,   // another relay holds the lock; retrying every standby_retry
  active,    // holds the lock and produces
  retrying,  // failed (database, producer) and waits retry_backoff before trying again
};
std::string_view to_string(relay_state state);

struct relay_status {
  relay_state state = relay_state::stopped;
  std::int64_t checkpoint = 0;  // as last read or written
  std::int64_t head = 0;        // the store's head as last seen
  std::int64_t lag = 0;         // head - checkpoint
  std::uint64_t produced = 0;   // deliveries Kafka acknowledged, by this relay since it was built
  std::uint64_t in_flight = 0;  // produced and not yet acknowledged
  std::uint64_t delivery_failures = 0;
  std::uint64_t producer_restarts = 0;
  std::string last_error;  // empty until something failed
};

struct outbox_relay_options {
  kafka_settings kafka;
  // The checkpoint row and the advisory lock are per name (and per schema).
  std::string name = "events";
  // Events read from the store per read_all.
  std::size_t read_batch = 2'000;
  // Events produced and not yet acknowledged; reading pauses above this.
  std::size_t max_in_flight = 100'000;
  // The checkpoint is written at most this often, or after this many more acknowledged events:
  // a write per event would cap the relay at the database's commit rate.
  std::chrono::milliseconds checkpoint_interval{100};
  std::size_t checkpoint_events = 50'000;
  // A standby tries to take the lock this often.
  std::chrono::milliseconds standby_retry{1'000};
  // How long an idle active relay waits for an append before it checks again.
  std::chrono::milliseconds idle_wait{100};
  // After a failure (database, or a producer that had to be replaced), wait this long.
  std::chrono::milliseconds retry_backoff{1'000};
  // stop() waits this long for in-flight deliveries before writing the last checkpoint.
  std::chrono::milliseconds stop_timeout{5'000};
  // Create the topic (settings' partitions and replication) when the cluster does not list it.
  bool create_topic = true;
  std::chrono::milliseconds topic_create_timeout{10'000};
  // Nullable: relay metrics labelled relay=<name>.
  metrics_registry* metrics = nullptr;
  // Tests: runs on the relay's thread with each new producer's handle (valid until the relay
  // replaces that producer), e.g. to inject a fatal error with rd_kafka_test_fatal_error.
  std::function<void(rd_kafka_s*)> on_producer;
};

// Duplicates are possible after a takeover or a producer restart (events after the checkpoint are
// produced again); loss is not. Consumers drop an event whose stream version they have seen.
class outbox_relay final {
 public:
  // `store` reads the events; `db` (the same PostgreSQL schema as the store, migrated with it)
  // gives the dedicated session that holds the lock and writes the checkpoint. Both outlive the
  // relay. Throws kafka_config_error for a refused Kafka property.
  outbox_relay(event_store& store, sql::database& db, outbox_relay_options options);
  // Stops if running.
  ~outbox_relay();
  outbox_relay(const outbox_relay&) = delete;
  outbox_relay& operator=(const outbox_relay&) = delete;

  // Starts the relay's thread; it stands by or becomes active on its own.
  void start();
  // Waits up to stop_timeout for in-flight deliveries, writes the checkpoint, releases the lock
  // and joins the thread. Idempotent.
  void stop();
  relay_status status() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra::kafka
