// `realmkit dev-kafka`: a Kafka cluster for development on this machine (librdkafka's mock
// brokers, in this process), so the distributed mode runs without installing Kafka.
#pragma once

#include <string>
#include <vector>

namespace realmkit::app {

struct dev_kafka_options {
  int brokers = 3;
  // Created at start with `partitions` partitions each (replicated on up to 3 brokers).
  std::vector<std::string> topics = {"realmkit.events"};
  int partitions = 12;
};

// Prints "bootstrap servers: host:port,..." and one line per topic on stdout, then serves until
// SIGINT or SIGTERM and returns 0. The cluster keeps its data in memory: it is gone on exit.
// Throws on bad options or when the brokers cannot start.
int dev_kafka(const dev_kafka_options& options);

}  // namespace realmkit::app
