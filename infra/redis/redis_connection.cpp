#include "infra/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace realmkit::infra::redis {
namespace {

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

redis_reply convert(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      out.kind = redis_reply::type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_STRING:
      out.kind = redis_reply::type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.kind = redis_reply::type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = redis_reply::type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = redis_reply::type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
      break;
    default:
      out.kind = redis_reply::type::nil;
      break;
  }
  return out;
}

// hiredis writes with write(2), so a server that closed the connection raises SIGPIPE, whose
// default action ends the process. Blocking it on this thread for the write and discarding one it
// raised (as libpq does) turns that into the EPIPE error it should be, without changing the
// process's signal handling.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    // One already pending is not ours to discard.
    active_ =
        sigismember(&pending, SIGPIPE) == 0 && pthread_sigmask(SIG_BLOCK, &pipe_, &previous_) == 0;
  }
  ~sigpipe_guard() {
    if (!active_) return;
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      const timespec no_wait{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t previous_{};
  bool active_ = false;
};

}  // namespace

const redis_reply& redis_reply::throw_if_error() const {
  if (kind == type::error) throw redis_error("Redis error: " + str);
  return *this;
}

struct redis_connection::impl {
  context_ptr context;
  bool broken = false;
};

redis_connection::redis_connection(redis_connection_options options)
    : options_(std::move(options)), impl_(std::make_unique<impl>()) {
  const auto& url = options_.url;
  impl_->context.reset(
      redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(options_.connect_timeout)));
  if (!impl_->context) {
    impl_->broken = true;
    throw redis_unavailable("cannot connect to Redis at " + url.masked() + ": out of memory");
  }
  if (impl_->context->err != 0) {
    impl_->broken = true;
    throw redis_unavailable("cannot connect to Redis at " + url.masked() + ": " +
                            impl_->context->errstr);
  }
  if (redisSetTimeout(impl_->context.get(), to_timeval(options_.io_timeout)) != REDIS_OK) {
    fail_io("setting the socket timeout");
  }
  // Keep-alive lets a half-open connection (a server host gone without a FIN) be noticed.
  redisEnableKeepAlive(impl_->context.get());
  if (url.password) {
    if (url.user.empty()) {
      command({"AUTH", *url.password});
    } else {
      command({"AUTH", url.user, *url.password});
    }
  }
  if (url.db != 0) command({"SELECT", std::to_string(url.db)});
}

redis_connection::~redis_connection() = default;

void redis_connection::fail_io(std::string_view what) {
  impl_->broken = true;
  std::string detail = impl_->context && impl_->context->err != 0
                           ? std::string(impl_->context->errstr)
                           : std::string("connection lost");
  if (detail.empty()) detail = "connection lost";
  throw redis_unavailable("Redis at " + options_.url.masked() + ": " + std::string(what) + ": " +
                          detail);
}

bool redis_connection::broken() const {
  return impl_->broken;
}

void redis_connection::append(std::span<const std::string_view> argv) {
  if (impl_->broken) throw redis_unavailable("Redis connection is broken");
  if (argv.empty() || argv.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw std::invalid_argument("Redis command: argv must not be empty");
  }
  std::vector<const char*> data;
  std::vector<std::size_t> lengths;
  data.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& arg : argv) {
    data.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(impl_->context.get(), static_cast<int>(argv.size()), data.data(),
                             lengths.data()) != REDIS_OK) {
    fail_io("appending a command");
  }
}

void redis_connection::append(std::initializer_list<std::string_view> argv) {
  append(std::span<const std::string_view>(argv.begin(), argv.size()));
}

redis_reply redis_connection::read_reply() {
  if (impl_->broken) throw redis_unavailable("Redis connection is broken");
  void* raw = nullptr;
  const sigpipe_guard guard;
  // In a blocking context this writes the pending output, then reads until one reply is whole.
  if (redisGetReply(impl_->context.get(), &raw) != REDIS_OK || raw == nullptr) {
    fail_io("reading a reply");
  }
  reply_ptr reply(static_cast<redisReply*>(raw));
  return convert(*reply);
}

redis_reply redis_connection::command(std::span<const std::string_view> argv) {
  append(argv);
  auto reply = read_reply();
  reply.throw_if_error();
  return reply;
}

redis_reply redis_connection::command(std::initializer_list<std::string_view> argv) {
  return command(std::span<const std::string_view>(argv.begin(), argv.size()));
}

std::optional<redis_reply> redis_connection::buffered_reply() {
  if (impl_->broken) throw redis_unavailable("Redis connection is broken");
  void* raw = nullptr;
  if (redisGetReplyFromReader(impl_->context.get(), &raw) != REDIS_OK) {
    fail_io("parsing a reply");
  }
  if (raw == nullptr) return std::nullopt;
  reply_ptr reply(static_cast<redisReply*>(raw));
  return convert(*reply);
}

std::optional<redis_reply> redis_connection::read_reply_for(std::chrono::milliseconds wait) {
  if (auto buffered = buffered_reply()) return buffered;
  redisContext* c = impl_->context.get();
  // Pending output first (pipelined commands), with the blocking socket's own timeout.
  {
    const sigpipe_guard guard;
    int done = 0;
    while (done == 0) {
      if (redisBufferWrite(c, &done) != REDIS_OK) fail_io("writing");
    }
  }
  // Waiting here rather than in redisGetReply: a socket timeout there marks the context as failed,
  // but "nothing arrived yet" is normal for a subscriber.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{c->fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail_io("waiting for a reply");
    }
    if (ready == 0) return std::nullopt;
    if (redisBufferRead(c) != REDIS_OK) fail_io("reading");
    if (auto reply = buffered_reply()) return reply;
    // Only part of a reply arrived: wait for the rest, within the same deadline.
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
  }
}

}  // namespace realmkit::infra::redis
