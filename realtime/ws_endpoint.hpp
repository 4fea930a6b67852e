// The /ws endpoint: refuses a WebSocket upgrade that lacks a valid access token or comes from a
// foreign Origin before the handshake completes (an HTTP problem answer), accepts the others into
// websocket_sessions, and closes them all (1001) at shutdown. Plain C++ apart from the
// upgrade_handler interface it implements.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/upgrade_handler.hpp"
#include "infra/metrics.hpp"
#include "realtime/hub.hpp"
#include "realtime/session_options.hpp"

namespace realmkit::api::auth {
class token_service;
}

namespace realmkit::realtime {

struct session_context;
class websocket_session;

struct endpoint_options {
  // Browser origins allowed to connect (scheme://host[:port]), besides the server's own.
  std::vector<std::string> allowed_origins;
  // The HTTP-only cookie that carries a browser session's access token.
  std::string cookie_name = "realmkit_access";
  std::size_t max_connections = 50'000;
  // The clock access tokens are issued by (their expiry closes a session); the system clock when
  // empty.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class ws_endpoint final : public api::upgrade_handler {
 public:
  // The hub and token service must outlive the endpoint.
  ws_endpoint(hub& rooms, const api::auth::token_service& tokens, endpoint_options options,
              const session_options& session, infra::metrics_registry* metrics = nullptr);
  ~ws_endpoint() override;

  void on_upgrade(boost::beast::tcp_stream stream, api::upgrade_request request,
                  api::http_request plain) override;

  // Closes every connection with 1001 (going away: clients reconnect elsewhere) and waits up to
  // `timeout` for them to end. Call before the server stops its I/O threads.
  void close_all(std::chrono::milliseconds timeout);
  std::size_t connections() const;

 private:
  void refuse(boost::beast::tcp_stream stream, int status, std::string detail,
              const api::http_request& plain);

  endpoint_options options_;
  std::unique_ptr<session_context> context_;
  mutable std::mutex mutex_;  // guards sessions_, next_id_ and closing_
  std::condition_variable ended_;
  std::unordered_map<std::uint64_t, std::weak_ptr<websocket_session>> sessions_;
  std::uint64_t next_id_ = 1;
  bool closing_ = false;
  infra::counter* refused_ = nullptr;
};

}  // namespace realmkit::realtime
