#include "app/webhook_sender.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <type_traits>

namespace realmkit::app {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

// Starts one asynchronous operation and runs the context until it completes: the deadlines of
// beast::tcp_stream apply, which blocking calls would not honour.
template <class Start>
beast::error_code complete(net::io_context& ioc, Start start) {
  beast::error_code result = net::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

std::string describe(const beast::error_code& ec, std::string_view during) {
  if (ec == beast::error::timeout) return std::string(during) + " timed out";
  return std::string(during) + " failed: " + ec.message();
}

tcp::endpoint endpoint_of(const infra::webhooks::ip_address& a, std::uint16_t port) {
  if (a.v6) {
    net::ip::address_v6::bytes_type bytes;
    std::copy(a.bytes.begin(), a.bytes.end(), bytes.begin());
    return {net::ip::address_v6(bytes), port};
  }
  net::ip::address_v4::bytes_type bytes;
  std::copy(a.bytes.begin(), a.bytes.begin() + 4, bytes.begin());
  return {net::ip::address_v4(bytes), port};
}

std::string host_header(const infra::webhooks::target_url& url) {
  const bool literal_v6 = url.host.find(':') != std::string::npos;
  std::string host = literal_v6 ? "[" + url.host + "]" : url.host;
  if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
  return host;
}

// Writes the request and reads the answer on a connected (and, for TLS, handshaken) stream.
template <class Stream>
void exchange(net::io_context& ioc, Stream& stream, const http::request<http::string_body>& req,
              std::size_t max_body, webhook_answer& answer) {
  if (const auto ec = complete(
          ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); })) {
    answer.error = describe(ec, "sending the request");
    return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  if (const auto ec = complete(ioc, [&](auto handler) {
        http::async_read_header(stream, buffer, parser, std::move(handler));
      })) {
    answer.error = describe(ec, "reading the answer");
    return;
  }
  answer.status = static_cast<int>(parser.get().result_int());
  if (const auto it = parser.get().find(http::field::retry_after); it != parser.get().end()) {
    answer.retry_after = std::string(it->value());
  }
  // For a webhook the status is the answer; the body is read (up to the limit) so that the
  // receiver sees its response taken, and what goes wrong reading it changes nothing.
  if (!parser.is_done()) {
    if (complete(ioc, [&](auto handler) {
          http::async_read(stream, buffer, parser, std::move(handler));
        })) {
      return;
    }
  }
  answer.body = std::move(parser.get().body());
}

}  // namespace

struct webhook_sender::tls {
  net::ssl::context context{net::ssl::context::tls_client};
};

webhook_sender::webhook_sender(webhook_sender_options options)
    : options_(std::move(options)), tls_(std::make_unique<tls>()) {
  auto& ctx = tls_->context;
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                  net::ssl::context::no_tlsv1_1);
  if (options_.ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(options_.ca_file);
  }
  ctx.set_verify_mode(net::ssl::verify_peer);
}

webhook_sender::~webhook_sender() = default;

webhook_answer webhook_sender::post(const webhook_post& request) const {
  webhook_answer answer;
  const auto started = steady::now();
  const auto finish = [&] {
    answer.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
    return answer;
  };

  http::request<http::string_body> req{http::verb::post, request.url.target, 11};
  req.set(http::field::host, host_header(request.url));
  req.set(http::field::user_agent, options_.user_agent);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.prepare_payload();

  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : request.addresses) endpoints.push_back(endpoint_of(a, request.url.port));
  if (endpoints.empty()) {
    answer.error = "no address to connect to";
    return finish();
  }

  net::io_context ioc(1);
  // Connects the lowest layer, then (for TLS) shakes hands on the stream above it, then talks.
  const auto talk = [&](auto& stream, beast::tcp_stream& lowest, bool tls) {
    lowest.expires_after(options_.connect_timeout);
    if (const auto ec = complete(
            ioc, [&](auto handler) { lowest.async_connect(endpoints, std::move(handler)); })) {
      answer.error = describe(ec, "connecting");
      return;
    }
    lowest.expires_after(options_.response_timeout);
    if constexpr (!std::is_same_v<std::decay_t<decltype(stream)>, beast::tcp_stream>) {
      if (tls) {
        if (const auto ec = complete(ioc, [&](auto handler) {
              stream.async_handshake(net::ssl::stream_base::client, std::move(handler));
            })) {
          answer.error = describe(ec, "the TLS handshake");
          return;
        }
      }
    }
    exchange(ioc, stream, req, options_.max_response_bytes, answer);
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest.socket().close(ignored);
  };
  if (!request.url.tls) {
    beast::tcp_stream stream(ioc);
    talk(stream, stream, false);
    return finish();
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls_->context);
  // SNI names the host; an IP literal is sent without it (RFC 6066 forbids addresses there).
  if (!request.url.host_is_literal &&
      !SSL_set_tlsext_host_name(stream.native_handle(), request.url.host.c_str())) {
    answer.error = "TLS: the server name could not be set";
    return finish();
  }
  stream.set_verify_callback(net::ssl::host_name_verification(request.url.host));
  talk(stream, beast::get_lowest_layer(stream), true);
  return finish();
}

}  // namespace realmkit::app
