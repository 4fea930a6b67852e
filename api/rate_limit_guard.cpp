#include "api/rate_limit_guard.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

#include "api/auth_guard.hpp"
#include "api/error_mapping.hpp"
#include "api/problem.hpp"

namespace realmkit::api {
namespace {

namespace rl = infra::rate_limit;

std::unique_ptr<rl::rate_limiter> build_limiter(std::string_view name,
                                                const rl::token_bucket_config& bucket,
                                                const rate_limit_options& o) {
  // Checked here too, so a bad policy is refused at start-up whatever limiter it goes to.
  bucket.validate();
  if (!o.make_limiter) {
    return std::make_unique<rl::token_bucket_limiter>(
        rl::token_bucket_limiter_options{bucket, o.max_keys, 16, o.clock});
  }
  auto limiter = o.make_limiter(name, bucket);
  if (!limiter) {
    throw std::invalid_argument("rate limits: no limiter for the bucket \"" + std::string(name) +
                                "\"");
  }
  return limiter;
}

}  // namespace

std::string address_key(std::string_view remote_address) {
  const std::string text(remote_address);
  in6_addr v6{};
  if (text.find(':') == std::string::npos || inet_pton(AF_INET6, text.c_str(), &v6) != 1) {
    return text;  // IPv4, or something that is not an address (tests): taken as it is
  }
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0) {
    in_addr v4{};
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    inet_ntop(AF_INET, &v4, out, sizeof out);
    return out;
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  inet_ntop(AF_INET6, &v6, out, sizeof out);
  return std::string(out) + "/64";
}

rate_limit_guard::rate_limit_guard(rate_limit_options options)
    : options_(std::move(options)),
      per_address_(build_limiter(kAddressBucket, options_.policy.per_address, options_)),
      login_per_address_(build_limiter(kLoginBucket, options_.policy.login_per_address, options_)),
      per_user_(build_limiter(kUserBucket, options_.policy.per_user, options_)) {
  if (options_.metrics) {
    auto counter = [&](const char* bucket) {
      return &options_.metrics->counter_for(
          "realmkit_rate_limited_total", "Requests refused with 429, by the bucket that was empty",
          {{"bucket", bucket}});
    };
    limited_address_ = counter("per_address");
    limited_login_ = counter("login_per_address");
    limited_user_ = counter("per_user");
  }
}

rate_limit_guard::~rate_limit_guard() = default;

guard rate_limit_guard::address_guard() {
  return [this](const route& r, http_request& request) { return check_address(r, request); };
}

guard rate_limit_guard::user_guard() {
  return [this](const route& r, http_request& request) { return check_user(r, request); };
}

std::optional<http_response> rate_limit_guard::check_address(const route& r,
                                                             const http_request& request) {
  if (options_.exempt_routes.contains(r.name)) return std::nullopt;
  const auto key = address_key(request.remote_address);
  if (options_.strict_routes.contains(r.name)) {
    const auto strict = login_per_address_->try_acquire(key);
    if (!strict.allowed) return refuse(request, "login_per_address", strict, limited_login_);
  }
  const auto decision = per_address_->try_acquire(key);
  if (!decision.allowed) return refuse(request, "per_address", decision, limited_address_);
  return std::nullopt;
}

std::optional<http_response> rate_limit_guard::check_user(const route& r,
                                                          const http_request& request) {
  if (options_.exempt_routes.contains(r.name)) return std::nullopt;
  const auto* who = principal_of(request);
  if (!who) return std::nullopt;
  const auto decision = per_user_->try_acquire(who->user_id);
  if (!decision.allowed) return refuse(request, "per_user", decision, limited_user_);
  return std::nullopt;
}

std::optional<http_response> rate_limit_guard::refuse(const http_request& request,
                                                      std::string_view bucket,
                                                      const rl::rate_decision& decision,
                                                      infra::counter* counter) const {
  if (counter) counter->inc();
  const auto retry = decision.retry_after_seconds().count();
  auto p = make_problem(
      problem_kind::too_many_requests,
      "rate limit (" + std::string(bucket) + ") reached; retry in " + std::to_string(retry) + " s");
  p.headers.insert_or_assign("Retry-After", std::to_string(retry));
  return to_response(std::move(p), request.request_id);
}

}  // namespace realmkit::api
