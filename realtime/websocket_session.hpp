// One WebSocket connection on /ws: reads the client's frames (subscribe, unsubscribe, ping, auth)
// and writes what the hub delivers through a bounded queue. Owns itself (shared_from_this) and
// runs on its connection's strand; other threads enter only through deliver() and close(). Only
// realtime/*.cpp include this header (it brings in Beast's WebSocket stream).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/auth/auth_types.hpp"
#include "api/upgrade_handler.hpp"
#include "realtime/hub.hpp"
#include "realtime/room_access.hpp"
#include "realtime/session_options.hpp"

namespace realmkit::api::auth {
class token_service;
}

namespace realmkit::realtime {

// Counters shared by every session of an endpoint (null when not measured).
struct session_metrics {
  infra::gauge* connections = nullptr;
  infra::counter* messages_out = nullptr;
  infra::counter* bytes_out = nullptr;
  infra::counter* queue_drops = nullptr;
  infra::counter* refused_frames = nullptr;
  infra::histogram* fan_out_seconds = nullptr;
};

// What a session needs from its endpoint; outlives every session.
struct session_context {
  hub& rooms;
  const api::auth::token_service& tokens;
  session_options options;
  session_metrics metrics;
  // Called once when the session ends (the endpoint forgets it).
  std::function<void(std::uint64_t id)> ended;
  // The clock of the access tokens' expiry.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class websocket_session final : public subscriber,
                                public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(std::uint64_t id, boost::beast::tcp_stream stream, session_context& context,
                    api::auth::principal who);
  ~websocket_session() override;

  // Completes the handshake (answering with `subprotocol` when not empty) and starts reading.
  void start(api::upgrade_request request, std::string subprotocol);
  void deliver(shared_frame f) override;
  // Closes with `code` (1001 at shutdown) from any thread.
  void close(boost::beast::websocket::close_code code, std::string reason);

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle(std::string_view text);
  void reauthenticate(const std::string& token);
  void arm_expiry();
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_close(boost::beast::websocket::close_code code, std::string reason);
  void end();  // once: leaves the hub and the endpoint
  bool take_token();
  void send_now(std::string text);  // on the strand: a reply to the client's own frame

  const std::uint64_t id_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  session_context& context_;
  api::auth::principal who_;
  viewer as_;
  boost::asio::steady_timer expiry_;  // the access token's end
  boost::asio::steady_timer drop_;    // a slow client's last chance

  std::mutex mutex_;  // guards the queue and the flags below it
  std::deque<shared_frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;  // a write or the close is in progress (or posted)
  bool closing_ = false;  // nothing more is queued
  bool close_started_ = false;
  bool close_pending_ = false;  // the close goes out once the queue is written
  boost::beast::websocket::close_reason close_reason_;
  bool ended_ = false;

  shared_frame in_flight_;  // on the strand: the frame being written (kept alive for Beast)

  // On the strand only.
  double tokens_;
  std::chrono::steady_clock::time_point refilled_;
  std::size_t refusals_in_a_row_ = 0;
};

}  // namespace realmkit::realtime
