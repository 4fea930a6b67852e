#include "api/http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "api/error_mapping.hpp"
#include "api/request_id.hpp"
#include "api/upgrade_handler.hpp"

namespace realmkit::api::detail {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_parse_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

// Header values travel as they are; CR, LF or NUL would let a value end the header block.
bool is_safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (c <= ' ' || c == ':' || c == 127) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Moves the body out of `message`; the rest stays (an upgrade hands both on).
http_request to_plain(http::request<http::string_body>& message, const std::string& remote,
                      bool& target_ok) {
  http_request r;
  r.method = std::string(message.method_string());
  r.target = std::string(message.target());
  target_ok = split_target(r.target, r.path, r.query);
  for (const auto& field : message) {
    const auto name = field.name_string();
    auto [it, inserted] = r.headers.try_emplace(std::string(name), std::string(field.value()));
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
  r.body = std::move(message.body());
  r.remote_address = remote;
  return r;
}

}  // namespace

http_session::http_session(tcp::socket&& socket, server_state& state)
    : state_(state), stream_(std::move(socket)) {
  beast::error_code ec;
  const auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
  // Responses are written whole; waiting to coalesce them (Nagle) only adds latency.
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

http_session::~http_session() {
  state_.requests_finished(queue_.size());
  state_.remove_session(this);
}

void http_session::run() {
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&http_session::on_run, shared_from_this()));
}

void http_session::on_run() {
  state_.add_session(shared_from_this());
  // A session accepted just as stop() began drains itself: stop() may have missed it.
  if (state_.draining.load()) draining_ = true;
  if (draining_) return do_close();
  do_read();
}

void http_session::drain() {
  net::post(stream_.get_executor(),
            beast::bind_front_handler(&http_session::on_drain, shared_from_this()));
}

void http_session::close() {
  net::post(stream_.get_executor(),
            beast::bind_front_handler(&http_session::do_close, shared_from_this()));
}

// ---- reading ----

void http_session::do_read() {
  if (reading_ || closing_ || draining()) return;
  // Read ahead of pending responses only as far as the pipeline limit, and only requests already
  // on the wire: a connection waiting for its answer is not idle, so no idle timer runs for it.
  if (queue_.size() >= state_.options.pipeline_limit) return;
  if (buffer_.size() == 0 && !queue_.empty()) return;
  reading_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(state_.options.header_limit));
  parser_->body_limit(state_.options.body_limit);
  if (buffer_.size() == 0 && requests_ > 0) {
    stream_.expires_after(state_.options.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        beast::bind_front_handler(&http_session::on_idle_read, shared_from_this()));
  } else {
    do_read_header();
  }
}

void http_session::on_idle_read(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    reading_ = false;
    // The keep-alive wait ran out, or the client closed between requests: both are normal.
    if (ec == beast::error::timeout || ec == net::error::eof) return do_close();
    return on_read_error(ec, "idle read");
  }
  buffer_.commit(bytes);
  do_read_header();
}

void http_session::do_read_header() {
  stream_.expires_after(state_.options.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&http_session::on_read_header, shared_from_this()));
}

void http_session::on_read_header(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec, "read header");
  const auto& message = parser_->get();
  // What the parser lets through but RFC 9112 refuses; a proxy in front could read these requests
  // differently (request smuggling), so they end the connection.
  if (message.version() == 11 && message.find(http::field::host) == message.end()) {
    reading_ = false;
    state_.malformed.inc();
    return reject(problem_kind::malformed_request, "an HTTP/1.1 request needs a Host header");
  }
  if (message.find(http::field::transfer_encoding) != message.end() && !parser_->chunked()) {
    reading_ = false;
    state_.malformed.inc();
    return reject(problem_kind::malformed_request, "unsupported Transfer-Encoding");
  }
  if (parser_->is_done()) return on_request();
  const auto expect = message[http::field::expect];
  // A client waiting for "100 Continue" gets it only when no response is being written, since
  // the interim response must not interleave with a final one.
  if (iequals(expect, "100-continue") && queue_.empty() && !writing_) return do_continue();
  do_read_body();
}

void http_session::do_continue() {
  writing_ = true;
  stream_.expires_after(state_.options.write_timeout);
  net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                   beast::bind_front_handler(&http_session::on_continue, shared_from_this()));
}

void http_session::on_continue(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    reading_ = false;
    return fail(ec, "write 100-continue");
  }
  do_read_body();
}

void http_session::do_read_body() {
  stream_.expires_after(state_.options.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read_body, shared_from_this()));
}

void http_session::on_read_body(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec, "read body");
  on_request();
}

