// The Redis room bus: the payload codec, and delivery between buses (processes) through a real
// Redis, including a Redis restart.
#include "infra/redis/redis_room_bus.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "infra/metrics.hpp"
#include "infra/redis/redis_connection.hpp"
#include "infra/redis/room_message_codec.hpp"
#include "tests/infra/redis_test_support.hpp"

namespace rr = realmkit::infra::redis;
using realmkit::infra::room_message;
using realmkit::infra::timestamp;
using realmkit::testing::eventually;
using realmkit::testing::redis_test_url;
using realmkit::testing::unique_redis_name;
using namespace std::chrono_literals;

namespace {

// Collects what a subscription receives, for the test thread to wait on.
class collector {
 public:
  realmkit::infra::room_bus::handler handler() {
    return [this](std::span<const room_message> messages) {
      std::lock_guard lock(mutex_);
      for (const auto& m : messages) received_.push_back(m);
      ++calls_;
    };
  }
  // Messages of one room, in arrival order.
  std::vector<room_message> of_room(const std::string& room) const {
    std::lock_guard lock(mutex_);
    std::vector<room_message> out;
    for (const auto& m : received_) {
      if (m.room == room) out.push_back(m);
    }
    return out;
  }
  bool wait_for(const std::string& room, std::size_t n, std::chrono::milliseconds timeout = 5s) {
    return eventually([&] { return of_room(room).size() >= n; }, timeout);
  }

 private:
  mutable std::mutex mutex_;  // guards received_ and calls_
  std::vector<room_message> received_;
  int calls_ = 0;
};

room_message make_message(const std::string& room, std::int64_t seq) {
  room_message m;
  m.room = room;
  m.seq = seq;
  m.position = 1000 + seq;
  m.kind = "deal.stage_moved";
  m.data = R"({"deal_id":"d-)" + std::to_string(seq) + R"("})";
  m.recorded_at = timestamp{std::chrono::microseconds{1'764'300'000'123'456 + seq}};
  return m;
}

rr::redis_room_bus_options bus_options(const std::string& url) {
  rr::redis_room_bus_options options;
  options.url = url;
  return options;
}

void publish_raw(const std::string& channel, const std::string& payload) {
  rr::redis_connection c({rr::parse_redis_url(redis_test_url())});
  c.command({"PUBLISH", channel, payload});
}

}  // namespace

TEST_CASE("redis room codec: every field round-trips, team absent vs empty vs set") {
  auto m = make_message("pipeline:p1", 7);
  m.data = R"({"name":"Zoë 🚀 \"quoted\"","nested":{"a":[1,2,{"b":null}],"t":true},"n":-3})";
  for (const std::optional<std::string>& team :
       {std::optional<std::string>{}, std::optional<std::string>{""},
        std::optional<std::string>{"team-ü"}}) {
    m.team = team;
    const auto payload = rr::encode_room_message(m);
    CHECK((payload.find("\"team\"") != std::string::npos) == team.has_value());
    std::string error;
    const auto back = rr::decode_room_message(payload, &error);
    REQUIRE_MESSAGE(back.has_value(), error);
    CHECK(*back == m);
  }
  CHECK(rr::encode_room_message(make_message("deal:x", 1)) ==
        R"({"room":"deal:x","seq":1,"position":1001,"kind":"deal.stage_moved",)"
        R"("data":{"deal_id":"d-1"},"recorded_at":1764300000123457})");
}

