// A deliberately simple HTTP client for server tests: a blocking socket with deadlines, raw bytes
// out (so tests can send malformed, slow or pipelined requests) and parsed responses in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_types.hpp"

namespace realmkit::test {

using namespace std::chrono_literals;

struct http_reply {
  int status = 0;
  api::header_map headers;
  std::string body;
  bool keep_alive = true;

  std::string header(std::string_view name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// "METHOD target HTTP/1.1" with Host, the given headers, and Content-Length when there is a body.
std::string raw_request(std::string_view method, std::string_view target,
                        std::vector<std::pair<std::string, std::string>> headers = {},
                        std::string_view body = {});

class http_connection {
 public:
  // Connects to 127.0.0.1:port; throws on failure.
  explicit http_connection(std::uint16_t port);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  // True when a connection to the port is accepted (false once the server stopped listening).
  static bool can_connect(std::uint16_t port);

  // Sends every byte; throws when the peer has gone.
  void send(std::string_view bytes);
  // Sends what the peer takes; false once it has closed or reset the connection.
  bool try_send(std::string_view bytes);

  // Reads one response (headers only for a HEAD request); throws on timeout or when the
  // connection ends first.
  http_reply read_reply(bool head = false, std::chrono::milliseconds timeout = 10s);

  // Reads exactly n bytes as they come (after an upgrade); throws on timeout or end.
  std::string read_raw(std::size_t n, std::chrono::milliseconds timeout = 10s);

  // Waits until the server closes the connection (EOF or reset), discarding what arrives; false
  // when it is still open at the deadline.
  bool wait_closed(std::chrono::milliseconds timeout = 10s);

  http_reply request(std::string_view method, std::string_view target,
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     std::string_view body = {});

 private:
  // Appends what arrives within the timeout; 0 on EOF or reset; throws on timeout.
  std::size_t receive(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string pending_;  // received, not yet parsed
};

// Waits for a condition with a deadline (no fixed sleeps): true as soon as pred() holds.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s);

// Holds handlers until the test opens it, and counts those waiting.
class gate {
 public:
  void enter();  // blocks until open (at most 30 s, so a failing test cannot hang)
  void open();
  bool wait_entered(int n, std::chrono::milliseconds timeout = 10s);
  int entered() const;

 private:
  mutable std::mutex mutex_;  // guards open_ and entered_
  std::condition_variable changed_;
  bool open_ = false;
  int entered_ = 0;
};

}  // namespace realmkit::test
