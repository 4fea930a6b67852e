// The limits the HTTP API applies, in one place so the wiring, the docs and the tests agree.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "infra/rate_limit/token_bucket.hpp"

namespace realmkit::infra::rate_limit {

struct rate_limit_policy {
  // Every authenticated request, keyed by user id.
  token_bucket_config per_user{200, 100, std::chrono::seconds{1}};
  // Every request, keyed by client address (authenticated or not): generous, since many users
  // may share one address behind a NAT or proxy.
  token_bucket_config per_address{400, 200, std::chrono::seconds{1}};
  // POST /api/auth/login and /api/auth/refresh, keyed by client address: a burst of 10, then one
  // every 6 s (10 per minute). Online password guessing is bounded per address here and per
  // account by the login lockout (api/auth/login_lockout.hpp).
  token_bucket_config login_per_address{10, 1, std::chrono::seconds{6}};
};

// A bucket as configuration text (command-line flags): "BURST:TOKENS/PERIOD", e.g. "200:100/1s"
// (a burst of 200, then 100 per second) or "10:1/6s"; the period's unit is ms, s, m or h. Throws
// std::invalid_argument naming what is wrong.
token_bucket_config parse_token_bucket(std::string_view text);
// The inverse, with the largest unit that divides the period.
std::string format_token_bucket(const token_bucket_config& config);

}  // namespace realmkit::infra::rate_limit
