// The real-time hub on /ws as `realmkit serve` wires it, with real WebSocket clients: ordered
// delivery and resume from a position on both backends, refusals before the upgrade, the HTTP
// visibility rules for rooms, bad frames, and a client that stops reading.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "tests/app/served_api.hpp"
#include "tests/app/ws_client.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_MESSAGE(d.IsObject(), text);
  return d;
}

std::string op_of(const rapidjson::Document& d) {
  return d.HasMember("op") && d["op"].IsString() ? d["op"].GetString() : "";
}

// An admin's (or any user's) HTTP session on the served API.
template <class Backend>
struct caller {
  served_api<Backend>& s;
  std::string token;
  std::int64_t last_position = 0;  // of the last record made

  caller(served_api<Backend>& served, const std::string& email) : s(served) {
    const auto login = s.login(email);
    REQUIRE_MESSAGE(login.status == 200, login.body);
    token = access_token_of(login);
  }

  rapidjson::Document post(const std::string& target, const std::string& body, int expected) {
    const auto reply = s.request("POST", target, {{"Authorization", "Bearer " + token}}, body);
    REQUIRE_MESSAGE(reply.status == expected, target << ": " << reply.body);
    return parse(reply.body);
  }

  // Waits (through HTTP's read-your-writes) until the read models hold what this caller made,
  // so that a subscription's access check finds it.
  void caught_up() {
    const auto reply = s.request("GET", "/api/deals?min_position=" + std::to_string(last_position),
                                 {{"Authorization", "Bearer " + token}});
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
  }

  ws_client connect() {
    auto c = ws_client::connect(s.server->port(), {{{"Authorization", "Bearer " + token}}});
    REQUIRE_MESSAGE(c.client.has_value(), c.status << " " << c.body);
    return std::move(*c.client);
  }
};

struct board {
  std::string pipeline;
  std::vector<std::string> stages;
};

template <class Backend>
board make_pipeline(caller<Backend>& admin) {
  const auto p =
      admin.post("/api/pipelines",
                 R"({"name":"Sales","stages":[{"name":"Lead","probability":10},)"
                 R"({"name":"Demo","probability":40},{"name":"Deal","probability":80}]})",
                 201);
  board b{p["id"].GetString(), {}};
  for (const auto& s : p["stages"].GetArray()) b.stages.emplace_back(s["id"].GetString());
  return b;
}

template <class Backend>
std::string make_deal(caller<Backend>& admin, const board& b, const std::string& owner) {
  auto d = admin.post("/api/deals",
                      R"({"pipeline_id":")" + b.pipeline + R"(","stage_id":")" + b.stages[0] +
                          R"(","title":"Deal","value":{"amount_minor":1000,)" +
                          R"("currency":"EUR"},"owner_id":")" + owner + "\"}",
                      201);
  admin.last_position = d["position"].GetInt64();
  return d["id"].GetString();
}

std::string subscribe(const std::string& room) {
  return R"({"op":"subscribe","room":")" + room + "\"}";
}
std::string subscribe(const std::string& room, std::int64_t since) {
  return R"({"op":"subscribe","room":")" + room + R"(","since":)" + std::to_string(since) + "}";
}

struct update {
  std::int64_t seq;
  std::int64_t position;
  std::string kind;
};

