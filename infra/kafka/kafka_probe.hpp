// A start-up check that the configured Kafka cluster answers, so a wrong address or a cluster
// that is down stops a process with a clear message instead of stalling it.
#pragma once

#include <chrono>

#include "infra/kafka/kafka_settings.hpp"

namespace realmkit::infra::kafka {

// Asks the brokers for the cluster's metadata. Throws kafka_error naming the brokers and
// librdkafka's reason when none answers within `timeout`, kafka_config_error for refused settings.
void check_brokers(const kafka_settings& settings,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace realmkit::infra::kafka
