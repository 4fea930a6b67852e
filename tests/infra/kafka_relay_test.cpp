// The outbox relay against a real PostgreSQL store and librdkafka's mock cluster, read back with a
// plain consumer: every event reaches the topic in per-stream order, the checkpoint covers only
// acknowledged events, one relay is active at a time, and failures cost duplicates, never events.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "infra/event_envelope.hpp"
#include "infra/kafka/kafka_settings.hpp"
#include "infra/kafka/mock_cluster.hpp"
#include "infra/kafka/outbox_relay.hpp"
#include "infra/metrics.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "tests/infra/kafka_test_support.hpp"
#include "tests/infra/postgres_test_support.hpp"

using namespace realmkit;
using namespace std::chrono_literals;
using infra::kafka::outbox_relay;
using infra::kafka::outbox_relay_options;
using infra::kafka::relay_state;
using testing::kafka::wait_until;

namespace {

constexpr int kPartitions = 6;

// A fresh store schema, its read-model database, and a mock cluster with the topic created.
struct relay_fixture {
  infra::postgres_store_options store_options = testing::fresh_postgres_options();
  std::unique_ptr<infra::postgres_event_store> store =
      std::make_unique<infra::postgres_event_store>(store_options);
  std::unique_ptr<infra::sql::database> db = infra::sql::open_postgres_database(
      {.url = store_options.url, .schema = store_options.schema});
  infra::kafka::mock_cluster cluster{3};
  std::string topic = "realmkit.events";
  std::map<std::string, std::int64_t> versions;  // stream → events appended
  int next_event = 0;

  relay_fixture() { cluster.create_topic(topic, kPartitions, 1); }

  outbox_relay_options options() const {
    outbox_relay_options o;
    o.kafka.brokers = cluster.bootstrap_servers();
    o.kafka.topic = topic;
    o.kafka.partitions = kPartitions;
    // A broker that comes back is found again within half a second.
    // One request in flight: the mock cluster does not check an idempotent producer's sequence
    // numbers, so with requests pipelined a failed one's retry could land after a later one (see
    // the cluster harness).
    o.kafka.properties = {{"reconnect.backoff.max.ms", "500"},
                          {"retry.backoff.ms", "50"},
                          {"max.in.flight.requests.per.connection", "1"}};
    o.checkpoint_interval = 50ms;
    o.standby_retry = 100ms;
    o.retry_backoff = 100ms;
    o.idle_wait = 50ms;
    o.stop_timeout = 3s;
    return o;
  }

  // `rounds` appends, each adding one event to each of `streams` streams, so positions interleave
  // the streams.
  void append(int streams, int rounds) {
    for (int r = 0; r < rounds; ++r) {
      std::vector<infra::stream_write> writes;
      for (int s = 0; s < streams; ++s) {
        const auto stream = "deal-" + std::to_string(s);
        auto& version = versions[stream];
        infra::stream_write w{.stream_id = stream, .expected = version, .events = {}};
        ++version;
        w.events.push_back(
            {.event_id = "event-" + std::to_string(++next_event),
             .type = "deal.noted.v1",
             .schema_version = 1,
             .data =
                 R"({"n":)" + std::to_string(version) + R"(,"text":"Zoë 😀","nested":{"a":[1]}})",
             .metadata = R"({"actor":"tester","correlation_id":"c-)" + std::to_string(r) + "\"}"});
        writes.push_back(std::move(w));
      }
      store->append(writes, std::nullopt);
    }
  }

  std::int64_t checkpoint_row() const {
    const auto v = testing::postgres_query_value(
        store_options.schema, "SELECT position FROM relay_checkpoints WHERE name = 'events'");
    return v.empty() ? 0 : std::stoll(v);
  }