// The next `n` updates, checking that nothing else but presence comes between them.
std::vector<update> updates(ws_client& c, std::size_t n) {
  std::vector<update> out;
  while (out.size() < n) {
    const auto d = c.read_json();
    const auto op = op_of(d);
    if (op == "presence") continue;
    REQUIRE_MESSAGE(op == "update", "expected an update, got op " << op);
    out.push_back({d["seq"].GetInt64(), d["position"].GetInt64(), d["kind"].GetString()});
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "ws: a board's updates arrive in order, and a client resuming with since "
    "misses none and gets none twice",
    B, sqlite_session_backend, postgres_session_backend) {
  served_api<B> s;
  s.register_user("u-admin", "admin@example.com", domain::user_role::admin);
  caller<B> admin(s, "admin@example.com");
  const auto b = make_pipeline(admin);
  const auto deal = make_deal(admin, b, "u-admin");

  admin.caught_up();
  auto first = admin.connect();
  first.send(subscribe("pipeline:" + b.pipeline, 0));
  const auto subscribed = first.read_op("subscribed");
  CHECK(std::string(subscribed["room"].GetString()) == "pipeline:" + b.pipeline);

  std::int64_t version = 1;
  auto move = [&](int times) {
    for (int i = 0; i < times; ++i) {
      const auto& to = b.stages[static_cast<std::size_t>(version % 3)];
      const auto r = admin.post(
          "/api/deals/" + deal + "/stage",
          R"({"stage_id":")" + to + R"(","expected_version":)" + std::to_string(version) + "}",
          200);
      version = r["version"].GetInt64();
    }
  };
  move(10);
  // pipeline.created, deal.created, then the ten moves: every one, in order.
  const auto seen = updates(first, 12);
  CHECK(seen[0].kind == "pipeline.created");
  CHECK(seen[1].kind == "deal.created");
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].seq == static_cast<std::int64_t>(i + 1));
    if (i > 0) CHECK(seen[i].position > seen[i - 1].position);
    if (i >= 2) CHECK(seen[i].kind == "deal.stage_moved");
  }
  const auto last = seen.back();
  first.close();

  // Five moves while away; back with since = the last position seen.
  move(5);
  auto second = admin.connect();
  second.send(subscribe("pipeline:" + b.pipeline, last.position));
  const auto resumed = second.read_op("subscribed");
  // The projector may not have written all five yet: what it has not, arrives live.
  CHECK(resumed["seq"].GetInt64() >= last.seq);
  move(1);
  const auto missed = updates(second, 6);
  for (std::size_t i = 0; i < missed.size(); ++i) {
    CHECK(missed[i].seq == last.seq + 1 + static_cast<std::int64_t>(i));
  }
  // Nothing twice: the next frame is a pong, not an update.
  second.send(R"({"op":"ping"})");
  CHECK(op_of(second.read_json()) == "pong");
}

TEST_CASE(
    "ws: an upgrade without a valid token, from a foreign origin or with a token in the "
    "URL is refused before the handshake") {
  served_api<sqlite_session_backend> s;
  s.register_user("u-1", "one@example.com", domain::user_role::sales_rep, "north");
  caller<sqlite_session_backend> one(s, "one@example.com");
  const auto port = s.server->port();
  const std::pair<std::string, std::string> bearer{"Authorization", "Bearer " + one.token};

  CHECK(ws_client::connect(port).status == 401);
  CHECK(ws_client::connect(port, {{{"Authorization", "Bearer not-a-token"}}}).status == 401);
  const auto foreign = ws_client::connect(port, {{bearer, {"Origin", "https://evil.example.com"}}});
  CHECK(foreign.status == 403);
  CHECK(foreign.body.find("Origin") != std::string::npos);
  CHECK(ws_client::connect(port, {{bearer}, {}, "/ws?access_token=" + one.token}).status == 400);
  CHECK(ws_client::connect(port, {{bearer}, {"chat"}}).status == 400);
  // A cookie is used only by a page that names its (allowed) origin.
  const std::pair<std::string, std::string> cookie{"Cookie", "realmkit_access=" + one.token};
  CHECK(ws_client::connect(port, {{cookie}}).status == 403);
  CHECK(ws_client::connect(port, {{cookie, {"Origin", "https://crm.example.com"}}}).status == 101);

  // A browser's way: the token in a subprotocol beside realmkit.v1, which the server selects.
  auto browser = ws_client::connect(port, {{{"Origin", "https://crm.example.com"}},
                                           {"realmkit.v1", "access_token." + one.token}});
  REQUIRE(browser.client);
  CHECK(browser.client->subprotocol() == "realmkit.v1");
  browser.client->send(subscribe("user:u-1"));
  CHECK(op_of(browser.client->read_op("subscribed")) == "subscribed");
}