TEST_CASE("redis room codec: malformed payloads are refused with a reason") {
  const char* bad[] = {
      "",
      "not json",
      "[1,2]",
      R"({"seq":1,"position":1,"kind":"k","data":{},"recorded_at":1})",
      R"({"room":"","seq":1,"position":1,"kind":"k","data":{},"recorded_at":1})",
      R"({"room":"r","seq":"1","position":1,"kind":"k","data":{},"recorded_at":1})",
      R"({"room":"r","seq":0,"position":1,"kind":"k","data":{},"recorded_at":1})",
      R"({"room":"r","seq":1,"position":-1,"kind":"k","data":{},"recorded_at":1})",
      R"({"room":"r","seq":1,"position":1,"kind":7,"data":{},"recorded_at":1})",
      R"({"room":"r","seq":1,"position":1,"kind":"k","data":[],"recorded_at":1})",
      R"({"room":"r","seq":1,"position":1,"kind":"k","data":{},"recorded_at":1.5})",
      R"({"room":"r","seq":1,"position":1,"kind":"k","data":{}})",
      R"({"room":"r","seq":1,"position":1,"kind":"k","data":{},"recorded_at":1,"team":null})",
      R"({"room":"r","seq":1,"position":1,"kind":"k","data":{},"recorded_at":1)",
  };
  for (const char* payload : bad) {
    std::string error;
    CHECK_MESSAGE(!rr::decode_room_message(payload, &error).has_value(), payload);
    CHECK_MESSAGE(!error.empty(), payload);
  }
}

TEST_CASE("redis room bus: a message crosses Redis with every field intact") {
  rr::redis_room_bus publisher(bus_options(redis_test_url()));
  rr::redis_room_bus receiver(bus_options(redis_test_url()));
  collector got;
  auto sub = receiver.subscribe(got.handler());
  REQUIRE(receiver.wait_until_subscribed(5s));
  const auto room = unique_redis_name("pipeline:");
  std::vector<room_message> sent;
  for (int i = 1; i <= 3; ++i) sent.push_back(make_message(room, i));
  sent[0].data =
      R"({"title":"Café ☕ 日本","deal":{"value":{"amount_minor":125000,"currency":"EUR"}}})";
  sent[1].team = "";
  sent[2].team = "team-7";
  publisher.publish(sent);
  REQUIRE(got.wait_for(room, 3));
  CHECK(got.of_room(room) == sent);
}

TEST_CASE("redis room bus: many messages of one room arrive in order") {
  rr::redis_room_bus bus(bus_options(redis_test_url()));
  collector got;
  auto sub = bus.subscribe(got.handler());
  REQUIRE(bus.wait_until_subscribed(5s));
  const auto room = unique_redis_name("deal:");
  constexpr int kMessages = 2000;
  std::vector<room_message> sent;
  for (int i = 1; i <= kMessages; ++i) sent.push_back(make_message(room, i));
  // In batches of different sizes, as a projector does.
  std::size_t at = 0;
  for (std::size_t size = 1; at < sent.size(); size = size * 3 % 97 + 1) {
    const auto n = std::min(size, sent.size() - at);
    bus.publish(std::span(sent).subspan(at, n));
    at += n;
  }
  REQUIRE(got.wait_for(room, kMessages));
  const auto received = got.of_room(room);
  REQUIRE(received.size() == kMessages);
  for (int i = 0; i < kMessages; ++i) CHECK(received[i].seq == i + 1);
}

TEST_CASE("redis room bus: two buses (two processes) both receive, every handler is called") {
  rr::redis_room_bus a(bus_options(redis_test_url()));
  rr::redis_room_bus b(bus_options(redis_test_url()));
  collector got_a1, got_a2, got_b;
  auto sub_a1 = a.subscribe(got_a1.handler());
  auto sub_a2 = a.subscribe(got_a2.handler());
  auto sub_b = b.subscribe(got_b.handler());
  REQUIRE(a.wait_until_subscribed(5s));
  REQUIRE(b.wait_until_subscribed(5s));
  const auto room = unique_redis_name("pipeline:");
  const std::vector<room_message> sent = {make_message(room, 1), make_message(room, 2)};
  a.publish(sent);
  REQUIRE(got_a1.wait_for(room, 2));
  REQUIRE(got_a2.wait_for(room, 2));
  REQUIRE(got_b.wait_for(room, 2));
  CHECK(got_a1.of_room(room) == sent);
  CHECK(got_a2.of_room(room) == sent);
  CHECK(got_b.of_room(room) == sent);
}