void http_session::on_read_error(beast::error_code ec, const char* what) {
  reading_ = false;
  if (ec == net::error::operation_aborted || closed_) return;
  if (ec == http::error::end_of_stream || ec == net::error::eof) {
    // The client stopped sending: answer what it already asked, then close.
    closing_ = true;
    if (queue_.empty() && !writing_) do_close();
    return;
  }
  if (ec == beast::error::timeout) {
    // Headers or body too slow (slowloris): the stream has already closed the socket.
    state_.timeouts.inc();
    spdlog::debug("http {}: {} timed out", remote_, what);
    closed_ = true;
    return;
  }
  if (ec == http::error::header_limit) {
    state_.header_limit_hits.inc();
    return reject(problem_kind::headers_too_large, "request line and headers exceed " +
                                                       std::to_string(state_.options.header_limit) +
                                                       " bytes");
  }
  if (ec == http::error::body_limit) {
    state_.body_limit_hits.inc();
    return reject(problem_kind::payload_too_large,
                  "the body exceeds " + std::to_string(state_.options.body_limit) + " bytes");
  }
  if (is_parse_error(ec)) {
    state_.malformed.inc();
    return reject(problem_kind::malformed_request, "malformed HTTP: " + ec.message());
  }
  fail(ec, what);
}

// ---- handling ----

void http_session::on_request() {
  reading_ = false;
  ++requests_;
  const auto start = std::chrono::steady_clock::now();
  auto message = parser_->release();
  parser_.reset();
  const bool keep_alive = message.keep_alive();
  const bool head = message.method() == http::verb::head;
  bool target_ok = false;
  http_request request = to_plain(message, remote_, target_ok);
  if (!keep_alive) closing_ = true;  // nothing after this request is read

  if (beast::websocket::is_upgrade(message) && target_ok && queue_.empty() && !writing_ &&
      !draining()) {
    if (const auto it = state_.upgrades.find(request.path); it != state_.upgrades.end()) {
      return hand_over(*it->second, std::move(message), std::move(request), start);
    }
  }

  queue_.push_back(pending{next_id_++, false, head, keep_alive, {}});
  const auto id = queue_.back().id;
  state_.request_started();

  // Refusals decided here, before any route code (guards included) sees the request.
  std::optional<problem> refusal;
  if (!target_ok) {
    refusal = make_problem(problem_kind::malformed_request,
                           "the request target must be a path (origin-form)");
  } else if (draining()) {
    refusal = make_problem(problem_kind::shutting_down);
  }
  if (refusal) {
    request.request_id = request_id_for(request.header("X-Request-Id"));
    request.route_name = "rejected";
    auto summary = request_summary::of(request, start);
    complete(id, summary, to_response(std::move(*refusal), request.request_id));
    return do_read();
  }

  auto prepared = state_.pipeline.prepare(request);
  auto summary = request_summary::of(request, start);
  if (prepared.response) {
    complete(id, summary, std::move(*prepared.response));
  } else if (!prepared.matched->blocking ||
             (prepared.matched->runs_inline && prepared.matched->runs_inline(request))) {
    complete(id, summary, state_.pipeline.run(*prepared.matched, request));
  } else {
    run_blocking(id, *prepared.matched, std::move(request), std::move(summary));
  }
  do_read();
}

void http_session::hand_over(upgrade_handler& handler, upgrade_request message,
                             http_request request, std::chrono::steady_clock::time_point start) {
  request.request_id = request_id_for(request.header("X-Request-Id"));
  request.route_name = "upgrade";
  auto switching = http_response::empty(101);
  state_.pipeline.finish(request_summary::of(request, start), switching);
  // From here the stream is the handler's: this session never touches it again and ends when its
  // last handler returns.
  closed_ = true;
  closing_ = true;
  stream_.expires_never();
  // The connection no longer counts against the HTTP server's limit: the handler has its own.
  state_.remove_session(this);
  handler.on_upgrade(std::move(stream_), std::move(message), std::move(request));
}

void http_session::run_blocking(std::uint64_t id, const route& r, http_request request,
                                request_summary summary) {
  // The task owns the summary; a refused task is destroyed unrun, so keep a copy for the 503.
  request_summary fallback = summary;
  state_.task_submitted();
  const bool queued =
      state_.pool.try_submit([self = shared_from_this(), &r, id, summary = std::move(summary),
                              request = std::move(request)]() mutable {
        server_state& state = self->state_;
        http_response response =
            state.abandoning.load()
                ? to_response(make_problem(problem_kind::shutting_down), request.request_id)
                : state.pipeline.run(r, request);
        net::post(self->stream_.get_executor(), [self, id, summary = std::move(summary),
                                                 response = std::move(response)]() mutable {
          self->complete(id, summary, std::move(response));
        });
        // The session must not be released by this thread after the server counts the task done.
        self.reset();
        state.task_done();
      });
  if (!queued) {
    state_.task_done();
    state_.overloaded.inc();
    auto p = make_problem(problem_kind::overloaded, "too many requests are waiting; retry shortly");
    complete(id, fallback, to_response(std::move(p), fallback.request_id));
  }
}

