// The projector group's feed against a real PostgreSQL store, the outbox relay and librdkafka's
// mock cluster: consumers of one group share the partitions and together write every event once;
// the feed is read back in global order only up to its first missing position; a member leaving
// hands its partitions over without loss; pruned history is read from the store.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "infra/event_envelope.hpp"
#include "infra/kafka/feed_consumer.hpp"
#include "infra/kafka/mock_cluster.hpp"
#include "infra/kafka/outbox_relay.hpp"
#include "infra/kafka/projector_feed.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "tests/infra/kafka_test_support.hpp"
#include "tests/infra/postgres_test_support.hpp"

using namespace realmkit;
using namespace std::chrono_literals;
using testing::kafka::wait_until;

namespace {

constexpr int kFeedPartitions = 4;

struct feed_fixture {
  infra::postgres_store_options store_options = testing::fresh_postgres_options();
  std::unique_ptr<infra::postgres_event_store> store =
      std::make_unique<infra::postgres_event_store>(store_options);
  std::unique_ptr<infra::sql::database> db = infra::sql::open_postgres_database(
      {.url = store_options.url, .schema = store_options.schema});
  infra::kafka::mock_cluster cluster{3};
  std::string topic = "realmkit.events";
  infra::kafka::feed_log feed{*store, *db, {.poll = 5ms}};
  int next_event = 0;

  feed_fixture() { cluster.create_topic(topic, kFeedPartitions, 1); }

  infra::kafka::kafka_settings settings() const {
    infra::kafka::kafka_settings s;
    s.brokers = cluster.bootstrap_servers();
    s.topic = topic;
    s.partitions = kFeedPartitions;
    return s;
  }

  std::unique_ptr<infra::kafka::outbox_relay> relay() {
    infra::kafka::outbox_relay_options o;
    o.kafka = settings();
    o.checkpoint_interval = 50ms;
    o.idle_wait = 20ms;
    o.standby_retry = 100ms;
    o.retry_backoff = 100ms;
    auto r = std::make_unique<infra::kafka::outbox_relay>(*store, *db, std::move(o));
    r->start();
    return r;
  }

  std::unique_ptr<infra::kafka::feed_consumer> consumer() {
    infra::kafka::feed_consumer_options o;
    o.settings = settings();
    o.batch_wait = 5ms;
    o.retry_delay = 100ms;
    o.on_commit = [this] { feed.notify(); };
    auto c = std::make_unique<infra::kafka::feed_consumer>(*db, std::move(o));
    c->start();
    return c;
  }

  // One event on each of `streams` streams per round, so positions interleave partitions.
  std::int64_t append(int streams, int rounds) {
    std::int64_t last = 0;
    for (int r = 0; r < rounds; ++r) {
      std::vector<infra::stream_write> writes;
      for (int s = 0; s < streams; ++s) {
        infra::stream_write w{
            .stream_id = "deal-" + std::to_string(s), .expected = std::nullopt, .events = {}};
        w.events.push_back({.event_id = "e-" + std::to_string(++next_event),
                            .type = "deal.noted.v1",
                            .schema_version = 1,
                            .data = R"({"n":)" + std::to_string(next_event) + R"(,"t":"Zoë"})",
                            .metadata = R"({"actor":"tester"})"});
        writes.push_back(std::move(w));
      }
      last = store->append(writes, std::nullopt).position;
    }
    return last;
  }

  // The feed read from its start equals the store, byte for byte, in global order.
  void check_feed_equals_store() {
    const auto stored = store->read_all(0, 1'000'000);
    std::vector<infra::recorded_event> read;
    for (std::int64_t after = 0;;) {
      const auto batch = feed.read_all(after, 97);
      if (batch.empty()) break;
      for (const auto& e : batch) read.push_back(e);
      after = batch.back().global_position;
    }
    REQUIRE(read.size() == stored.size());
    for (std::size_t i = 0; i < read.size(); ++i) {
      CHECK(infra::encode_envelope(read[i]) == infra::encode_envelope(stored[i]));
    }
  }

  std::int64_t feed_rows() const {
    return std::stoll(
        testing::postgres_query_value(store_options.schema, "SELECT count(*) FROM projector_feed"));
  }
};

}  // namespace

