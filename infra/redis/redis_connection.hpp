// A synchronous Redis connection (hiredis behind a pimpl, so includers need no hiredis headers):
// commands, pipelines and the replies as owned values.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "infra/redis/redis_url.hpp"

namespace realmkit::infra::redis {

// The server answered with an error reply (a script error, a wrong type, NOSCRIPT, a failed AUTH).
// The connection stays usable.
class redis_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server cannot be reached: connect failed, I/O error, timeout, protocol error. The connection
// that threw is unusable from then on and must be replaced by a new one.
class redis_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One reply, owned (copied out of hiredis's reply tree).
struct redis_reply {
  enum class type { nil, integer, string, status, error, array };

  type kind = type::nil;
  std::int64_t integer = 0;
  std::string str;  // string, status or error text
  std::vector<redis_reply> elements;

  bool is_nil() const { return kind == type::nil; }
  bool is_error() const { return kind == type::error; }
  // Throws redis_error when this is an error reply, so pipelined replies can be checked one by one.
  const redis_reply& throw_if_error() const;
};

struct redis_connection_options {
  redis_url url;
  std::chrono::milliseconds connect_timeout{1000};
  // For each read and write on the socket; a command that takes longer throws redis_unavailable.
  std::chrono::milliseconds io_timeout{1000};
};

// Thread-compatible: one thread at a time; callers that share one hold a mutex around it.
class redis_connection final {
 public:
  // Connects, then AUTH and SELECT when the URL asks for them. Throws redis_unavailable when the
  // server cannot be reached, redis_error when it refuses AUTH or SELECT.
  explicit redis_connection(redis_connection_options options);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Sends one command (binary safe) and waits for its reply. Throws redis_error for an error reply.
  redis_reply command(std::span<const std::string_view> argv);
  redis_reply command(std::initializer_list<std::string_view> argv);

  // Pipelining: append several commands, then read one reply per command in order. Error replies
  // are returned as values here, so one failed command does not lose the replies after it.
  void append(std::span<const std::string_view> argv);
  void append(std::initializer_list<std::string_view> argv);
  // Flushes what was appended and waits (at most io_timeout) for the next reply.
  redis_reply read_reply();
  // Waits at most `wait` for the next reply (a pushed pub/sub message, typically); nullopt when
  // none arrived in time, and the connection stays usable, unlike a read_reply timeout.
  std::optional<redis_reply> read_reply_for(std::chrono::milliseconds wait);
  // A reply already received and buffered, without touching the socket.
  std::optional<redis_reply> buffered_reply();

  // True once an I/O error made the connection unusable.
  bool broken() const;
  const redis_url& url() const { return options_.url; }

 private:
  struct impl;
  [[noreturn]] void fail_io(std::string_view what);

  redis_connection_options options_;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra::redis
