// librdkafka's built-in mock cluster: real Kafka-protocol brokers inside this process, listening on
// loopback, for tests and `realmkit dev-kafka`. Clients (here or in other processes) reach it at
// bootstrap_servers() exactly as they would reach a real cluster.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace realmkit::infra::kafka {

class mock_cluster final {
 public:
  // Kafka protocol API keys, for push_request_errors.
  static constexpr std::int16_t kProduceApi = 0;
  static constexpr std::int16_t kFetchApi = 1;
  static constexpr std::int16_t kMetadataApi = 3;

  // Starts `brokers` brokers with ids 1..brokers. Throws kafka_error when librdkafka cannot.
  explicit mock_cluster(int brokers = 3);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  int broker_count() const;
  // "127.0.0.1:port,..."
  std::string bootstrap_servers() const;

  // Throws kafka_error when the mock refuses (e.g. a replication factor above the broker count).
  void create_topic(const std::string& topic, int partitions, int replication_factor = 1);
  // A broker that is down drops its connections and refuses new ones until set up again.
  void set_broker_down(std::int32_t broker_id);
  void set_broker_up(std::int32_t broker_id);
  void set_partition_leader(const std::string& topic, std::int32_t partition,
                            std::int32_t broker_id);
  // The next requests of this API (to any broker) fail with these error codes
  // (rd_kafka_resp_err_t values), one per request, in order.
  void push_request_errors(std::int16_t api_key, std::initializer_list<int> errors);
  // Forgets errors pushed for this API and not yet returned.
  void clear_request_errors(std::int16_t api_key);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra::kafka
