// The rate limiter of the distributed mode: token buckets kept in Redis, so a limit holds across
// every API process, with a local fallback while Redis is unreachable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "infra/metrics.hpp"
#include "infra/rate_limit/rate_limiter.hpp"
#include "infra/rate_limit/token_bucket.hpp"
#include "infra/rate_limit/token_bucket_limiter.hpp"
#include "infra/redis/redis_connection_pool.hpp"

namespace realmkit::infra::redis {

struct redis_rate_limiter_options {
  std::string url;   // redis://…
  std::string name;  // keys are realmkit:rl:<name>:<key>; limiters sharing a name share buckets,
                     // so they must share the bucket config too
  rate_limit::token_bucket_config bucket;
  // Short: a request waits this long at worst before the fallback answers.
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds io_timeout{250};
  // After Redis failed, requests go to the fallback for this long before Redis is tried again, so
  // an outage costs one timeout per period, not one per request.
  std::chrono::milliseconds retry_after{1000};
  std::size_t max_idle_connections = 8;
  std::size_t fallback_max_keys = 100'000;
  metrics_registry* metrics = nullptr;  // nullable; must outlive the limiter
};

// The same bucket as token_bucket_limiter (rate_limit/token_bucket.hpp), evaluated atomically in
// Redis by a Lua script with Redis's own clock, so processes with skewed clocks agree. An idle
// bucket expires once it would be full again. Redis keeps time in microseconds, so the refill
// period must be a whole number of microseconds.
//
// While Redis is unreachable (or answers with an error) the limiter neither throws nor lets
// everything through: a local token_bucket_limiter with the same buckets decides, per process —
// so during an outage each process allows the full limit on its own. That degraded mode is
// logged once per outage and every decision it makes is counted.
class redis_rate_limiter final : public rate_limit::rate_limiter {
 public:
  // Connects lazily. Throws std::invalid_argument for a bad URL, an empty name or a bucket that
  // token_bucket_config::validate refuses or Redis's arithmetic cannot hold exactly.
  explicit redis_rate_limiter(redis_rate_limiter_options options);

  rate_limit::rate_decision try_acquire(std::string_view key, std::uint32_t cost = 1) override;

  // True while decisions are made by the local fallback.
  bool degraded() const { return outage_.load(std::memory_order_relaxed); }
  // Decisions the fallback made so far.
  std::uint64_t fallback_decisions() const {
    return fallback_count_.load(std::memory_order_relaxed);
  }

  // The Lua script and its SHA-1, for EVALSHA (exposed for a test that checks the two agree).
  static std::string_view script();
  static std::string_view script_sha();

 private:
  rate_limit::rate_decision acquire_in_redis(std::string_view key, std::uint32_t cost);
  void note_failure(const std::exception& e);
  void note_success();

  redis_rate_limiter_options options_;
  std::string key_prefix_;
  std::int64_t period_us_;
  std::string capacity_arg_, refill_arg_, period_arg_, ttl_arg_;
  redis_connection_pool pool_;
  rate_limit::token_bucket_limiter fallback_;
  // Steady-clock time (ns since its epoch) before which Redis is not tried again.
  std::atomic<std::int64_t> retry_at_{0};
  std::atomic<bool> outage_{false};
  std::atomic<std::uint64_t> fallback_count_{0};
  counter* fallback_metric_ = nullptr;
  counter* outages_metric_ = nullptr;
};

}  // namespace realmkit::infra::redis
