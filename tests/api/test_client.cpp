#include "test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace realmkit::test {
namespace http = boost::beast::http;

std::string raw_request(std::string_view method, std::string_view target,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [name, value] : headers)
    out.append(name).append(": ").append(value).append("\r\n");
  if (!body.empty())
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

namespace {

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

http_connection::http_connection(std::uint16_t port) : fd_(connect_to(port)) {
  if (fd_ < 0) throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
}

http_connection::~http_connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool http_connection::can_connect(std::uint16_t port) {
  const int fd = connect_to(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool http_connection::try_send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void http_connection::send(std::string_view bytes) {
  if (!try_send(bytes))
    throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
}

std::size_t http_connection::receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0) throw std::runtime_error("timed out waiting for the server");
  char buf[65536];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return 0;  // EOF or reset
  pending_.append(buf, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(n);
}

http_reply http_connection::read_reply(bool head, std::chrono::milliseconds timeout) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.skip(head);
  parser.body_limit(64 * 1024 * 1024);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!pending_.empty()) {
      boost::beast::error_code ec;
      const auto used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (ec && ec != http::error::need_more) {
        throw std::runtime_error("unparsable response: " + ec.message());
      }
      if (parser.is_done()) break;
      if (used > 0 && !pending_.empty()) continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("timed out waiting for a response");
    if (receive(left) == 0) {
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) throw std::runtime_error("connection closed before a response");
      break;
    }
  }
  auto message = parser.release();
  http_reply reply;
  reply.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    auto [it, inserted] =
        reply.headers.try_emplace(std::string(field.name_string()), std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  reply.body = std::move(message.body());
  reply.keep_alive = message.keep_alive();
  return reply;
}

std::string http_connection::read_raw(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || receive(left) == 0) throw std::runtime_error("read_raw: no data");
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

bool http_connection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    try {
      if (receive(left) == 0) return true;
      pending_.clear();
    } catch (const std::runtime_error&) {
      return false;
    }
  }
}

http_reply http_connection::request(std::string_view method, std::string_view target,
                                    std::vector<std::pair<std::string, std::string>> headers,
                                    std::string_view body) {
  send(raw_request(method, target, std::move(headers), body));
  return read_reply(method == "HEAD");
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

void gate::enter() {
  std::unique_lock lock(mutex_);
  ++entered_;
  changed_.notify_all();
  changed_.wait_for(lock, 30s, [this] { return open_; });
}

void gate::open() {
  std::lock_guard lock(mutex_);
  open_ = true;
  changed_.notify_all();
}

bool gate::wait_entered(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return entered_ >= n; });
}

int gate::entered() const {
  std::lock_guard lock(mutex_);
  return entered_;
}

}  // namespace realmkit::test
