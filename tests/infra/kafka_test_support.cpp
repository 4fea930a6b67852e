// Reads a topic back through the Kafka protocol, as a projector consumer would, without a group.
#include "tests/infra/kafka_test_support.hpp"

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <thread>

namespace realmkit::testing::kafka {

namespace {

struct handle_deleter {
  void operator()(rd_kafka_t* rk) const noexcept {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char reason[512];
  REQUIRE_MESSAGE(
      rd_kafka_conf_set(conf, name, value.c_str(), reason, sizeof reason) == RD_KAFKA_CONF_OK,
      reason);
}

std::string header(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return "";
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "";
  }
  return std::string(static_cast<const char*>(value), size);
}

int partition_count(rd_kafka_t* rk, const std::string& topic) {
  const rd_kafka_metadata_t* metadata = nullptr;
  REQUIRE(rd_kafka_metadata(rk, 1, nullptr, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  int partitions = 0;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic == metadata->topics[i].topic) partitions = metadata->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return partitions;
}

std::unique_ptr<rd_kafka_t, handle_deleter> make_consumer(const std::string& brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "group.id", "realmkit-test-reader");
  set(conf, "enable.auto.commit", "false");
  set(conf, "auto.offset.reset", "earliest");
  char reason[512];
  std::unique_ptr<rd_kafka_t, handle_deleter> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof reason));
  REQUIRE_MESSAGE(rk, reason);
  return rk;
}

}  // namespace

int topic_partition_count(const std::string& brokers, const std::string& topic) {
  return partition_count(make_consumer(brokers).get(), topic);
}

std::vector<kafka_record> read_topic(const std::string& brokers, const std::string& topic,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto rk = make_consumer(brokers);
  const int partitions = partition_count(rk.get(), topic);
  REQUIRE_MESSAGE(partitions > 0, "topic " << topic << " not found");

  std::map<std::int32_t, std::int64_t> high;  // partition → high watermark
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  std::size_t expected = 0;
  for (std::int32_t p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t hi = 0;
    REQUIRE(rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &hi, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    high[p] = hi;
    expected += static_cast<std::size_t>(hi - low);
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  REQUIRE(rd_kafka_assign(rk.get(), assignment) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(assignment);

  std::map<std::int32_t, std::vector<kafka_record>> by_partition;
  std::size_t received = 0;
  while (received < expected) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                    "read " << received << " of " << expected << " records of " << topic);
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset < high[m->partition]) {
      kafka_record r;
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      r.type_header = header(m, "type");
      r.global_position_header = header(m, "global_position");
      by_partition[m->partition].push_back(std::move(r));
      ++received;
    }
    rd_kafka_message_destroy(m);
  }
  std::vector<kafka_record> out;
  for (auto& [partition, records] : by_partition) {
    for (auto& r : records) out.push_back(std::move(r));
  }
  return out;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace realmkit::testing::kafka