void http_session::reject(problem_kind kind, std::string detail) {
  // The input cannot be read further: answer, then close (lingering so the client sees it).
  closing_ = true;
  const auto start = std::chrono::steady_clock::now();
  request_summary summary;
  summary.route_name = "rejected";
  summary.remote = remote_;
  summary.start = start;
  const std::string* incoming_id = nullptr;
  std::string incoming;
  if (parser_ && parser_->is_header_done()) {
    const auto& message = parser_->get();
    summary.method = std::string(message.method_string());
    summary.path = std::string(message.target().substr(0, message.target().find('?')));
    if (const auto it = message.find("X-Request-Id"); it != message.end()) {
      incoming = std::string(it->value());
      incoming_id = &incoming;
    }
    if (const auto it = message.find(http::field::origin); it != message.end()) {
      summary.origin = std::string(it->value());
    }
  }
  summary.request_id = request_id_for(incoming_id);
  parser_.reset();
  queue_.push_back(pending{next_id_++, false, false, false, {}});
  state_.request_started();
  complete(queue_.back().id, summary,
           to_response(make_problem(kind, std::move(detail)), summary.request_id));
}

void http_session::complete(std::uint64_t id, const request_summary& summary,
                            http_response response) {
  if (closed_) return;
  auto it = queue_.begin();
  while (it != queue_.end() && it->id != id) ++it;
  if (it == queue_.end()) return;

  state_.pipeline.finish(summary, response);

  auto& m = it->message;
  m.version(11);
  m.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) {
    if (is_safe_header(name, value)) {
      m.insert(name, value);
    } else {
      spdlog::error("http: dropped an unsafe response header {} (request {})", name,
                    summary.request_id);
    }
  }
  for (const auto& cookie : response.cookies) {
    if (is_safe_header("Set-Cookie", cookie)) m.insert(http::field::set_cookie, cookie);
  }
  const bool bodiless = response.status == 204 || response.status == 304 || response.status < 200;
  if (!response.content_type.empty() && !bodiless) {
    m.set(http::field::content_type, response.content_type);
  }
  if (!bodiless) m.body() = std::move(response.body);
  // Each response keeps its own request's wish; while draining, the last one announces the close.
  m.keep_alive(it->keep_alive && !(draining() && std::next(it) == queue_.end()));
  m.prepare_payload();
  if (it->head) {
    m.content_length(m.body().size());  // what a GET would send
    m.body().clear();
  }
  it->ready = true;
  do_write();
}

// ---- writing ----

void http_session::do_write() {
  if (writing_ || closed_ || queue_.empty() || !queue_.front().ready) return;
  writing_ = true;
  auto& message = queue_.front().message;
  stream_.expires_after(state_.options.write_timeout);
  http::async_write(stream_, message,
                    beast::bind_front_handler(&http_session::on_write, shared_from_this(),
                                              !message.keep_alive()));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  writing_ = false;
  if (!queue_.empty()) {
    queue_.pop_front();
    state_.requests_finished(1);
  }
  if (ec) return fail(ec, "write");
  if (close) return do_shutdown();
  if ((closing_ || draining()) && queue_.empty()) return do_shutdown();
  do_write();
  do_read();
}

// ---- closing ----

void http_session::do_shutdown() {
  if (closed_) return;
  closing_ = true;
  if (reading_) return do_close();  // a read-ahead is pending: no lingering read beside it
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return do_close();
  // Read and discard what the client still sends (an unread body), so that the close does not
  // reset the connection before the client has read the response.
  reading_ = true;
  buffer_.clear();
  stream_.expires_after(state_.options.linger_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::on_linger(beast::error_code ec, std::size_t) {
  if (ec) {
    reading_ = false;
    return do_close();
  }
  // The deadline set in do_shutdown still holds: it bounds the whole linger.
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

bool http_session::draining() {
  // The server's flag is set before it stops listening, so every response completed after that
  // already announces the close, even before this session's on_drain has run.
  if (!draining_ && state_.draining.load()) draining_ = true;
  return draining_;
}

void http_session::on_drain() {
  draining_ = true;
  if (closed_ || writing_ || !queue_.empty()) return;  // on_write closes after the last response
  if (reading_ && !closing_) return do_close();        // idle or mid-request: nothing to answer
  if (!reading_) do_shutdown();
}

void http_session::do_close() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
}

void http_session::fail(beast::error_code ec, const char* what) {
  // Resets and broken pipes are the client's business; they are worth a debug line, not more.
  spdlog::debug("http {}: {}: {}", remote_, what, ec.message());
  do_close();
}

}  // namespace realmkit::api::detail
