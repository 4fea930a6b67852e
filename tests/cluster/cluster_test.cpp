// The distributed mode as its users run it: many `realmkit serve` processes on PostgreSQL, Redis
// and a Kafka cluster, driven through the HTTP API and watched through WebSocket clients, with
// the faults a deployment meets (a relay, a projector or Redis dying, Kafka refusing writes or
// losing a partition leader). Each run prints its figures: lost, duplicated with effect and
// silently missed updates must all be 0.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/cluster/cluster_checks.hpp"
#include "tests/cluster/cluster_harness.hpp"
#include "tests/cluster/cluster_workload.hpp"
#include "tests/infra/kafka_test_support.hpp"

namespace realmkit::testing::cluster {
namespace {

// The figure; REALMKIT_CLUSTER_COMMANDS overrides it (fault runs make a fifth as many).
constexpr int kCommands = 10'000;
constexpr int kFaultShare = 5;
constexpr int kDriverThreads = 6;
const std::string kAdmin = "admin@demo.realmkit.test";

// Kafka's librdkafka error codes the mock brokers return for Produce requests: all retriable, so
// the idempotent producer retries them without losing or duplicating anything.
constexpr int kNotLeaderForPartition = 6;
constexpr int kRequestTimedOut = 7;
constexpr int kLeaderNotAvailable = 5;
constexpr int kNotEnoughReplicas = 19;
constexpr int kNotEnoughReplicasAfterAppend = 20;

std::optional<double> relay_active(node& n) {
  return n.metric("realmkit_relay_state", {"state=\"active\""});
}

// The cluster: two APIs, an active relay and its standby, two projectors, two hubs.
void start_cluster(cluster_harness& h) {
  h.start("api-1", "api");
  h.start("api-2", "api");
  // The first relay starts alone so that it is the active one; the second stands by.
  auto& relay = h.start("relay-1", "relay");
  REQUIRE(relay.wait_ready(120s));
  REQUIRE(kafka::wait_until([&] { return relay_active(relay) == 1.0; }, 60s));
  h.start("relay-2", "relay");
  h.start("projector-1", "projector");
  h.start("projector-2", "projector");
  h.start("hub-1", "hub");
  h.start("hub-2", "hub");
  h.wait_ready();
  CHECK(relay_active(h.by_name("relay-2")) == 0.0);
}

// Clients on both hubs with overlapping rooms: the pipeline's board and deal rooms.
struct clients {
  std::string token;
  demo_board board;
  std::vector<std::uint16_t> api_ports;
  std::vector<std::unique_ptr<room_watcher>> watchers;

