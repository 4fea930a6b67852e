// What one `realmkit serve` process runs (its roles) and where the distributed mode's shared
// services are (Kafka, Redis), with the rules that refuse a configuration that cannot work before
// anything is opened.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace realmkit::app {

// The roles of ARCHITECTURE §2. The embedded default runs all of them in one process.
struct role_set {
  bool api = true;        // the HTTP API
  bool hub = true;        // /ws sessions and their rooms
  bool projector = true;  // read models, analytics views and room updates
  bool relay = true;      // the event store → Kafka outbox relay

  // "api,hub,projector,relay" in any order and subset, or "all". Throws cli_error naming the
  // unknown role, or for an empty list.
  static role_set parse(std::string_view list);
  std::string to_string() const;
  bool all() const { return api && hub && projector && relay; }
  bool none() const { return !api && !hub && !projector && !relay; }
  bool operator==(const role_set&) const = default;
};

struct kafka_options {
  std::string brokers;  // host:port,...; empty: projectors follow the store in process
  std::string topic = "realmkit.events";
  std::string group = "realmkit-projectors";  // the projectors' consumer group
  int partitions = 12;                        // of the topic, when the relay creates it
  int replication_factor = -1;                // -1: the brokers' default
  // Extra librdkafka properties, "name=value" (security.protocol, sasl.*, …).
  std::vector<std::string> properties;
};

struct cluster_options {
  role_set roles;
  kafka_options kafka;
  std::string redis_url;  // empty: room updates and limits stay in process
  // Accept a PostgreSQL that may lose acknowledged commits (fsync or synchronous_commit off):
  // for throw-away test servers only.
  bool unsafe_durability = false;

  bool distributed_bus() const { return !kafka.brokers.empty(); }
  bool shared_redis() const { return !redis_url.empty(); }
};

// Throws cli_error, with what to change, for a configuration that cannot work: a role subset or
// Kafka/Redis on the embedded SQLite store (other processes cannot share it), the relay asked
// for without Kafka, a hub that no projector can reach, partitions out of range, a property
// that is not name=value.
void validate(const cluster_options& cluster, bool postgres);

// A librdkafka property whose value must not be printed or logged (passwords, keys, tokens).
bool is_secret_property(std::string_view name);

}  // namespace realmkit::app
