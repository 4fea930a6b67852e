// The mock cluster lives inside a librdkafka client handle, which owns its broker threads.
#include "infra/kafka/mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "infra/kafka/kafka_settings.hpp"

namespace realmkit::infra::kafka {

namespace {

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw kafka_error("mock cluster: " + what + ": " + rd_kafka_err2str(err));
  }
}

// The mock brokers log through their handle; a broker taken down on purpose logs connection
// errors that are noise at info level.
void log_to_spdlog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  spdlog::debug("kafka mock [{}:{}] {}", level, facility, message);
}

}  // namespace

struct mock_cluster::impl {
  struct handle_deleter {
    void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
  };
  struct cluster_deleter {
    void operator()(rd_kafka_mock_cluster_t* c) const noexcept { rd_kafka_mock_cluster_destroy(c); }
  };
  int brokers = 0;
  // Declared first so it is destroyed last: the cluster runs on the handle's threads.
  std::unique_ptr<rd_kafka_t, handle_deleter> handle;
  std::unique_ptr<rd_kafka_mock_cluster_t, cluster_deleter> cluster;
};

mock_cluster::mock_cluster(int brokers) : impl_(std::make_unique<impl>()) {
  if (brokers < 1) throw std::invalid_argument("mock cluster: at least one broker");
  impl_->brokers = brokers;
  auto conf = make_conf(kafka_settings{.client_id = "realmkit-mock-cluster"});
  rd_kafka_conf_set_log_cb(conf.get(), log_to_spdlog);
  char reason[512] = "";
  impl_->handle.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof reason));
  if (!impl_->handle) throw kafka_error(std::string("mock cluster: ") + reason);
  conf.release();  // rd_kafka_new took it
  impl_->cluster.reset(rd_kafka_mock_cluster_new(impl_->handle.get(), brokers));
  if (!impl_->cluster) throw kafka_error("mock cluster: could not start the brokers");
}

mock_cluster::~mock_cluster() = default;

int mock_cluster::broker_count() const {
  return impl_->brokers;
}

std::string mock_cluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(impl_->cluster.get());
}

void mock_cluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
  check(rd_kafka_mock_topic_create(impl_->cluster.get(), topic.c_str(), partitions,
                                   replication_factor),
        "create topic " + topic);
}

void mock_cluster::set_broker_down(std::int32_t broker_id) {
  check(rd_kafka_mock_broker_set_down(impl_->cluster.get(), broker_id),
        "set broker " + std::to_string(broker_id) + " down");
}

void mock_cluster::set_broker_up(std::int32_t broker_id) {
  check(rd_kafka_mock_broker_set_up(impl_->cluster.get(), broker_id),
        "set broker " + std::to_string(broker_id) + " up");
}

void mock_cluster::set_partition_leader(const std::string& topic, std::int32_t partition,
                                        std::int32_t broker_id) {
  check(
      rd_kafka_mock_partition_set_leader(impl_->cluster.get(), topic.c_str(), partition, broker_id),
      "set the leader of " + topic + "/" + std::to_string(partition));
}

void mock_cluster::push_request_errors(std::int16_t api_key, std::initializer_list<int> errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(impl_->cluster.get(), api_key, codes.size(),
                                          codes.data());
}

void mock_cluster::clear_request_errors(std::int16_t api_key) {
  rd_kafka_mock_clear_request_errors(impl_->cluster.get(), api_key);
}

}  // namespace realmkit::infra::kafka