TEST_CASE(
    "ws: rooms follow the HTTP visibility rules, and a pipeline room shows a rep only "
    "their team's deals") {
  served_api<sqlite_session_backend> s;
  s.register_user("u-admin", "admin@example.com", domain::user_role::admin);
  s.register_user("u-north", "north@example.com", domain::user_role::sales_rep, "north");
  s.register_user("u-south", "south@example.com", domain::user_role::sales_rep, "south");
  caller<sqlite_session_backend> admin(s, "admin@example.com");
  caller<sqlite_session_backend> north(s, "north@example.com");
  caller<sqlite_session_backend> south(s, "south@example.com");
  const auto b = make_pipeline(admin);
  const auto north_deal = make_deal(admin, b, "u-north");
  admin.caught_up();

  auto client = south.connect();
  client.send(subscribe("deal:" + north_deal));
  auto refused = client.read_op("error");
  CHECK(std::string(refused["code"].GetString()) == "not_found");
  CHECK(std::string(refused["room"].GetString()) == "deal:" + north_deal);
  client.send(subscribe("user:u-north"));
  CHECK(std::string(client.read_op("error")["code"].GetString()) == "forbidden");
  client.send(subscribe("deal:missing"));
  CHECK(std::string(client.read_op("error")["code"].GetString()) == "not_found");

  admin.caught_up();
  // Both reps watch the board from its beginning.
  auto north_client = north.connect();
  north_client.send(subscribe("pipeline:" + b.pipeline, 0));
  north_client.read_op("subscribed");
  client.send(subscribe("pipeline:" + b.pipeline, 0));
  client.read_op("subscribed");
  const auto south_deal = make_deal(admin, b, "u-south");
  const auto second_north_deal = make_deal(admin, b, "u-north");

  auto deals_seen = [](ws_client& c, std::size_t n) {
    std::vector<std::string> ids;
    while (ids.size() < n) {
      const auto d = c.read_json();
      if (op_of(d) != "update") continue;
      if (std::string(d["kind"].GetString()) != "deal.created") continue;
      ids.emplace_back(d["data"]["event"]["deal_id"].GetString());
    }
    return ids;
  };
  CHECK(deals_seen(north_client, 2) == std::vector<std::string>{north_deal, second_north_deal});
  CHECK(deals_seen(client, 1) == std::vector<std::string>{south_deal});
  // The admin's own deal room is open to them.
  auto admin_client = admin.connect();
  admin_client.send(subscribe("deal:" + north_deal));
  CHECK(admin_client.read_op("subscribed")["seq"].GetInt64() >= 1);
}