TEST_SUITE("kafka") {
  TEST_CASE("kafka feed: two consumers of one group write every event once, in global order") {
    feed_fixture f;
    auto relay = f.relay();
    auto first = f.consumer();
    auto second = f.consumer();
    const auto head = f.append(7, 60);
    REQUIRE(wait_until([&] { return f.feed.head_position() >= head; }, 20s));
    f.check_feed_equals_store();
    CHECK(f.feed_rows() == head);
    // The group shared the partitions, and the offsets they stored cover everything consumed.
    REQUIRE(wait_until(
        [&] {
          return first->status().partitions.size() + second->status().partitions.size() ==
                 static_cast<std::size_t>(kFeedPartitions);
        },
        10s));
    CHECK(first->status().consumed + second->status().consumed >= static_cast<std::uint64_t>(head));
    CHECK(testing::postgres_query_value(f.store_options.schema,
                                        "SELECT count(*) FROM projector_offsets") ==
          std::to_string(kFeedPartitions));
  }

  TEST_CASE("kafka feed: a member that leaves hands its partitions over without loss") {
    feed_fixture f;
    auto relay = f.relay();
    auto first = f.consumer();
    auto second = f.consumer();
    const auto before = f.append(5, 30);
    REQUIRE(wait_until([&] { return f.feed.head_position() >= before; }, 20s));
    second->stop();
    second.reset();
    const auto after = f.append(5, 30);
    REQUIRE(wait_until([&] { return f.feed.head_position() >= after; }, 20s));
    CHECK(first->status().partitions.size() == static_cast<std::size_t>(kFeedPartitions));
    f.check_feed_equals_store();
    // A new member starts from the stored offsets, not from the beginning of the topic.
    auto third = f.consumer();
    const auto last = f.append(5, 10);
    REQUIRE(wait_until([&] { return f.feed.head_position() >= last; }, 20s));
    f.check_feed_equals_store();
    CHECK(f.feed_rows() == last);
  }

  TEST_CASE("kafka feed: duplicates from a relay that produces again change nothing") {
    feed_fixture f;
    auto consumer = f.consumer();
    const auto head = f.append(3, 20);
    {
      auto relay = f.relay();
      REQUIRE(wait_until([&] { return f.feed.head_position() >= head; }, 20s));
    }
    // As after a fail-over: the checkpoint is lost and a relay produces everything again.
    testing::postgres_exec(f.store_options.schema, "DELETE FROM relay_checkpoints");
    auto again = f.relay();
    REQUIRE(wait_until(
        [&] { return consumer->status().consumed >= static_cast<std::uint64_t>(2 * head); }, 20s));
    CHECK(f.feed_rows() == head);
    f.check_feed_equals_store();
  }

  TEST_CASE(
      "kafka feed: reads stop at the first missing position, and pruned history comes from "
      "the store") {
    feed_fixture f;
    const auto head = f.append(2, 5);  // positions 1..10, in the store only
    const auto stored = f.store->read_all(0, 100);
    auto put = [&](const infra::recorded_event& e) {
      testing::postgres_exec(
          f.store_options.schema,
          "INSERT INTO projector_feed VALUES (" + std::to_string(e.global_position) + ", '" +
              e.event_id + "', '" + e.stream_id + "', " + std::to_string(e.stream_version) + ", '" +
              e.type + "', 1, " + std::to_string(e.recorded_at.time_since_epoch().count()) + ", '" +
              e.data + "', '" + e.metadata + "')");
    };
    CHECK(f.feed.head_position() == 0);
    for (const int p : {1, 2, 3, 5, 6}) put(stored[p - 1]);
    CHECK(f.feed.head_position() == 3);
    auto read = f.feed.read_all(0, 100);
    REQUIRE(read.size() == 3);
    CHECK(read.back().global_position == 3);
    CHECK(f.feed.read_all(3, 100).empty());
    put(stored[3]);
    CHECK(f.feed.head_position() == 6);
    // Pruned through 4: those positions come from the store; the feed serves the rest.
    testing::postgres_exec(f.store_options.schema,
                           "DELETE FROM projector_feed WHERE global_position <= 4; "
                           "UPDATE projector_feed_pruned SET through = 4");
    for (const int p : {7, 8, 9, 10}) put(stored[p - 1]);
    f.check_feed_equals_store();
    CHECK(f.feed.head_position() == head);
  }
}
