// One token bucket in exact integer arithmetic, and its configuration.
#pragma once

#include <chrono>
#include <cstdint>

#include "infra/rate_limit/rate_limiter.hpp"

namespace realmkit::infra::rate_limit {

// A bucket holds at most `capacity` tokens (the burst) and gains `refill_tokens` every
// `refill_period`, continuously (a fraction of a token accrues in a fraction of the period). It
// starts full. Example: {capacity 10, refill 5 per 1 s} allows a burst of 10, then 5 per second.
struct token_bucket_config {
  std::uint32_t capacity = 10;
  std::uint32_t refill_tokens = 5;
  std::chrono::nanoseconds refill_period = std::chrono::seconds{1};

  // Throws std::invalid_argument for zero values or a capacity * period beyond 64-bit
  // nanoseconds (about 290 years of refill).
  void validate() const;
  // The time an empty bucket takes to fill.
  std::chrono::nanoseconds time_to_full() const;
};

// Tokens are kept scaled by refill_period (in nanoseconds), so refilling for dt nanoseconds adds
// exactly dt * refill_tokens and no rounding ever gives or takes a fraction of a token.
class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  token_bucket(const token_bucket_config& config, time_point now);

  // The config passed must be the one the bucket was made with. A clock that goes back counts
  // as no time passing.
  rate_decision try_acquire(const token_bucket_config& config, time_point now,
                            std::uint32_t cost = 1);
  // True when the bucket is (or by `now` will be) full: forgetting it changes nothing, since a
  // new bucket starts full.
  bool full_at(const token_bucket_config& config, time_point now) const;

 private:
  std::int64_t level_at(const token_bucket_config& config, time_point now) const;

  std::int64_t scaled_tokens_;  // tokens * refill_period.count()
  time_point updated_;
};

}  // namespace realmkit::infra::rate_limit
