// Upgrade requests (WebSocket on /ws) are handed over with their stream; others are not.
#include <doctest/doctest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <mutex>

#include "api/upgrade_handler.hpp"
#include "server_fixture.hpp"
#include "test_client.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

// Answers the handshake by hand and keeps the stream, so the test can talk over it.
class recording_upgrader final : public api::upgrade_handler {
 public:
  void on_upgrade(boost::beast::tcp_stream stream, api::upgrade_request request,
                  api::http_request plain) override {
    const std::string reply =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "X-Seen: " +
        std::string(request[boost::beast::http::field::sec_websocket_key]) + " " + plain.path +
        " " + std::string(plain.query_param("since").value_or("")) + "\r\n\r\n";
    boost::asio::write(stream.socket(), boost::asio::buffer(reply));
    std::lock_guard lock(mutex_);
    request_ids_.push_back(plain.request_id);
    streams_.push_back(std::move(stream));
  }

  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return streams_.size();
  }
  boost::beast::tcp_stream& stream(std::size_t i) {
    std::lock_guard lock(mutex_);
    return streams_.at(i);
  }
  // The streams belong to the server's io_context: release them before it goes.
  void clear() {
    std::lock_guard lock(mutex_);
    streams_.clear();
  }

 private:
  mutable std::mutex mutex_;  // guards streams_ and request_ids_
  std::vector<boost::beast::tcp_stream> streams_;
  std::vector<std::string> request_ids_;
};

const std::vector<std::pair<std::string, std::string>> kHandshake{
    {"Upgrade", "websocket"},
    {"Connection", "Upgrade"},
    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
    {"Sec-WebSocket-Version", "13"}};

}  // namespace

TEST_CASE("a WebSocket upgrade on a registered path is handed over with its stream") {
  recording_upgrader upgrader;
  server_setup setup;
  setup.upgrades.emplace_back("/ws", &upgrader);
  test_server s(
      [](api::router& r) {
        r.add(make_route("GET", "/ws", "ws.info", [](const api::http_request&) {
          return api::http_response::json(200, "\"plain GET\"");
        }));
      },
      setup);

  http_connection c(s.port());
  auto reply = c.request("GET", "/ws?since=42", kHandshake);
  CHECK(reply.status == 101);
  CHECK(reply.header("X-Seen") == "dGhlIHNhbXBsZSBub25jZQ== /ws 42");
  REQUIRE(eventually([&] { return upgrader.count() == 1; }));
  // The HTTP session has let go; the bytes that follow are the new protocol's.
  CHECK(eventually([&] { return s.server().connections() == 0; }));
  c.send("ping");
  std::string received(4, '\0');
  boost::asio::read(upgrader.stream(0).socket(), boost::asio::buffer(received));
  CHECK(received == "ping");
  boost::asio::write(upgrader.stream(0).socket(), boost::asio::buffer(std::string("pong")));
  CHECK(c.read_raw(4) == "pong");

  // A plain GET on the same path goes to the router; an upgrade elsewhere is not handed over.
  http_connection plain(s.port());
  CHECK(plain.request("GET", "/ws").body == "\"plain GET\"");
  CHECK(plain.request("GET", "/other", kHandshake).status == 404);
  CHECK(upgrader.count() == 1);
  upgrader.clear();
}

TEST_CASE("requests a front proxy could read differently are refused") {
  test_server s([](api::router& r) {
    r.add(make_route("POST", "/x", "x", [](const api::http_request& req) {
      return api::http_response::json(200, req.body);
    }));
  });
  SUBCASE("HTTP/1.1 without Host") {
    http_connection c(s.port());
    c.send("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    CHECK(c.read_reply().status == 400);
    CHECK(c.wait_closed());
  }
  SUBCASE("a transfer coding other than chunked") {
    http_connection c(s.port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}");
    CHECK(c.read_reply().status == 400);
  }
  SUBCASE("Content-Length and Transfer-Encoding together") {
    http_connection c(s.port());
    c.send(
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n");
    CHECK(c.read_reply().status == 400);
  }
  SUBCASE("two different Content-Lengths") {
    http_connection c(s.port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
    CHECK(c.read_reply().status == 400);
  }
  http_connection ok(s.port());
  CHECK(ok.request("POST", "/x", {}, "{}").body == "{}");
}
