#include "realtime/ws_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "api/auth/token_service.hpp"
#include "api/auth_guard.hpp"
#include "api/error_mapping.hpp"
#include "api/problem.hpp"
#include "realtime/websocket_session.hpp"

namespace realmkit::realtime {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::string_view kSubprotocol = "realmkit.v1";
constexpr std::string_view kTokenPrefix = "access_token.";
constexpr std::string_view kSessionStoreUnavailable =
    "the session store is unavailable; retry shortly";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The subprotocols a client offers (Sec-WebSocket-Protocol, comma-separated, maybe repeated).
std::vector<std::string_view> offered_protocols(const api::upgrade_request& request) {
  std::vector<std::string_view> out;
  const auto [first, last] = request.equal_range(http::field::sec_websocket_protocol);
  for (auto field = first; field != last; ++field) {
    std::string_view value(field->value().data(), field->value().size());
    while (!value.empty()) {
      const auto comma = value.find(',');
      const auto item = trim(value.substr(0, comma));
      if (!item.empty()) out.push_back(item);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return out;
}

// An Origin the browser sent is ours (it names this Host) or on the allow-list; a client that
// sends none is not a browser and must bring a token, checked next.
bool origin_allowed(const api::http_request& plain, const std::vector<std::string>& allowed) {
  return !plain.header("Origin") || api::is_trusted_origin(plain, allowed);
}

}  // namespace

ws_endpoint::ws_endpoint(hub& rooms, const api::auth::token_service& tokens,
                         endpoint_options options, const session_options& session,
                         infra::metrics_registry* metrics)
    : options_(std::move(options)) {
  session_metrics m;
  if (metrics) {
    m.connections = &metrics->gauge_for("realmkit_ws_connections", "Open WebSocket connections");
    m.messages_out =
        &metrics->counter_for("realmkit_ws_messages_out_total", "WebSocket frames sent");
    m.bytes_out = &metrics->counter_for("realmkit_ws_bytes_out_total", "WebSocket bytes sent");
    m.queue_drops = &metrics->counter_for("realmkit_ws_queue_drops_total",
                                          "Clients dropped because their send queue was full");
    m.refused_frames = &metrics->counter_for("realmkit_ws_refused_frames_total",
                                             "Client frames answered with an error");
    m.fan_out_seconds =
        &metrics->histogram_for("realmkit_ws_fan_out_seconds",
                                "From a frame's creation in the hub to its write on a connection",
                                infra::latency_buckets());
    refused_ = &metrics->counter_for("realmkit_ws_refused_upgrades_total",
                                     "WebSocket upgrades refused before the handshake");
  }
  context_ = std::make_unique<session_context>(session_context{
      rooms, tokens, session, m,
      [this](std::uint64_t id) {
        std::lock_guard lock(mutex_);
        sessions_.erase(id);
        if (sessions_.empty()) ended_.notify_all();
      },
      options_.clock ? options_.clock : [] { return std::chrono::system_clock::now(); }});
}

ws_endpoint::~ws_endpoint() = default;

void ws_endpoint::on_upgrade(beast::tcp_stream stream, api::upgrade_request request,
                             api::http_request plain) {
  if (!origin_allowed(plain, options_.allowed_origins)) {
    return refuse(std::move(stream), 403, "this Origin may not open a WebSocket here", plain);
  }
  // Tokens never travel in the URL, where logs keep them.
  for (const auto& [name, value] : plain.query) {
    if (name == "access_token" || name == "token" || name == "jwt") {
      return refuse(std::move(stream), 400,
                    "send the token in a subprotocol, a cookie or an Authorization header, never "
                    "in the URL",
                    plain);
    }
  }
  const auto protocols = offered_protocols(request);
  std::string chosen;
  std::optional<std::string_view> token;
  for (const auto p : protocols) {
    if (p == kSubprotocol) chosen = std::string(kSubprotocol);
    if (p.starts_with(kTokenPrefix)) token = p.substr(kTokenPrefix.size());
  }
  if (!protocols.empty() && chosen.empty()) {
    return refuse(std::move(stream), 400, "offer the realmkit.v1 subprotocol", plain);
  }
  bool from_cookie = false;
  if (!token) {
    if (const auto* authorization = plain.header("Authorization")) {
      token = api::bearer_token(*authorization);
    }
  }
  if (!token) {
    if (const auto* cookies = plain.header("Cookie")) {
      token = api::cookie_value(*cookies, options_.cookie_name);
      from_cookie = token.has_value();
    }
  }
  if (from_cookie && !plain.header("Origin")) {
    // A cookie is sent by the browser on its own: only a page that names its origin may use it.
    return refuse(std::move(stream), 403, "a cookie session needs an Origin", plain);
  }
  if (!token) return refuse(std::move(stream), 401, "a valid access token is required", plain);
  auto who = context_->tokens.authenticate(*token);
  if (who.unavailable()) {
    // As the HTTP guard does: the token may be fine, so 503 (retry), not 401 (log in again).
    return refuse(std::move(stream), 503, std::string(kSessionStoreUnavailable), plain);
  }
  if (!who.ok()) return refuse(std::move(stream), 401, "the access token is not valid", plain);

  std::shared_ptr<websocket_session> session;
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      return refuse(std::move(stream), 503, "the server is shutting down", plain);
    }
    if (sessions_.size() >= options_.max_connections) {
      spdlog::warn("ws: {} connections: refusing more", sessions_.size());
      return refuse(std::move(stream), 503, "too many connections; retry later", plain);
    }
    const auto id = next_id_++;
    session =
        std::make_shared<websocket_session>(id, std::move(stream), *context_, std::move(who.who));
    sessions_.emplace(id, session);
  }
  session->start(std::move(request), std::move(chosen));
}

