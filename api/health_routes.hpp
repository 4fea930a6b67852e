// Operational endpoints: /healthz (the process is alive), /readyz (its dependencies answer) and
// /metrics (Prometheus text).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/router.hpp"
#include "infra/metrics.hpp"

namespace realmkit::api {

// Named checks of the dependencies a request needs (the store, Kafka, Redis). Thread-safe.
class readiness final {
 public:
  // nullopt when ready, else why not. A check that throws fails with the exception's message.
  // Checks run on the worker pool and should answer within a second or two.
  using check = std::function<std::optional<std::string>()>;

  void add(std::string name, check c);

  struct outcome {
    std::string name;
    std::optional<std::string> failure;
  };
  // Runs every check, in the order added.
  std::vector<outcome> run() const;

 private:
  mutable std::mutex mutex_;  // guards checks_
  std::vector<std::pair<std::string, check>> checks_;
};

// Adds GET /healthz, GET /readyz and GET /metrics (anonymous). /readyz answers 200
// {"status":"ready","checks":{…}} or 503 problem+json naming the failing checks in "failing"
// and every check's state in "checks". The references must outlive the router.
void add_health_routes(router& routes, const readiness& ready,
                       const infra::metrics_registry& metrics);

}  // namespace realmkit::api