TEST_CASE("redis room bus: after unsubscribing, the handler is not running and never runs again") {
  rr::redis_room_bus bus(bus_options(redis_test_url()));
  const auto room = unique_redis_name("deal:");
  std::atomic<bool> in_handler{false};
  std::atomic<bool> unsubscribed{false};
  std::atomic<int> calls_after{0};
  std::atomic<int> calls{0};
  collector witness;
  auto witness_sub = bus.subscribe(witness.handler());
  auto sub = bus.subscribe([&](std::span<const room_message>) {
    in_handler = true;
    if (unsubscribed) ++calls_after;
    ++calls;
    // Slow enough that the unsubscribe below very likely lands while a call is running.
    std::this_thread::sleep_for(20ms);
    in_handler = false;
  });
  REQUIRE(bus.wait_until_subscribed(5s));
  std::atomic<bool> publishing{true};
  std::thread publisher([&] {
    rr::redis_room_bus out(bus_options(redis_test_url()));
    for (int seq = 1; publishing; ++seq) {
      out.publish(std::vector{make_message(room, seq)});
      std::this_thread::sleep_for(2ms);
    }
  });
  REQUIRE(eventually([&] { return calls.load() >= 3; }));
  sub.reset();
  unsubscribed = true;
  CHECK_FALSE(in_handler.load());
  const auto seen = witness.of_room(room).size();
  // The other subscription keeps receiving, so the bus is still delivering meanwhile.
  CHECK(witness.wait_for(room, seen + 20));
  publishing = false;
  publisher.join();
  CHECK(calls_after.load() == 0);
}

TEST_CASE("redis room bus: malformed payloads are skipped and counted, delivery goes on") {
  realmkit::infra::metrics_registry metrics;
  auto options = bus_options(redis_test_url());
  options.metrics = &metrics;
  rr::redis_room_bus bus(options);
  collector got;
  auto sub = bus.subscribe(got.handler());
  REQUIRE(bus.wait_until_subscribed(5s));
  const auto room = unique_redis_name("deal:");
  const auto channel = std::string(rr::kRoomChannelPrefix) + room;
  publish_raw(channel, "{not json");
  publish_raw(channel, R"({"room":")" + room + R"(","seq":"one"})");
  publish_raw(channel, std::string("\0\xff\xfe", 3));
  // A valid message whose room is not its channel's is refused too.
  publish_raw(channel, rr::encode_room_message(make_message(room + "x", 1)));
  publish_raw(channel, rr::encode_room_message(make_message(room, 1)));
  REQUIRE(got.wait_for(room, 1));
  const auto received = got.of_room(room);
  REQUIRE(received.size() == 1);
  CHECK(received[0] == make_message(room, 1));
  const auto text = metrics.expose();
  CHECK(text.find(R"(realmkit_redis_room_bus_messages_total{outcome="malformed"} 4)") !=
        std::string::npos);
}

TEST_CASE(
    "redis room bus: after a Redis restart it re-subscribes, calls on_resubscribed, and messages "
    "flow") {
  realmkit::testing::private_redis_server server;
  realmkit::infra::metrics_registry metrics;
  std::atomic<int> resubscribed{0};
  auto options = bus_options(server.url());
  options.metrics = &metrics;
  options.reconnect_backoff_min = 10ms;
  options.reconnect_backoff_max = 100ms;
  options.on_resubscribed = [&] { ++resubscribed; };
  rr::redis_room_bus bus(options);
  collector got;
  auto sub = bus.subscribe(got.handler());
  REQUIRE(bus.wait_until_subscribed(5s));
  const auto room = unique_redis_name("pipeline:");
  bus.publish(std::vector{make_message(room, 1)});
  REQUIRE(got.wait_for(room, 1));
  CHECK(resubscribed.load() == 0);

  server.stop();
  CHECK(eventually([&] { return !bus.subscribed(); }));
  // While Redis is down, publishing fails after its one retry, and says so.
  CHECK_THROWS_AS(bus.publish(std::vector{make_message(room, 2)}), rr::redis_unavailable);

  server.start();
  REQUIRE(eventually([&] { return resubscribed.load() == 1; }));
  CHECK(bus.subscribed());
  bus.publish(std::vector{make_message(room, 3)});
  REQUIRE(got.wait_for(room, 2));
  const auto received = got.of_room(room);
  REQUIRE(received.size() == 2);
  CHECK(received[1] == make_message(room, 3));
  const auto text = metrics.expose();
  CHECK(text.find("realmkit_redis_room_bus_reconnects_total 1") != std::string::npos);
  CHECK(text.find(R"(realmkit_redis_room_bus_messages_total{outcome="publish_failed"} 1)") !=
        std::string::npos);
}

