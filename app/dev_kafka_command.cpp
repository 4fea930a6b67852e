// `realmkit dev-kafka`: start the mock cluster, say where it is, and serve until told to stop.
#include "app/dev_kafka_command.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "infra/kafka/mock_cluster.hpp"

namespace realmkit::app {

int dev_kafka(const dev_kafka_options& options) {
  if (options.brokers < 1) throw std::invalid_argument("dev-kafka: --brokers must be at least 1");
  if (options.partitions < 1) {
    throw std::invalid_argument("dev-kafka: --partitions must be at least 1");
  }
  // Blocked before the brokers start so their threads inherit the mask and the signal reaches
  // sigwait below instead of a librdkafka thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  infra::kafka::mock_cluster cluster(options.brokers);
  const int replication = std::min(options.brokers, 3);
  for (const auto& topic : options.topics) {
    cluster.create_topic(topic, options.partitions, replication);
  }
  std::printf("bootstrap servers: %s\n", cluster.bootstrap_servers().c_str());
  for (const auto& topic : options.topics) {
    std::printf("topic %s: %d partitions, replication factor %d\n", topic.c_str(),
                options.partitions, replication);
  }
  std::fflush(stdout);  // scripts wait for these lines before starting the relay
  spdlog::info("kafka mock cluster with {} brokers at {}", options.brokers,
               cluster.bootstrap_servers());

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, stopping the kafka mock cluster",
               signal == SIGTERM ? "SIGTERM" : "SIGINT");
  return 0;
}

}  // namespace realmkit::app