  std::vector<room_watcher*> all() const {
    std::vector<room_watcher*> out;
    for (const auto& w : watchers) out.push_back(w.get());
    return out;
  }
};

clients connect_clients(cluster_harness& h) {
  clients c;
  for (auto* api : h.with_role("api")) c.api_ports.push_back(api->port());
  REQUIRE(c.api_ports.size() == 2);
  // The seed went through the relay, the topic and the projectors before the board shows it.
  REQUIRE(h.wait_projected(h.head_position(), 120s));
  c.token = login(c.api_ports[0], kAdmin, h.options().password);
  c.board = read_board(c.api_ports[1], c.token);
  const auto pipeline = "pipeline:" + c.board.pipeline;
  std::vector<std::string> deals;
  for (const auto& [id, version] : c.board.deals) deals.push_back("deal:" + id);
  const auto half = deals.size() / 2;
  auto slice = [&](std::size_t from, std::size_t to) {
    return std::vector<std::string>(deals.begin() + static_cast<std::ptrdiff_t>(from),
                                    deals.begin() + static_cast<std::ptrdiff_t>(to));
  };
  auto with = [](std::string first, std::vector<std::string> rest) {
    rest.insert(rest.begin(), std::move(first));
    return rest;
  };
  const auto hub_1 = h.by_name("hub-1").port();
  const auto hub_2 = h.by_name("hub-2").port();
  c.watchers.push_back(std::make_unique<room_watcher>("hub-1/board+first-half", hub_1, c.token,
                                                      with(pipeline, slice(0, half + 1))));
  c.watchers.push_back(std::make_unique<room_watcher>("hub-1/second-half", hub_1, c.token,
                                                      slice(half, deals.size())));
  c.watchers.push_back(
      std::make_unique<room_watcher>("hub-2/board+all", hub_2, c.token, with(pipeline, deals)));
  c.watchers.push_back(
      std::make_unique<room_watcher>("hub-2/board+some", hub_2, c.token,
                                     with(pipeline, slice(0, std::min<std::size_t>(3, half)))));
  for (const auto& w : c.watchers) {
    REQUIRE_MESSAGE(w->wait_subscribed(60s),
                    w->name() << " could not subscribe: "
                              << (w->errors().empty() ? std::string("-") : w->errors()[0]));
  }
  return c;
}

std::string first_failure(const command_driver& driver) {
  const auto failures = driver.failures();
  return failures.empty() ? std::string() : failures.front();
}

void require_clean(const run_figures& f) {
  print_figures(f);
  CHECK(f.acknowledged > 0);
  CHECK(f.lost == 0);
  CHECK(f.duplicates_with_effect == 0);
  CHECK(f.silent_gaps == 0);
}

// Moves deals while `fault` (run on this thread) does its damage, then checks everything.
template <class Fault>
void faulted_run(cluster_harness& h, const std::string& name, Fault&& fault) {
  start_cluster(h);
  auto c = connect_clients(h);
  const int n = commands_from_environment(kCommands) / kFaultShare;
  command_driver driver({c.api_ports, c.token, c.board, n, kDriverThreads});
  fault(driver, n);
  REQUIRE_MESSAGE(driver.wait(600s),
                  "the commands did not finish: " << driver.acknowledged_count() << " of " << n);
  CHECK_MESSAGE(driver.failures().empty(), first_failure(driver));
  auto f = verify_delivery(h, c.api_ports[0], c.token, driver, c.all(), name);
  verify_rebuild(h, f);
  require_clean(f);
}

// Waits until the driver has `count` acknowledgements (REQUIREs it within the deadline).
void wait_acknowledged(const command_driver& driver, int count) {
  REQUIRE_MESSAGE(kafka::wait_until([&] { return driver.acknowledged_count() >= count; }, 300s),
                  "only " << driver.acknowledged_count() << " commands acknowledged");
}

}  // namespace

TEST_CASE(
    "cluster: two APIs, an active and a standby relay, two projectors and two hubs deliver "
    "every acknowledged command once, in order, to the topic, the read models and every "
    "client") {
  cluster_harness h;
  start_cluster(h);
  auto c = connect_clients(h);
  const int n = commands_from_environment(kCommands);
  command_driver driver({c.api_ports, c.token, c.board, n, kDriverThreads});
  REQUIRE_MESSAGE(driver.wait(800s),
                  "the commands did not finish: " << driver.acknowledged_count() << " of " << n);
  CHECK_MESSAGE(driver.failures().empty(), first_failure(driver));
  CHECK(driver.acknowledged_count() == n);
  auto f = verify_delivery(h, c.api_ports[0], c.token, driver, c.all(), "main");
  verify_rebuild(h, f);
  require_clean(f);
}

TEST_CASE("cluster fault: SIGKILL of the active relay mid-run, and the standby takes over") {
  cluster_harness h;
  faulted_run(h, "relay killed", [&](const command_driver& driver, int n) {
    wait_acknowledged(driver, n / 3);
    REQUIRE(h.wait_relayed(h.head_position() - 100, 60s));  // it is busy relaying
    auto& active = h.by_name("relay-1");
    REQUIRE(relay_active(active) == 1.0);
    active.kill();
    auto& standby = h.by_name("relay-2");
    CHECK(kafka::wait_until([&] { return relay_active(standby) == 1.0; }, 60s));
  });
}

TEST_CASE("cluster fault: SIGKILL of a projector mid-run, and the other takes its partitions") {
  cluster_harness h;
  faulted_run(h, "projector killed", [&](const command_driver& driver, int n) {
    wait_acknowledged(driver, n / 3);
    h.by_name("projector-1").kill();
  });
}

TEST_CASE("cluster fault: Redis restarts mid-run, and hubs repair the gaps from the room log") {
  cluster_harness h({.private_redis = true});
  faulted_run(h, "redis restarted", [&](const command_driver& driver, int n) {
    wait_acknowledged(driver, n / 3);
    const auto before = h.head_position();
    h.private_redis().stop();
    // Commands go on while Redis is away (as far as the API can serve them without it).
    (void)kafka::wait_until([&] { return h.head_position() >= before + 100; }, 20s);
    h.private_redis().start();
  });
}

TEST_CASE(
    "cluster fault: Kafka refuses Produce requests and a partition leader's broker goes down "
    "and up") {
  cluster_harness h;
  // Partitions led by every broker, so that one going down takes some of them away.
  for (int p = 0; p < h.options().partitions; ++p) {
    h.kafka().set_partition_leader(h.topic(), p, p % h.options().kafka_brokers + 1);
  }
  faulted_run(h, "produce errors, leader down", [&](const command_driver& driver, int n) {
    wait_acknowledged(driver, n / 4);
    h.kafka().push_request_errors(
        infra::kafka::mock_cluster::kProduceApi,
        {kRequestTimedOut, kNotEnoughReplicas, kNotLeaderForPartition, kLeaderNotAvailable,
         kNotEnoughReplicasAfterAppend, kRequestTimedOut, kNotEnoughReplicas,
         kNotEnoughReplicasAfterAppend, kRequestTimedOut, kNotLeaderForPartition});
    wait_acknowledged(driver, n / 2);
    const auto before = h.head_position();
    h.kafka().set_broker_down(2);
    // Commands go on while the leader is away: the relay holds what it cannot deliver.
    (void)kafka::wait_until([&] { return h.head_position() >= before + 200; }, 30s);
    h.kafka().set_broker_up(2);
  });
}

}  // namespace realmkit::testing::cluster