TEST_CASE("redis room bus: destroying it stops the reader promptly, even while Redis is down") {
  realmkit::testing::private_redis_server server;
  auto options = bus_options(server.url());
  // A long backoff: destruction must not wait it out.
  options.reconnect_backoff_min = 2s;
  options.reconnect_backoff_max = 2s;
  collector got;
  auto bus = std::make_unique<rr::redis_room_bus>(options);
  auto sub = bus->subscribe(got.handler());
  REQUIRE(bus->wait_until_subscribed(5s));
  server.stop();
  REQUIRE(eventually([&] { return !bus->subscribed(); }));
  const auto start = std::chrono::steady_clock::now();
  bus.reset();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  // The token outlives the bus; destroying it afterwards is harmless.
  sub.reset();
}

TEST_CASE("redis room bus: the destructor returns within the read timeout while idle") {
  auto options = bus_options(redis_test_url());
  options.read_timeout = 100ms;
  collector got;
  auto bus = std::make_unique<rr::redis_room_bus>(options);
  auto sub = bus->subscribe(got.handler());
  REQUIRE(bus->wait_until_subscribed(5s));
  const auto start = std::chrono::steady_clock::now();
  bus.reset();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("redis room bus: a bad URL or backoff is refused at construction") {
  auto options = bus_options("http://localhost");
  CHECK_THROWS_AS(rr::redis_room_bus{options}, std::invalid_argument);
  options = bus_options("redis://localhost");
  options.reconnect_backoff_max = 1ms;
  CHECK_THROWS_AS(rr::redis_room_bus{options}, std::invalid_argument);
}

TEST_CASE("redis room bus: publish reconnects once when Redis restarted since the last publish") {
  realmkit::testing::private_redis_server server;
  auto options = bus_options(server.url());
  options.reconnect_backoff_min = 10ms;
  options.reconnect_backoff_max = 50ms;
  rr::redis_room_bus bus(options);
  collector got;
  auto sub = bus.subscribe(got.handler());
  REQUIRE(bus.wait_until_subscribed(5s));
  const auto room = unique_redis_name("deal:");
  bus.publish(std::vector{make_message(room, 1)});
  REQUIRE(got.wait_for(room, 1));
  server.stop();
  server.start();
  REQUIRE(eventually([&] { return bus.subscribed(); }));
  // The publisher's connection died with the old server: the one retry on a new one succeeds.
  bus.publish(std::vector{make_message(room, 2)});
  REQUIRE(got.wait_for(room, 2));
  CHECK(got.of_room(room).back() == make_message(room, 2));
}

TEST_CASE("redis room bus: a handler that throws does not stop delivery to the others") {
  rr::redis_room_bus bus(bus_options(redis_test_url()));
  collector got;
  auto failing = bus.subscribe(
      [](std::span<const room_message>) { throw std::runtime_error("subscriber bug"); });
  auto sub = bus.subscribe(got.handler());
  REQUIRE(bus.wait_until_subscribed(5s));
  const auto room = unique_redis_name("deal:");
  bus.publish(std::vector{make_message(room, 1)});
  bus.publish(std::vector{make_message(room, 2)});
  REQUIRE(got.wait_for(room, 2));
  CHECK(got.of_room(room).size() == 2);
}