  // Reads the topic, drops duplicates (a version already seen in its stream) and checks the rest:
  // each record is its stored event byte for byte, each stream stays in one partition with its
  // versions 1..n in order, and every stored event is there. Returns the duplicates dropped.
  std::size_t check_topic() {
    const auto records = testing::kafka::read_topic(cluster.bootstrap_servers(), topic);
    const auto stored = store->read_all(0, 1'000'000);
    std::map<std::string, std::int64_t> last;       // stream → last version kept
    std::map<std::string, std::int32_t> partition;  // stream → its partition
    std::size_t duplicates = 0;
    for (const auto& r : records) {
      const auto e = infra::decode_envelope(r.value);
      REQUIRE(e.global_position >= 1);
      REQUIRE(e.global_position <= static_cast<std::int64_t>(stored.size()));
      const auto& original = stored[static_cast<std::size_t>(e.global_position - 1)];
      CHECK(r.value == infra::encode_envelope(original));
      CHECK(r.key == e.stream_id);
      CHECK(r.type_header == e.type);
      CHECK(r.global_position_header == std::to_string(e.global_position));
      const auto [it, first] = partition.emplace(e.stream_id, r.partition);
      CHECK(it->second == r.partition);
      auto& seen = last[e.stream_id];
      if (e.stream_version <= seen) {
        ++duplicates;
        continue;
      }
      CHECK_MESSAGE(e.stream_version == seen + 1, "stream " << e.stream_id << " jumps from " << seen
                                                            << " to " << e.stream_version);
      seen = e.stream_version;
    }
    CHECK(records.size() == stored.size() + duplicates);
    CHECK(last == versions);
    return duplicates;
  }
};

bool reaches(const outbox_relay& relay, std::int64_t checkpoint) {
  return wait_until([&] { return relay.status().checkpoint >= checkpoint; }, 8s);
}

}  // namespace

