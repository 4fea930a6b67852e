// Where Kafka is and how RealmKit's clients talk to it: the settings every Kafka client of the
// process shares, and the librdkafka configuration built from them. librdkafka's headers stay in
// the .cpp files; its handles cross headers only as opaque pointers.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct rd_kafka_conf_s;  // rd_kafka_conf_t

namespace realmkit::infra::kafka {

// librdkafka property name → value, e.g. {"linger.ms", "5"}.
using kafka_properties = std::vector<std::pair<std::string, std::string>>;

struct kafka_settings {
  // Bootstrap servers, "host:port,host:port" (REALMKIT_KAFKA_BROKERS).
  std::string brokers;
  std::string topic = "realmkit.events";
  // Used only when the topic is created: the key (stream id) picks the partition, so changing the
  // count of an existing topic would move streams between partitions and break per-stream order.
  int partitions = 12;
  // -1: the cluster's default.replication.factor.
  int replication_factor = -1;
  std::string client_id = "realmkit";
  // Extra librdkafka properties (security.protocol, sasl.*, tuning), applied after RealmKit's
  // defaults and before the settings a client cannot work without.
  kafka_properties properties;
};

// A property librdkafka refused: property() names it, what() carries librdkafka's message.
class kafka_config_error final : public std::invalid_argument {
 public:
  kafka_config_error(std::string property, const std::string& reason);
  const std::string& property() const { return property_; }

 private:
  std::string property_;
};

// librdkafka failed at run time (a client could not be created, an admin request failed).
class kafka_error final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "key=value,key=value" (spaces around items are ignored) → properties. Throws kafka_config_error
// for an item without '=' or with an empty key.
kafka_properties parse_kafka_properties(std::string_view text);

namespace detail {
struct conf_deleter {
  void operator()(rd_kafka_conf_s* conf) const noexcept;
};
}  // namespace detail
using conf_ptr = std::unique_ptr<rd_kafka_conf_s, detail::conf_deleter>;

// A new librdkafka configuration: bootstrap.servers and client.id from the settings, then
// `defaults`, then settings.properties, then `required` (what the caller's correctness depends
// on, e.g. enable.idempotence). Throws kafka_config_error naming the first property refused.
conf_ptr make_conf(const kafka_settings& settings, const kafka_properties& defaults = {},
                   const kafka_properties& required = {});

}  // namespace realmkit::infra::kafka
