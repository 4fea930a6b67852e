// What the server does with a request, transport aside: request id, CORS, routing, guards
// (authentication, rate limits), the handler with exceptions mapped to problems, then the headers
// every response carries, metrics and the access log. The server calls the three phases from the
// right threads; handle() runs them inline for tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/cors.hpp"
#include "api/http_types.hpp"
#include "api/router.hpp"
#include "infra/metrics.hpp"

namespace spdlog {
class logger;
}

namespace realmkit::api {

// Runs after routing and before the handler, on an I/O thread: CPU only, no blocking calls. Returns
// a response to refuse the request (401, 403, 404, 429), or nullopt to let it through; may set
// request.principal for the handler.
using guard = std::function<std::optional<http_response>(const route&, http_request&)>;

struct pipeline_options {
  cors_options cors;
  bool access_log = true;
  std::shared_ptr<spdlog::logger> access_logger;  // null: api::access_logger()
};

// What the access log and the metrics need of a request once its response is ready.
struct request_summary {
  std::string method;
  std::string path;
  std::string route_name;  // empty until routed
  std::string request_id;
  std::string remote;
  std::optional<std::string> origin;
  std::size_t bytes_in = 0;
  std::chrono::steady_clock::time_point start;

  static request_summary of(const http_request& request,
                            std::chrono::steady_clock::time_point start);
};

class http_pipeline final {
 public:
  // The router's table must be complete: routes added later are served but their metrics are
  // looked up on every request.
  http_pipeline(const router& routes, infra::metrics_registry& metrics,
                pipeline_options options = {});
  ~http_pipeline();

  // Guards run in the order added. Add them before serving.
  void add_guard(guard g);

  struct prepared {
    std::optional<http_response> response;  // answered without a handler (404, 405, preflight, …)
    const route* matched = nullptr;         // otherwise: run this route's handler
  };
  // On the connection's thread: assigns request_id, answers preflights and unknown paths, fills
  // path_params and route_name, runs the guards.
  prepared prepare(http_request& request) const;

  // Where the route says (worker pool when blocking): the handler; exceptions become problems.
  http_response run(const route& r, const http_request& request) const;

  // Before the response is written: X-Request-Id, CORS and security headers, metrics, access log.
  void finish(const request_summary& summary, http_response& response) const;

  // The three phases inline, for tests of everything but the transport.
  http_response handle(http_request request) const;

  const router& routes() const { return routes_; }
  const cors_policy& cors() const { return cors_; }

 private:
  struct route_metrics {
    infra::counter* by_class[5];  // 1xx … 5xx
    infra::histogram* duration;
  };
  route_metrics metrics_for(std::string_view route_name) const;

  const router& routes_;
  infra::metrics_registry& metrics_;
  cors_policy cors_;
  std::vector<guard> guards_;
  bool log_enabled_;
  std::shared_ptr<spdlog::logger> access_log_;
  std::unordered_map<std::string, route_metrics> route_metrics_;  // filled once, then read-only
};

}  // namespace realmkit::api
