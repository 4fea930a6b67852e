#include "realtime/websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <variant>

#include "api/auth/permissions.hpp"
#include "api/auth/token_service.hpp"
#include "realtime/protocol.hpp"

namespace realmkit::realtime {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace {

viewer viewer_of(const api::auth::principal& p) {
  viewer v;
  v.user_id = p.user_id;
  v.role = p.role;
  v.all_teams = api::auth::scope_of(p.role) == api::auth::record_scope::all;
  v.team = p.team_id;
  return v;
}

}  // namespace

websocket_session::websocket_session(std::uint64_t id, beast::tcp_stream stream,
                                     session_context& context, api::auth::principal who)
    : id_(id),
      ws_(std::move(stream)),
      context_(context),
      who_(std::move(who)),
      as_(viewer_of(who_)),
      expiry_(ws_.get_executor()),
      drop_(ws_.get_executor()),
      tokens_(context.options.burst),
      refilled_(std::chrono::steady_clock::now()) {
  if (auto* g = context_.metrics.connections) g->inc();
}

websocket_session::~websocket_session() {
  if (auto* g = context_.metrics.connections) g->add(-1);
}

void websocket_session::start(api::upgrade_request request, std::string subprotocol) {
  beast::get_lowest_layer(ws_).expires_never();  // the WebSocket timeouts below take over
  if (context_.options.send_buffer_bytes > 0) {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(
        net::socket_base::send_buffer_size(context_.options.send_buffer_bytes), ignored);
  }
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = context_.options.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [subprotocol = std::move(subprotocol)](websocket::response_type& res) {
        res.set(beast::http::field::server, "realmkit");
        if (!subprotocol.empty()) res.set(beast::http::field::sec_websocket_protocol, subprotocol);
      }));
  ws_.read_message_max(context_.options.max_message_bytes);
  ws_.text(true);
  ws_.async_accept(request,
                   beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
}

void websocket_session::on_accept(beast::error_code ec) {
  if (ec) {
    spdlog::debug("ws {}: handshake failed: {}", id_, ec.message());
    return end();
  }
  arm_expiry();
  do_read();
}

// ---- reading ----

void websocket_session::do_read() {
  ws_.async_read(buffer_,
                 beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

void websocket_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    // A closed connection, an idle timeout, or a frame over the limit (Beast has sent 1009).
    if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
      spdlog::debug("ws {}: read ended: {}", id_, ec.message());
    }
    return end();
  }
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    if (context_.metrics.refused_frames) context_.metrics.refused_frames->inc();
    send_now(error_frame({"malformed", "frames are JSON text, not binary", {}}));
    return do_read();
  }
  const auto text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > 4096) buffer_.shrink_to_fit();  // an idle session stays small
  handle(text);
  do_read();
}

bool websocket_session::take_token() {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ =
      std::min(context_.options.burst, tokens_ + elapsed * context_.options.frames_per_second);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void websocket_session::handle(std::string_view text) {
  if (!take_token()) {
    if (context_.metrics.refused_frames) context_.metrics.refused_frames->inc();
    if (++refusals_in_a_row_ >= static_cast<std::size_t>(context_.options.burst)) {
      return close(websocket::close_code::policy_error, "too many frames");
    }
    return send_now(error_frame({"rate_limited", "too many frames; slow down", {}}));
  }
  refusals_in_a_row_ = 0;
  auto parsed = parse_client_message(text);
  if (auto* e = std::get_if<protocol_error>(&parsed)) {
    if (context_.metrics.refused_frames) context_.metrics.refused_frames->inc();
    return send_now(error_frame(*e));
  }
  auto& m = std::get<client_message>(parsed);
  switch (m.op) {
    case client_op::ping:
      return send_now(pong_frame());
    case client_op::auth:
      return reauthenticate(m.token);
    case client_op::subscribe:
      return context_.rooms.subscribe(shared_from_this(), as_, m.room, m.since);
    case client_op::unsubscribe:
      return context_.rooms.unsubscribe(shared_from_this(), m.room);
  }
}

// A fresh access token keeps the connection open past the old one's expiry. It must be the same
// user's; their role and team as of the new token apply to later subscriptions.
void websocket_session::reauthenticate(const std::string& token) {
  const auto result = context_.tokens.authenticate(token);
  if (!result.ok()) {
    return send_now(error_frame({"unauthorized", "the token is not valid", {}}));
  }
  if (result.who.user_id != who_.user_id) {
    return send_now(error_frame({"forbidden", "the token is another user's", {}}));
  }
  who_ = result.who;
  as_ = viewer_of(who_);
  arm_expiry();
  send_now(authenticated_frame(
      std::chrono::duration_cast<std::chrono::seconds>(who_.expires_at.time_since_epoch())
          .count()));
}

void websocket_session::arm_expiry() {
  const auto left = who_.expires_at - context_.clock();
  expiry_.expires_after(
      std::max(std::chrono::steady_clock::duration::zero(),
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(left)));
  expiry_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return;  // re-armed or ended
    if (auto self = weak.lock()) {
      self->do_close(websocket::close_code::policy_error, "the access token expired");
    }
  });
}

