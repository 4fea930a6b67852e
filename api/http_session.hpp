// One HTTP/1.1 connection: reads requests under the server's limits and timeouts, runs them
// through the pipeline (blocking routes on the worker pool), and writes the responses in request
// order. Owns itself through the handlers it has pending. Internal to api/.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "api/error_mapping.hpp"
#include "api/server_state.hpp"

namespace realmkit::api::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class http_session final : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, server_state& state);
  ~http_session();

  void run();
  // From any thread: answer what was read, then close (graceful stop).
  void drain();
  // From any thread: close now; unwritten responses are dropped.
  void close();

 private:
  // A response slot, reserved when its request is read so responses leave in request order.
  struct pending {
    std::uint64_t id = 0;
    bool ready = false;
    bool head = false;        // a HEAD request: send the headers only
    bool keep_alive = false;  // what the request asked for
    http::response<http::string_body> message;
  };

  void on_run();
  void do_read();
  void on_idle_read(beast::error_code ec, std::size_t bytes);
  void do_read_header();
  void on_read_header(beast::error_code ec, std::size_t bytes);
  void do_continue();
  void on_continue(beast::error_code ec, std::size_t bytes);
  void do_read_body();
  void on_read_body(beast::error_code ec, std::size_t bytes);
  void on_read_error(beast::error_code ec, const char* what);
  void on_request();
  void reject(problem_kind kind, std::string detail);
  void hand_over(upgrade_handler& handler, http::request<http::string_body> message,
                 http_request request, std::chrono::steady_clock::time_point start);
  void run_blocking(std::uint64_t id, const route& r, http_request request,
                    request_summary summary);
  void complete(std::uint64_t id, const request_summary& summary, http_response response);
  void do_write();
  void on_write(bool close, beast::error_code ec, std::size_t bytes);
  void do_shutdown();
  void on_linger(beast::error_code ec, std::size_t bytes);
  void on_drain();
  bool draining();
  void do_close();
  void fail(beast::error_code ec, const char* what);

  server_state& state_;  // first: outlives the stream
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<pending> queue_;
  std::string remote_;
  std::uint64_t next_id_ = 0;
  std::uint64_t requests_ = 0;  // read on this connection
  std::chrono::steady_clock::time_point request_start_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;   // no more requests are read; close after the queue is written
  bool closed_ = false;    // the socket is closed: nothing more is written
  bool draining_ = false;  // the server is stopping
};

}  // namespace realmkit::api::detail
