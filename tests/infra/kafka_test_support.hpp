// What the Kafka tests share: reading a topic back with a plain librdkafka consumer, and waiting on
// conditions with deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace realmkit::testing::kafka {

struct kafka_record {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::string type_header;             // "" when missing
  std::string global_position_header;  // "" when missing
};

// Every record of the topic up to the partitions' high watermarks at the time of the call, in
// offset order per partition (partitions one after another). FAILs the test when they cannot be
// read within `timeout`.
std::vector<kafka_record> read_topic(const std::string& brokers, const std::string& topic,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The topic's partition count as the cluster reports it; 0 when the cluster does not list it.
int topic_partition_count(const std::string& brokers, const std::string& topic);

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace realmkit::testing::kafka