void ws_endpoint::refuse(beast::tcp_stream stream, int status, std::string detail,
                         const api::http_request& plain) {
  if (refused_) refused_->inc();
  api::http_response answer;
  if (status == 401) {
    answer = api::unauthorized_response(plain, plain.header("Authorization") != nullptr,
                                        std::move(detail));
  } else {
    auto kind = api::problem_kind::malformed_request;
    if (status == 403) {
      kind = api::problem_kind::forbidden;
    } else if (status == 503) {
      kind = detail == kSessionStoreUnavailable ? api::problem_kind::unavailable
                                                : api::problem_kind::shutting_down;
    }
    answer = api::to_response(api::make_problem(kind, std::move(detail)), plain.request_id);
  }
  spdlog::info("ws: upgrade refused with {} for {}: {}", answer.status, plain.remote_address,
               answer.body);
  struct state {
    beast::tcp_stream stream;
    http::response<http::string_body> response;
  };
  auto s = std::make_shared<state>(
      state{std::move(stream),
            http::response<http::string_body>(static_cast<http::status>(answer.status), 11)});
  auto& res = s->response;
  res.set(http::field::server, "realmkit");
  if (!answer.content_type.empty()) res.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  res.set("X-Request-Id", plain.request_id);
  res.keep_alive(false);
  res.body() = std::move(answer.body);
  res.prepare_payload();
  s->stream.expires_after(std::chrono::seconds(10));
  http::async_write(s->stream, s->response, [s](beast::error_code, std::size_t) {
    beast::error_code ignored;
    s->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  });
}

void ws_endpoint::close_all(std::chrono::milliseconds timeout) {
  std::vector<std::shared_ptr<websocket_session>> open;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (const auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (const auto& s : open) {
    s->close(beast::websocket::close_code::going_away, "the server is shutting down");
  }
  open.clear();
  std::unique_lock lock(mutex_);
  if (!ended_.wait_for(lock, timeout, [&] { return sessions_.empty(); })) {
    spdlog::warn("ws: {} connections did not close within {} ms", sessions_.size(),
                 timeout.count());
  }
}

std::size_t ws_endpoint::connections() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace realmkit::realtime
