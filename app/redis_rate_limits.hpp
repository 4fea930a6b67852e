// The rate limits of the distributed mode: the API's buckets kept in Redis, so a limit holds
// across every API process.
#pragma once

#include <chrono>
#include <string>

#include "api/rate_limit_guard.hpp"
#include "infra/metrics.hpp"

namespace realmkit::app {

struct redis_rate_limits_options {
  std::string url;  // redis://…
  // Prefixed to the guard's bucket names (keys realmkit:rl:<prefix><bucket>:<key>); processes
  // that share buckets share the prefix, and so must share the rate limit policy.
  std::string name_prefix = "api.";
  // After Redis failed, decisions are made by each process's local buckets for this long before
  // Redis is tried again.
  std::chrono::milliseconds retry_after{1000};
  infra::metrics_registry* metrics = nullptr;  // nullable; must outlive the limiters
};

// A factory for api::rate_limit_options::make_limiter that makes an
// infra::redis::redis_rate_limiter per bucket. While Redis is unreachable the limiters decide
// with local buckets (never an error, never unlimited). Throws std::invalid_argument for a bad
// URL or a bucket Redis cannot hold, when the guard asks for the limiter.
api::limiter_factory redis_limiter_factory(redis_rate_limits_options options);

}  // namespace realmkit::app