// ---- writing ----

void websocket_session::send_now(std::string text) {
  deliver(make_frame(std::move(text)));
}

void websocket_session::deliver(shared_frame f) {
  std::lock_guard lock(mutex_);
  if (closing_) return;
  const auto size = f->text.size();
  if (queue_.size() >= context_.options.max_queue_messages ||
      queued_bytes_ + size > context_.options.max_queue_bytes) {
    // A client that does not read: it loses its queue, learns so, and goes.
    if (context_.metrics.queue_drops) context_.metrics.queue_drops->inc();
    spdlog::info("ws {}: user {} reads too slowly ({} messages, {} bytes queued): resync and close",
                 id_, who_.user_id, queue_.size(), queued_bytes_);
    queue_.clear();
    queued_bytes_ = 0;
    auto last = make_frame(resync_frame({}, 0, "slow_consumer"));
    queued_bytes_ += last->text.size();
    queue_.push_back(std::move(last));
    closing_ = true;
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->drop_.expires_after(self->context_.options.drop_timeout);
      self->drop_.async_wait([weak = self->weak_from_this()](beast::error_code ec) {
        if (ec) return;
        if (auto s = weak.lock()) {
          beast::error_code ignored;
          beast::get_lowest_layer(s->ws_).socket().close(ignored);
        }
      });
      self->do_close(websocket::close_code::try_again_later, "too slow");
    });
  } else {
    queued_bytes_ += size;
    queue_.push_back(std::move(f));
  }
  if (!writing_) {
    writing_ = true;
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  }
}

void websocket_session::do_write() {
  shared_frame next;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      writing_ = false;
      if (close_pending_) {
        writing_ = true;  // the close is the last write
        close_pending_ = false;
      } else {
        return;
      }
    } else {
      next = queue_.front();
    }
  }
  if (!next) {
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {
      // The read loop sees the close (or the error) and ends the session.
    });
    return;
  }
  in_flight_ = std::move(next);
  ws_.async_write(net::buffer(in_flight_->text),
                  beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
}

void websocket_session::on_write(beast::error_code ec, std::size_t bytes) {
  const auto written = std::move(in_flight_);
  {
    std::lock_guard lock(mutex_);
    if (!queue_.empty() && queue_.front() == written) {
      queued_bytes_ -= written->text.size();
      queue_.pop_front();
    }
  }
  if (ec) {
    spdlog::debug("ws {}: write failed: {}", id_, ec.message());
    std::lock_guard lock(mutex_);
    writing_ = false;
    closing_ = true;
    return;  // the read fails too and ends the session
  }
  if (auto* c = context_.metrics.messages_out) c->inc();
  if (auto* c = context_.metrics.bytes_out) c->inc(bytes);
  if (auto* h = context_.metrics.fan_out_seconds) {
    h->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - written->made).count());
  }
  do_write();
}

// ---- closing ----

void websocket_session::close(websocket::close_code code, std::string reason) {
  net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
    self->do_close(code, reason);
  });
}

void websocket_session::do_close(websocket::close_code code, std::string reason) {
  std::lock_guard lock(mutex_);
  if (close_started_) return;
  close_started_ = true;
  closing_ = true;
  close_reason_ = websocket::close_reason(code, reason);
  close_pending_ = true;
  if (!writing_) {
    writing_ = true;
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  }
}

void websocket_session::end() {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    closing_ = true;
  }
  expiry_.cancel();
  drop_.cancel();
  auto self = shared_from_this();
  context_.rooms.leave(self);
  if (context_.ended) context_.ended(id_);
}

}  // namespace realmkit::realtime