TEST_CASE("ws: bad frames get an error and change nothing, and the connection goes on") {
  served_api<sqlite_session_backend> s;
  s.register_user("u-1", "one@example.com", domain::user_role::sales_rep, "north");
  caller<sqlite_session_backend> one(s, "one@example.com");
  auto c = one.connect();
  auto code_of = [&](const std::string& frame) {
    c.send(frame);
    const auto d = c.read_op("error");
    return std::string(d["code"].GetString());
  };
  CHECK(code_of("not json") == "malformed");
  CHECK(code_of("[1,2]") == "malformed");
  CHECK(code_of(R"({"op":"dance"})") == "unknown_op");
  CHECK(code_of(R"({"op":"subscribe","room":"board:1"})") == "invalid_room");
  CHECK(code_of(R"({"op":"subscribe","room":"user:u-1","since":"yesterday"})") == "malformed");
  CHECK(code_of(R"({"op":"unsubscribe","room":"user:u-1"})") == "not_subscribed");
  CHECK(code_of(std::string(10'000, '[')) == "malformed");  // deep nesting: parsed iteratively
  // The connection still works.
  c.send(subscribe("user:u-1"));
  CHECK(op_of(c.read_op("subscribed")) == "subscribed");
}

TEST_CASE("ws: a frame over the limit closes the connection with 1009, and the server carries on") {
  served_api<sqlite_session_backend> s;
  s.register_user("u-1", "one@example.com", domain::user_role::sales_rep, "north");
  caller<sqlite_session_backend> one(s, "one@example.com");
  auto c = one.connect();
  c.send(R"({"op":"ping","pad":")" + std::string(20'000, 'x') + "\"}");
  CHECK_FALSE(c.read().has_value());
  CHECK(c.close_code() == 1009);
  auto again = one.connect();
  again.send(R"({"op":"ping"})");
  CHECK(op_of(again.read_json()) == "pong");
}

TEST_CASE(
    "ws: a client that stops reading is told to resync and dropped, while the others get "
    "every update") {
  realtime::session_options small;
  small.max_queue_bytes = 64 * 1024;
  small.send_buffer_bytes = 16 * 1024;
  small.drop_timeout = 30s;  // long enough for the test to read what it was sent
  served_api<sqlite_session_backend> s({small});
  s.register_user("u-1", "one@example.com", domain::user_role::admin);
  caller<sqlite_session_backend> one(s, "one@example.com");

  auto slow = ws_client::connect(s.server->port(),
                                 {{{"Authorization", "Bearer " + one.token}}, {}, "/ws", 4096});
  REQUIRE(slow.client);
  slow.client->send(subscribe("user:u-1"));
  const auto start = slow.client->read_op("subscribed")["seq"].GetInt64();

  constexpr int kReaders = 100;
  std::vector<ws_client> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(one.connect());
    readers.back().send(subscribe("user:u-1"));
    CHECK(readers.back().read_op("subscribed")["seq"].GetInt64() == start);
  }

  // 400 updates of 1 KiB straight onto the bus in batches of 10, as the projector publishes its
  // batches; each batch once the readers have had the previous one.
  constexpr int kBurst = 400;
  constexpr int kBatch = 10;
  std::vector<std::atomic<int>> received(kReaders);
  std::vector<std::future<bool>> done;
  for (int n = 0; n < kReaders; ++n) {
    done.push_back(
        std::async(std::launch::async, [&r = readers[static_cast<std::size_t>(n)],
                                        &got = received[static_cast<std::size_t>(n)], start] {
          for (int i = 1; i <= kBurst; ++i) {
            const auto text = r.read(20s);
            if (!text) return false;
            const auto d = parse(*text);
            if (op_of(d) != "update" || d["seq"].GetInt64() != start + i) return false;
            ++got;
          }
          return true;
        }));
  }
  for (int first = 1; first <= kBurst; first += kBatch) {
    std::vector<infra::room_message> batch;
    for (int i = first; i < first + kBatch; ++i) {
      batch.push_back({"user:u-1",
                       start + i,
                       1'000'000 + i,
                       "user.renamed",
                       R"({"pad":")" + std::string(1024, 'p') + "\"}",
                       {},
                       std::nullopt});
    }
    s.bus->publish(batch);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    const auto behind = [&] {
      return std::any_of(received.begin(), received.end(),
                         [&](const std::atomic<int>& got) { return got.load() < first - 1; });
    };
    while (behind() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
  int complete = 0;
  for (auto& f : done) complete += f.get() ? 1 : 0;
  CHECK(complete == kReaders);

  // The slow one: what fitted in the buffers, then resync, then a close (1013).
  bool resync = false;
  while (const auto text = slow.client->read(10s)) {
    const auto d = parse(*text);
    if (op_of(d) == "resync") {
      resync = true;
      CHECK(std::string(d["reason"].GetString()) == "slow_consumer");
    }
  }
  CHECK(resync);
  CHECK(slow.client->close_code() == 1013);
  CHECK(s.metrics
            .counter_for("realmkit_ws_queue_drops_total",
                         "Clients dropped because their send queue was full")
            .value() == 1);
}

TEST_CASE(
    "ws: a fresh token keeps a session going, another user's is refused, and shutdown "
    "closes with 1001") {
  served_api<sqlite_session_backend> s;
  s.register_user("u-1", "one@example.com", domain::user_role::sales_rep, "north");
  s.register_user("u-2", "two@example.com", domain::user_role::sales_rep, "north");
  caller<sqlite_session_backend> one(s, "one@example.com");
  caller<sqlite_session_backend> two(s, "two@example.com");
  auto c = one.connect();
  c.send(R"({"op":"auth","token":")" + two.token + "\"}");
  CHECK(std::string(c.read_op("error")["code"].GetString()) == "forbidden");
  c.send(R"({"op":"auth","token":"not-a-token"})");
  CHECK(std::string(c.read_op("error")["code"].GetString()) == "unauthorized");
  const caller<sqlite_session_backend> again(s, "one@example.com");
  c.send(R"({"op":"auth","token":")" + again.token + "\"}");
  CHECK(c.read_op("authenticated")["expires_at"].GetInt64() > 0);

  // The close handshake needs the client to read: shutdown waits for it meanwhile.
  auto shutdown = std::async(std::launch::async, [&] { s.ws->close_all(10s); });
  CHECK_FALSE(c.read().has_value());
  CHECK(c.close_code() == 1001);
  shutdown.get();
  CHECK(s.ws->connections() == 0);
}

TEST_CASE("ws: a session whose access token expires is closed with 1008") {
  served_options short_tokens;
  short_tokens.access_ttl = 1s;
  served_api<sqlite_session_backend> s(short_tokens);
  s.register_user("u-1", "one@example.com", domain::user_role::sales_rep, "north");
  caller<sqlite_session_backend> one(s, "one@example.com");
  auto c = one.connect();
  c.send(subscribe("user:u-1"));
  c.read_op("subscribed");
  CHECK_FALSE(c.read(10s).has_value());
  CHECK(c.close_code() == 1008);
}
