// The HTTP/1.1 server: a listener and one self-owned session per connection on a multi-threaded
// io_context, with limits and timeouts at the point of use, blocking routes on the worker pool and
// a graceful stop. Beast stays inside api/*.cpp; this header is plain C++.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http_pipeline.hpp"
#include "infra/metrics.hpp"
#include "infra/worker_pool.hpp"

namespace realmkit::api {

struct server_options {
  std::string host = "0.0.0.0";  // an IP address literal
  std::uint16_t port = 8080;     // 0: any free port (tests); port() tells which
  std::size_t io_threads = 2;

  std::size_t header_limit = 16 * 1024;  // request line + headers; over it: 431, then close
  std::size_t body_limit = 1024 * 1024;  // over it: 413 before the body is read, then close
  // Slowloris defence: a request's headers must arrive within header_timeout of its first byte (of
  // the connection, for the first request), its body within body_timeout after the headers.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};  // a client must take a response this fast
  // After answering with Connection: close (413, 431, malformed), the client's unread input is
  // read and discarded this long, so that it sees the response instead of a reset.
  std::chrono::milliseconds linger_timeout{2'000};
  std::size_t pipeline_limit = 16;       // requests read ahead of their responses, per connection
  std::size_t max_connections = 10'000;  // beyond it, new connections are closed at once
  // stop(): how long in-flight requests may take to finish before connections are cut.
  std::chrono::milliseconds drain_timeout{10'000};
};

class upgrade_handler;  // api/upgrade_handler.hpp

namespace detail {
struct server_state;
class listener;
}  // namespace detail

class server final {
 public:
  // The pipeline, pool and registry must outlive the server. Nothing runs before start().
  server(server_options options, const http_pipeline& pipeline, infra::worker_pool& pool,
         infra::metrics_registry& metrics);
  // Stops if still running.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Hands WebSocket upgrade requests (GET with Upgrade: websocket) for `path` to `handler`, which
  // must outlive the server. Other requests to the path go through the router as usual. Call
  // before start().
  void add_upgrade_handler(std::string path, upgrade_handler& handler);

  // Binds, listens and starts the I/O threads. Throws std::system_error when it cannot listen,
  // std::invalid_argument for a host that is not an IP address. Call once.
  void start();

  // The bound port (after start()).
  std::uint16_t port() const;

  // Graceful shutdown: stops accepting, answers requests already read (new ones on open
  // connections get 503 shutting_down with Connection: close), closes idle connections, waits for
  // in-flight requests up to drain_timeout, then cuts the remaining connections; joins the I/O
  // threads and waits for blocking handlers already running (queued ones are skipped). Idempotent;
  // never call it from an I/O thread or a handler.
  void stop();

  // Requests read and not yet answered, and open connections: for tests and diagnostics.
  std::size_t in_flight() const;
  std::size_t connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::api
