#include "infra/kafka/kafka_probe.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

namespace realmkit::infra::kafka {

void check_brokers(const kafka_settings& settings, std::chrono::milliseconds timeout) {
  if (settings.brokers.empty()) throw kafka_error("no Kafka brokers are configured");
  // Quiet: an unreachable broker is reported once, by the exception, not by a log per retry.
  auto conf = make_conf(settings, {{"log_level", "0"}});
  char reason[512] = "";
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof reason), &rd_kafka_destroy);
  if (!rk) throw kafka_error(std::string("cannot create a Kafka client: ") + reason);
  conf.release();  // rd_kafka_new took it
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err =
      rd_kafka_metadata(rk.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw kafka_error("Kafka at " + settings.brokers + " did not answer within " +
                      std::to_string(timeout.count()) + " ms: " + rd_kafka_err2str(err));
  }
  const int brokers = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  if (brokers == 0) throw kafka_error("Kafka at " + settings.brokers + " lists no brokers");
}

}  // namespace realmkit::infra::kafka
