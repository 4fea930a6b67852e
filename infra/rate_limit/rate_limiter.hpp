// The rate limiter interface: a decision per key (a user id, a client address, a login email).
// In-process token buckets now (token_bucket_limiter.hpp); a Redis implementation shares the
// limits across API processes later behind the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace realmkit::infra::rate_limit {

struct rate_decision {
  bool allowed = false;
  // When denied: how long until the request would be allowed (0 when allowed).
  std::chrono::nanoseconds retry_after{0};
  // Whole tokens left after this request, for a RateLimit-Remaining header.
  std::uint32_t remaining = 0;

  // retry_after rounded up to whole seconds for a Retry-After header: at least 1 when denied,
  // so a client never retries at once.
  std::chrono::seconds retry_after_seconds() const {
    if (allowed) return std::chrono::seconds{0};
    const auto s = std::chrono::ceil<std::chrono::seconds>(retry_after);
    return s < std::chrono::seconds{1} ? std::chrono::seconds{1} : s;
  }
};

class rate_limiter {
 public:
  virtual ~rate_limiter() = default;
  // Takes `cost` tokens from the key's bucket when it holds that many; otherwise takes nothing
  // and says when to retry. Thread safe.
  virtual rate_decision try_acquire(std::string_view key, std::uint32_t cost = 1) = 0;
};

}  // namespace realmkit::infra::rate_limit
