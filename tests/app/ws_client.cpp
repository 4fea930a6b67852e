#include "tests/app/ws_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>

namespace realmkit::test {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct ws_client::impl {
  net::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  std::string subprotocol;
  bool closed = false;

  // Runs the io_context until `done` or the deadline; false on timeout (the operation is
  // cancelled and the connection is no longer usable).
  bool run_until(const bool& done, std::chrono::milliseconds timeout) {
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(deadline - std::chrono::steady_clock::now());
    }
    if (done) return true;
    beast::get_lowest_layer(ws).cancel();
    io.restart();
    io.run();
    return false;
  }
};

ws_client::ws_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ws_client::ws_client(ws_client&&) noexcept = default;
ws_client::~ws_client() = default;

ws_client::outcome ws_client::connect(std::uint16_t port, const ws_handshake& h) {
  auto p = std::make_unique<impl>();
  auto& socket = beast::get_lowest_layer(p->ws).socket();
  socket.open(tcp::v4());
  if (h.receive_buffer > 0) {
    socket.set_option(net::socket_base::receive_buffer_size(h.receive_buffer));
  }
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  std::string protocols;
  for (const auto& s : h.subprotocols) protocols += (protocols.empty() ? "" : ", ") + s;
  p->ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    for (const auto& [name, value] : h.headers) req.set(name, value);
    if (!protocols.empty()) req.set(beast::http::field::sec_websocket_protocol, protocols);
  }));
  websocket::response_type response;
  beast::error_code ec;
  p->ws.handshake(response, "127.0.0.1:" + std::to_string(port), h.target, ec);
  outcome out;
  if (ec) {
    out.status = static_cast<int>(response.result_int());
    out.body = response.body();
    if (out.status == 0) out.body = ec.message();
    return out;
  }
  p->subprotocol = std::string(response[beast::http::field::sec_websocket_protocol]);
  p->ws.text(true);
  out.client.emplace(ws_client(std::move(p)));
  out.status = 101;
  return out;
}

const std::string& ws_client::subprotocol() const {
  return impl_->subprotocol;
}

void ws_client::send(const std::string& text) {
  impl_->ws.write(net::buffer(text));
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  if (impl_->closed) return std::nullopt;
  bool done = false;
  beast::error_code result;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!impl_->run_until(done, timeout)) {
    impl_->closed = true;
    return std::nullopt;
  }
  if (result) {
    impl_->closed = true;
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  return text;
}

rapidjson::Document ws_client::read_json(std::chrono::milliseconds timeout) {
  const auto text = read(timeout);
  REQUIRE_MESSAGE(text.has_value(), "no frame arrived (close code " << close_code() << ")");
  rapidjson::Document d;
  d.Parse(text->c_str());
  REQUIRE_MESSAGE(d.IsObject(), *text);
  return d;
}

rapidjson::Document ws_client::read_op(const std::string& op, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    REQUIRE_MESSAGE(left.count() > 0, "no \"" << op << "\" frame arrived");
    auto d = read_json(left);
    if (d.HasMember("op") && d["op"].IsString() && op == d["op"].GetString()) return d;
  }
}

int ws_client::close_code() const {
  return static_cast<int>(impl_->ws.reason().code);
}

bool ws_client::closed() const {
  return impl_->closed;
}

void ws_client::close() {
  if (impl_->closed) return;
  beast::error_code ignored;
  impl_->ws.close(websocket::close_code::normal, ignored);
  impl_->closed = true;
}

}  // namespace realmkit::test