TEST_SUITE("kafka") {
  TEST_CASE("kafka settings build a configuration and name a refused property") {
    using infra::kafka::kafka_config_error;
    const auto props = infra::kafka::parse_kafka_properties(" linger.ms=7 , acks = all,,");
    REQUIRE(props.size() == 2);
    CHECK(props[0] == std::pair<std::string, std::string>{"linger.ms", "7"});
    CHECK(props[1] == std::pair<std::string, std::string>{"acks", "all"});
    CHECK_THROWS_AS(infra::kafka::parse_kafka_properties("linger.ms"), kafka_config_error);
    CHECK_THROWS_AS(infra::kafka::parse_kafka_properties("=5"), kafka_config_error);

    infra::kafka::kafka_settings settings;
    settings.brokers = "127.0.0.1:9092";
    CHECK(infra::kafka::make_conf(settings, {{"linger.ms", "5"}}) != nullptr);
    settings.properties = {{"no.such.property", "1"}};
    try {
      infra::kafka::make_conf(settings);
      FAIL("accepted an unknown property");
    } catch (const kafka_config_error& e) {
      CHECK(e.property() == "no.such.property");
      CHECK(std::string(e.what()).find("No such configuration property") != std::string::npos);
    }
    settings.properties = {{"linger.ms", "not a number"}};
    CHECK_THROWS_WITH_AS(infra::kafka::make_conf(settings), doctest::Contains("linger.ms"),
                         kafka_config_error);
  }

  TEST_CASE("kafka relay produces every event once in per-stream order with the envelope intact") {
    relay_fixture f;
    f.append(40, 25);  // 1,000 events
    infra::metrics_registry metrics;
    auto options = f.options();
    options.metrics = &metrics;
    outbox_relay relay(*f.store, *f.db, options);
    relay.start();
    REQUIRE(reaches(relay, 1'000));
    CHECK(relay.status().state == relay_state::active);

    f.append(7, 30);  // live tail: 210 more while running
    REQUIRE(reaches(relay, 1'210));
    CHECK(f.checkpoint_row() == 1'210);
    CHECK(f.check_topic() == 0);
    const auto s = relay.status();
    CHECK(s.produced == 1'210);
    CHECK(s.head == 1'210);
    CHECK(s.lag == 0);
    CHECK(s.delivery_failures == 0);
    CHECK(s.producer_restarts == 0);
    CHECK(s.last_error.empty());
    const auto exposed = metrics.expose();
    CHECK(exposed.find("realmkit_relay_events_produced_total{relay=\"events\"} 1210") !=
          std::string::npos);
    CHECK(exposed.find("realmkit_relay_checkpoint_position{relay=\"events\"} 1210") !=
          std::string::npos);
    CHECK(exposed.find("realmkit_relay_state{relay=\"events\",state=\"active\"} 1") !=
          std::string::npos);
    relay.stop();
    CHECK(relay.status().state == relay_state::stopped);
  }

  // The mock brokers never answer CreateTopics (a real cluster does), so this pins the fallback:
  // a bounded wait, then the cluster's auto-creation, and every event still delivered.
  TEST_CASE("kafka relay with a missing topic waits a bounded time for CreateTopics and delivers") {
    relay_fixture f;
    f.topic = "realmkit.created";  // not created by the fixture
    f.append(4, 5);
    auto options = f.options();
    options.kafka.partitions = 5;
    options.topic_create_timeout = 500ms;
    outbox_relay relay(*f.store, *f.db, options);
    relay.start();
    REQUIRE(reaches(relay, 20));
    CHECK(testing::kafka::topic_partition_count(f.cluster.bootstrap_servers(), f.topic) > 0);
    CHECK(f.check_topic() == 0);
    CHECK(relay.status().producer_restarts == 0);
  }

  TEST_CASE("kafka relay checkpoint covers only acknowledged events while a broker is down") {
    relay_fixture f;
    for (int p = 0; p < kPartitions; ++p) f.cluster.set_partition_leader(f.topic, p, 1);
    f.append(10, 10);
    outbox_relay relay(*f.store, *f.db, f.options());
    relay.start();
    REQUIRE(reaches(relay, 100));

    f.cluster.set_broker_down(1);  // the leader of every partition
    f.append(10, 20);              // positions 101..300
    REQUIRE(wait_until([&] { return relay.status().in_flight == 200; }, 5s));
    // Nothing is acknowledged, so nothing may be checkpointed, however long it waits.
    const auto later = std::chrono::steady_clock::now() + 500ms;
    while (std::chrono::steady_clock::now() < later) {
      CHECK(relay.status().checkpoint == 100);
      std::this_thread::sleep_for(20ms);
    }
    CHECK(f.checkpoint_row() == 100);

    f.cluster.set_broker_up(1);
    REQUIRE(reaches(relay, 300));
    CHECK(f.checkpoint_row() == 300);
    CHECK(f.check_topic() == 0);
    CHECK(relay.status().producer_restarts == 0);
  }

  TEST_CASE("kafka relay restart resumes from the checkpoint") {
    relay_fixture f;
    f.append(5, 40);
    {
      outbox_relay relay(*f.store, *f.db, f.options());
      relay.start();
      REQUIRE(reaches(relay, 200));
      relay.stop();
    }
    CHECK(f.checkpoint_row() == 200);
    f.append(5, 20);  // written while no relay runs

    outbox_relay relay(*f.store, *f.db, f.options());
    relay.start();
    REQUIRE(reaches(relay, 300));
    CHECK(relay.status().produced == 100);  // only what came after the checkpoint
    CHECK(f.check_topic() == 0);
  }

  TEST_CASE(
      "kafka two relays - only one is active and the standby takes over when it is destroyed") {
    relay_fixture f;
    f.append(8, 25);
    auto first = std::make_unique<outbox_relay>(*f.store, *f.db, f.options());
    first->start();
    REQUIRE(reaches(*first, 200));
    outbox_relay second(*f.store, *f.db, f.options());
    second.start();
    REQUIRE(wait_until([&] { return second.status().state == relay_state::standby; }, 5s));
    // The standby follows the active one's checkpoint and produces nothing itself.
    f.append(8, 10);
    REQUIRE(reaches(*first, 280));
    REQUIRE(reaches(second, 280));
    CHECK(second.status().produced == 0);
    CHECK(second.status().state == relay_state::standby);

    first.reset();
    REQUIRE(wait_until([&] { return second.status().state == relay_state::active; }, 5s));
    f.append(8, 15);
    REQUIRE(reaches(second, 400));
    CHECK(second.status().produced == 120);
    CHECK(f.checkpoint_row() == 400);
    CHECK(f.check_topic() == 0);
  }

  TEST_CASE("kafka standby takes over when the active relay loses its database session") {
    relay_fixture f;
    f.append(6, 50);
    outbox_relay a(*f.store, *f.db, f.options());
    a.start();
    REQUIRE(reaches(a, 300));
    outbox_relay b(*f.store, *f.db, f.options());
    b.start();
    REQUIRE(wait_until([&] { return b.status().state == relay_state::standby; }, 5s));

    // What a crashed process or a network partition does: the lock's session ends.
    const auto killed = testing::postgres_query_value(
        f.store_options.schema,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND "
        "granted AND ((classid::bigint << 32) | objid::bigint) = "
        "hashtextextended('realmkit.relay/' "
        "|| current_schema() || '/events', 0)");
    CHECK(killed == "1");
    f.append(6, 50);
    // The lost relay notices at its next write, stands down, and exactly one relay carries on.
    REQUIRE(wait_until(
        [&] {
          const auto sa = a.status();
          const auto sb = b.status();
          return (sa.state == relay_state::active) != (sb.state == relay_state::active) &&
                 std::max(sa.checkpoint, sb.checkpoint) >= 600;
        },
        8s));
    CHECK(f.checkpoint_row() == 600);
    f.check_topic();  // the lost relay may have produced a few events again: duplicates only
  }

  TEST_CASE("kafka retriable Produce errors are retried and every event is delivered once") {
    relay_fixture f;
    f.append(10, 30);
    f.cluster.push_request_errors(
        infra::kafka::mock_cluster::kProduceApi,
        {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
         RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
         RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION});
    outbox_relay relay(*f.store, *f.db, f.options());
    relay.start();
    REQUIRE(reaches(relay, 300));
    const auto s = relay.status();
    CHECK(s.produced == 300);
    CHECK(s.delivery_failures == 0);
    CHECK(s.producer_restarts == 0);
    CHECK(f.check_topic() == 0);
  }

  TEST_CASE("kafka a fatal producer error replaces the producer and resumes from the checkpoint") {
    relay_fixture f;
    f.append(10, 10);
    std::atomic<rd_kafka_t*> producer{nullptr};
    std::atomic<int> producers{0};
    auto options = f.options();
    options.on_producer = [&](rd_kafka_t* rk) {
      producer = rk;
      ++producers;
    };
    outbox_relay relay(*f.store, *f.db, options);
    relay.start();
    REQUIRE(reaches(relay, 100));
    REQUIRE(producers == 1);

    // What librdkafka raises when the idempotent producer's guarantees cannot hold any more.
    REQUIRE(rd_kafka_test_fatal_error(producer.load(),
                                      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                      "injected") == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(wait_until([&] { return relay.status().producer_restarts == 1; }, 5s));
    f.append(10, 10);
    REQUIRE(reaches(relay, 200));
    const auto s = relay.status();
    CHECK(producers == 2);
    CHECK(s.producer_restarts == 1);
    CHECK(s.last_error.find("fatal producer error") != std::string::npos);
    CHECK(s.last_error.find("injected") != std::string::npos);
    CHECK(s.state == relay_state::active);
    CHECK(f.checkpoint_row() == 200);
    f.check_topic();  // duplicates allowed after the restart; loss and disorder are not
  }

  TEST_CASE("kafka a failed delivery replaces the producer and resumes from the checkpoint") {
    relay_fixture f;
    f.append(10, 10);
    outbox_relay relay(*f.store, *f.db, f.options());
    relay.start();
    REQUIRE(reaches(relay, 100));

    // Permanent errors: librdkafka gives up on those messages at once.
    f.cluster.push_request_errors(infra::kafka::mock_cluster::kProduceApi,
                                  {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                   RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
    f.append(10, 20);
    REQUIRE(reaches(relay, 300));
    const auto s = relay.status();
    CHECK(s.producer_restarts >= 1);
    CHECK(s.delivery_failures >= 1);
    CHECK(s.last_error.find("Topic authorization failed") != std::string::npos);
    CHECK(s.state == relay_state::active);
    CHECK(f.checkpoint_row() == 300);
    f.check_topic();  // duplicates allowed here; loss and disorder are not
  }
}
