#include "tests/cluster/cluster_workload.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>

#include "tests/api/test_client.hpp"

namespace realmkit::testing::cluster {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::uint64_t next_random(std::uint64_t& state) {
  // splitmix64: enough to spread the moves over deals and ports.
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string login(std::uint16_t port, const std::string& email, const std::string& password) {
  test::http_connection c(port);
  const auto reply = c.request("POST", "/api/auth/login", {{"Content-Type", "application/json"}},
                               R"({"email":")" + email + R"(","password":")" + password + "\"}");
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  const auto d = parse(reply.body);
  REQUIRE((d.IsObject() && d.HasMember("access_token")));
  return d["access_token"].GetString();
}

demo_board read_board(std::uint16_t port, const std::string& token) {
  test::http_connection c(port);
  const auto list = c.request("GET", "/api/pipelines", bearer(token));
  REQUIRE_MESSAGE(list.status == 200, list.body);
  const auto pipelines = parse(list.body);
  REQUIRE((pipelines.IsObject() && pipelines["items"].IsArray()));
  REQUIRE(pipelines["items"].Size() >= 1);
  demo_board b;
  b.pipeline = pipelines["items"][0]["id"].GetString();
  const auto reply = c.request("GET", "/api/pipelines/" + b.pipeline + "/board", bearer(token));
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  const auto board = parse(reply.body);
  REQUIRE(board.IsObject());
  for (const auto& stage : board["stages"].GetArray()) {
    b.stages.emplace_back(stage["id"].GetString());
    for (const auto& deal : stage["deals"].GetArray()) {
      b.deals.emplace_back(deal["id"].GetString(), deal["version"].GetInt64());
    }
  }
  REQUIRE(b.stages.size() >= 2);
  REQUIRE(!b.deals.empty());
  return b;
}

// ---- command_driver ----

command_driver::command_driver(driver_options options)
    : options_(std::move(options)), versions_(options_.board.deals.size()) {
  for (std::size_t i = 0; i < versions_.size(); ++i) {
    versions_[i] = options_.board.deals[i].second;
  }
  started_ = std::chrono::steady_clock::now();
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this, t] { run(t); });
}

command_driver::~command_driver() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool command_driver::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const bool finished = done();
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  return finished;
}

std::chrono::milliseconds command_driver::elapsed() const {
  const auto end = finished_at_ns_.load();
  const auto until = end ? std::chrono::steady_clock::time_point(std::chrono::nanoseconds(end))
                         : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(until - started_);
}

std::vector<acknowledged> command_driver::acks() const {
  std::lock_guard lock(mutex_);
  return acks_;
}

std::vector<std::string> command_driver::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

void command_driver::run(int thread) {
  std::uint64_t random = 0x5eed + static_cast<std::uint64_t>(thread) * 7919;
  std::unique_ptr<test::http_connection> link;
  while (!stopping_ && claimed_.fetch_add(1) < options_.commands) {
    if (!move_one(thread, link, random)) {
      std::lock_guard lock(mutex_);
      if (failures_.size() > 50) break;  // something is badly wrong: stop hammering
    }
  }
  if (++finished_ == static_cast<int>(threads_.size())) {
    finished_at_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  }
}

bool command_driver::move_one(int thread, std::unique_ptr<test::http_connection>& link,
                              std::uint64_t& random) {
  const auto& ports = options_.api_ports;
  const auto& stages = options_.board.stages;
  const auto deal_index = next_random(random) % options_.board.deals.size();
  const auto& deal = options_.board.deals[deal_index].first;
  auto& known = versions_[deal_index];
  std::uint64_t skew = 0;  // moves onto the deal's current stage change nothing: try the next
  // Conflicts are bounded by count; an API that cannot serve (503 while Redis is away: the
  // revocation check fails closed) or cannot be reached, by time.
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  for (int attempt = 0;
       attempt < 200 && !stopping_ && std::chrono::steady_clock::now() < deadline;) {
    const auto version = known.load();
    const auto& stage = stages[static_cast<std::size_t>(version + 1 + skew) % stages.size()];
    test::http_reply reply;
    try {
      if (!link) {
        // Threads are spread over the APIs, so both serve every deal.
        link = std::make_unique<test::http_connection>(
            ports[static_cast<std::size_t>(thread) % ports.size()]);
      }
      auto headers = bearer(options_.token);
      headers.emplace_back("Content-Type", "application/json");
      reply = link->request(
          "POST", "/api/deals/" + deal + "/stage", std::move(headers),
          R"({"stage_id":")" + stage + R"(","expected_version":)" + std::to_string(version) + "}");
    } catch (const std::exception&) {
      // The API closed the connection or did not answer: reconnect (maybe to the other one).
      link.reset();
      ++retried_;
      std::this_thread::sleep_for(50ms);  // a retry's back-off, not a wait for a condition
      continue;
    }
    if (!reply.keep_alive) link.reset();
    const auto body = parse(reply.body);
    if (reply.status == 200 || reply.status == 201) {
      const auto got = body["version"].GetInt64();
      if (got == version) {  // the deal already was on that stage
        ++no_ops_;
        ++skew;
        ++attempt;
        continue;
      }
      acknowledged a{body["stream_id"].GetString(), deal, got, body["position"].GetInt64()};
      auto seen = known.load();
      while (seen < got && !known.compare_exchange_weak(seen, got)) {
      }
      ++acked_;
      std::lock_guard lock(mutex_);
      acks_.push_back(std::move(a));
      return true;
    }
    if (reply.status == 409 && body.IsObject() && body.HasMember("current_version")) {
      ++conflicts_;
      ++attempt;
      auto seen = known.load();
      const auto current = body["current_version"].GetInt64();
      while (seen < current && !known.compare_exchange_weak(seen, current)) {
      }
      continue;
    }
    if (reply.status == 503 || reply.status == 429) {
      ++retried_;
      std::this_thread::sleep_for(50ms);  // back-off before the retry
      continue;
    }
    std::lock_guard lock(mutex_);
    failures_.push_back(std::to_string(reply.status) + " " + reply.body);
    return false;
  }
  std::lock_guard lock(mutex_);
  failures_.push_back("gave up on a move of " + deal + " after 200 conflicts or 180 s");
  return false;
}

