// Rate limits as pipeline guards: token buckets per client address (every request, and a strict
// one for the login and refresh routes) and per authenticated user; 429 problem with Retry-After.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "api/http_pipeline.hpp"
#include "infra/metrics.hpp"
#include "infra/rate_limit/rate_limit_policy.hpp"
#include "infra/rate_limit/rate_limiter.hpp"
#include "infra/rate_limit/token_bucket.hpp"
#include "infra/rate_limit/token_bucket_limiter.hpp"

namespace realmkit::api {

// Builds the limiter of one bucket: its name ("address", "login" or "user") and its config.
using limiter_factory = std::function<std::unique_ptr<infra::rate_limit::rate_limiter>(
    std::string_view bucket_name, const infra::rate_limit::token_bucket_config& bucket)>;

// The names the guard asks limiter_factory for.
inline constexpr std::string_view kAddressBucket = "address";
inline constexpr std::string_view kLoginBucket = "login";
inline constexpr std::string_view kUserBucket = "user";

struct rate_limit_options {
  infra::rate_limit::rate_limit_policy policy;
  // Routes that also take from policy.login_per_address: password guessing and token probing.
  std::set<std::string, std::less<>> strict_routes{"auth.login", "auth.refresh"};
  // Routes no bucket applies to: probes of load balancers and scrapers must never be refused.
  std::set<std::string, std::less<>> exempt_routes{"ops.healthz", "ops.readyz", "ops.metrics"};
  // The in-process buckets' key bound and time source (steady_clock::now when empty; tests
  // inject a fake); a limiter from make_limiter has its own.
  std::size_t max_keys = 100'000;  // per bucket kind
  infra::rate_limit::steady_clock_fn clock;
  infra::metrics_registry* metrics = nullptr;  // realmkit_rate_limited_total{bucket} when set
  // Empty: in-process token buckets, so each process limits on its own. The distributed mode
  // passes limiters kept in Redis, so a limit holds across every API process.
  limiter_factory make_limiter;
};

// The key a client address is limited under: the IPv4 address itself, the /64 prefix of an IPv6
// address (one host is usually given a whole /64, so single addresses would cost it nothing to
// vary), and the embedded IPv4 address of "::ffff:a.b.c.d".
std::string address_key(std::string_view remote_address);

// Holds the buckets; the guards it hands out keep a reference, so it must outlive the pipeline.
// Thread safe.
class rate_limit_guard final {
 public:
  // Throws std::invalid_argument for an invalid bucket or a factory that returns no limiter.
  explicit rate_limit_guard(rate_limit_options options);
  ~rate_limit_guard();
  rate_limit_guard(const rate_limit_guard&) = delete;
  rate_limit_guard& operator=(const rate_limit_guard&) = delete;

  // Before authentication: the per-address bucket for every request, and the strict one for the
  // strict routes. Runs first so a flood of bad tokens is limited too.
  guard address_guard();
  // After authentication: the per-user bucket for requests with a principal.
  guard user_guard();

  std::optional<http_response> check_address(const route& r, const http_request& request);
  std::optional<http_response> check_user(const route& r, const http_request& request);

 private:
  std::optional<http_response> refuse(const http_request& request, std::string_view bucket,
                                      const infra::rate_limit::rate_decision& decision,
                                      infra::counter* counter) const;

  rate_limit_options options_;
  std::unique_ptr<infra::rate_limit::rate_limiter> per_address_;
  std::unique_ptr<infra::rate_limit::rate_limiter> login_per_address_;
  std::unique_ptr<infra::rate_limit::rate_limiter> per_user_;
  infra::counter* limited_address_ = nullptr;
  infra::counter* limited_login_ = nullptr;
  infra::counter* limited_user_ = nullptr;
};

}  // namespace realmkit::api
