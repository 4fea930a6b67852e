// The distributed mode's event path without HTTP: how fast the outbox relay moves a backlog of
// stored events to Kafka (until its checkpoint, which covers only acknowledged events, reaches
// the head), and how fast the projector group consumes them into the projectors' feed. Kafka is
// librdkafka's mock cluster in this process (real protocol over loopback TCP).
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "infra/ids.hpp"
#include "infra/kafka/feed_consumer.hpp"
#include "infra/kafka/mock_cluster.hpp"
#include "infra/kafka/outbox_relay.hpp"
#include "infra/kafka/projector_feed.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"

using namespace realmkit;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
  std::string postgres;
  std::int64_t events = 200'000;
  int partitions = 12;
  std::string out = "build/bench/relay.json";
};

// Waits until `reached()` is at least `target`; returns the seconds it took, or throws after
// `limit`.
template <class F>
double time_until(std::int64_t target, F reached, std::chrono::seconds limit) {
  const auto started = clock_type::now();
  while (reached() < target) {
    if (clock_type::now() - started > limit) {
      throw std::runtime_error("stalled at " + std::to_string(reached()) + " of " +
                               std::to_string(target));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double>(clock_type::now() - started).count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    settings s;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--postgres")
        s.postgres = next();
      else if (a == "--events")
        s.events = std::stoll(next());
      else if (a == "--partitions")
        s.partitions = std::stoi(next());
      else if (a == "--out")
        s.out = next();
      else
        throw std::runtime_error("unknown argument " + a);
    }
    if (s.postgres.empty()) throw std::runtime_error("--postgres URL is required");

    infra::postgres_store_options store_options;
    store_options.url = s.postgres;
    store_options.schema = "relay_bench_" + std::to_string(::getpid());
    infra::postgres_event_store store(store_options);
    auto db =
        infra::sql::open_postgres_database({.url = s.postgres, .schema = store_options.schema});

    // The backlog: CRM-sized events over 5,000 streams, appended in batches of 500.
    const std::string data =
        R"({"deal_id":"d","stage_id":"s","from_stage_id":"f","moved_at":"2026-11-28T00:00:00Z",)"
        R"("note":"moved after the call with the buyer"})";
    const std::string metadata =
        R"({"actor":"u-1","correlation_id":"c-1","causation_id":"c-1","ip":"127.0.0.1"})";
    for (std::int64_t appended = 0; appended < s.events;) {
      std::vector<infra::stream_write> writes;
      for (int k = 0; k < 500 && appended < s.events; ++k, ++appended) {
        infra::stream_write w{.stream_id = "deal-" + std::to_string(appended % 5'000),
                              .expected = std::nullopt,
                              .events = {}};
        w.events.push_back({infra::new_uuid_v7(), "deal.stage_moved.v1", 1, data, metadata});
        writes.push_back(std::move(w));
      }
      store.append(writes, std::nullopt);
    }
    const auto head = store.head_position();
    std::printf("%lld events stored; relaying to %d partitions\n", static_cast<long long>(head),
                s.partitions);

    infra::kafka::mock_cluster cluster(3);
    infra::kafka::kafka_settings kafka;
    kafka.brokers = cluster.bootstrap_servers();
    kafka.partitions = s.partitions;
    cluster.create_topic(kafka.topic, s.partitions, 1);

    infra::kafka::outbox_relay relay(store, *db, {.kafka = kafka});
    relay.start();
    const double relay_seconds = time_until(
        head, [&] { return relay.status().checkpoint; }, std::chrono::seconds(600));
    relay.stop();
    const double relay_rate = static_cast<double>(head) / relay_seconds;

    infra::kafka::feed_log feed(store, *db);
    infra::kafka::feed_consumer consumer(
        *db, {.settings = kafka, .on_commit = [&feed] { feed.notify(); }});
    consumer.start();
    // The group's first assignment takes the brokers' initial rebalance delay; it is not
    // consumption, so the clock starts with the first committed batch.
    time_until(
        1, [&] { return feed.head_position(); }, std::chrono::seconds(60));
    const auto first = feed.head_position();
    const double consume_seconds = time_until(
        head, [&] { return feed.head_position(); }, std::chrono::seconds(600));
    consumer.stop();
    const double consume_rate = static_cast<double>(head - first) / consume_seconds;

    std::printf("%-28s %12s %10s\n", "stage", "events/s", "seconds");
    std::printf("%-28s %12.0f %10.2f\n", "relay: store -> Kafka", relay_rate, relay_seconds);
    std::printf("%-28s %12.0f %10.2f\n", "projector group: -> feed", consume_rate, consume_seconds);

    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("benchmark");
    w.String("relay");
    w.Key("events");
    w.Int64(head);
    w.Key("partitions");
    w.Int(s.partitions);
    w.Key("relay_events_per_second");
    w.Double(relay_rate);
    w.Key("relay_seconds");
    w.Double(relay_seconds);
    w.Key("feed_events_per_second");
    w.Double(consume_rate);
    w.Key("feed_seconds");
    w.Double(consume_seconds);
    w.EndObject();
    std::ofstream(s.out) << buffer.GetString() << "\n";
    std::printf("wrote %s\n", s.out.c_str());
    // The schema stays for inspection; the server is a throw-away one.
  } catch (const std::exception& e) {
    std::cerr << "realmkit_bench_relay: " << e.what() << "\n";
    return 1;
  }
}