// ---- room_watcher ----

// The client's socket, driven by an io_context that only the reader thread runs: reads never
// time out (a quiet room is normal), and stopping the io_context ends the reader at once.
struct room_watcher::connection {
  net::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
};

room_watcher::room_watcher(std::string name, std::uint16_t port, const std::string& token,
                           std::vector<std::string> rooms)
    : name_(std::move(name)),
      rooms_(std::move(rooms)),
      connection_(std::make_unique<connection>()) {
  auto& ws = connection_->ws;
  beast::get_lowest_layer(ws).expires_after(10s);
  beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), port});
  ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& req) {
    req.set(beast::http::field::authorization, "Bearer " + token);
  }));
  ws.handshake("127.0.0.1:" + std::to_string(port), "/ws");
  beast::get_lowest_layer(ws).expires_never();
  ws.text(true);
  // Every subscribe goes out before the reader starts: replays of one room may arrive before
  // the next room's "subscribed", and the reader takes every frame as it comes.
  for (const auto& room : rooms_) {
    ws.write(net::buffer(R"({"op":"subscribe","room":")" + room + R"(","since":0})"));
  }
  do_read();
  reader_ = std::thread([this] { connection_->io.run(); });
}

room_watcher::~room_watcher() {
  connection_->io.stop();
  if (reader_.joinable()) reader_.join();
}

void room_watcher::do_read() {
  connection_->ws.async_read(connection_->buffer, [this](beast::error_code ec, std::size_t) {
    if (ec) {
      std::lock_guard lock(mutex_);
      errors_.push_back("the connection ended: " + ec.message() + " (close code " +
                        std::to_string(connection_->ws.reason().code) + ")");
      closed_ = true;
      return;
    }
    on_frame(beast::buffers_to_string(connection_->buffer.data()));
    connection_->buffer.consume(connection_->buffer.size());
    do_read();
  });
}

void room_watcher::on_frame(const std::string& text) {
  const auto d = parse(text);
  if (!d.IsObject() || !d.HasMember("op")) return;
  const std::string op = d["op"].GetString();
  std::lock_guard lock(mutex_);
  if (op == "update") {
    deliveries_[d["room"].GetString()].push_back(
        {d["seq"].GetInt64(), d["position"].GetInt64(), d["kind"].GetString()});
  } else if (op == "subscribed") {
    subscribed_[d["room"].GetString()] = true;
  } else if (op == "resync") {
    resyncs_.push_back(text);
  } else if (op == "error") {
    errors_.push_back(text);
  }
}

bool room_watcher::wait_subscribed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!errors_.empty()) return false;
      if (subscribed_.size() == rooms_.size()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

bool room_watcher::wait_heads(const std::map<std::string, std::int64_t>& heads,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      const bool all = std::all_of(rooms_.begin(), rooms_.end(), [&](const std::string& room) {
        const auto head = heads.find(room);
        if (head == heads.end() || head->second == 0) return true;
        const auto got = deliveries_.find(room);
        return got != deliveries_.end() && !got->second.empty() &&
               got->second.back().seq >= head->second;
      });
      if (all) return true;
      if (closed_) return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::map<std::string, std::vector<delivery>> room_watcher::deliveries() const {
  std::lock_guard lock(mutex_);
  return deliveries_;
}

std::vector<std::string> room_watcher::resyncs() const {
  std::lock_guard lock(mutex_);
  return resyncs_;
}

std::vector<std::string> room_watcher::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool room_watcher::connected() const {
  return !closed_;
}

}  // namespace realmkit::testing::cluster
