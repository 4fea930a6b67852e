#include "infra/rate_limit/token_bucket.hpp"

#include <limits>
#include <stdexcept>

namespace realmkit::infra::rate_limit {
namespace {

std::int64_t scaled_capacity(const token_bucket_config& config) {
  return static_cast<std::int64_t>(config.capacity) * config.refill_period.count();
}

}  // namespace

void token_bucket_config::validate() const {
  if (capacity == 0 || refill_tokens == 0 || refill_period.count() <= 0) {
    throw std::invalid_argument("token bucket: capacity, refill tokens and period must be > 0");
  }
  if (refill_period.count() > std::numeric_limits<std::int64_t>::max() / capacity) {
    throw std::invalid_argument("token bucket: capacity * refill period overflows");
  }
}

std::chrono::nanoseconds token_bucket_config::time_to_full() const {
  const std::int64_t cap = scaled_capacity(*this);
  return std::chrono::nanoseconds{(cap + refill_tokens - 1) / refill_tokens};
}

token_bucket::token_bucket(const token_bucket_config& config, time_point now)
    : scaled_tokens_(scaled_capacity(config)), updated_(now) {}

std::int64_t token_bucket::level_at(const token_bucket_config& config, time_point now) const {
  const std::int64_t cap = scaled_capacity(config);
  const std::int64_t elapsed = (now - updated_).count();
  if (elapsed <= 0) return scaled_tokens_;
  const std::int64_t missing = cap - scaled_tokens_;
  // Compared by division first, so elapsed * refill_tokens is only computed when it is at most
  // `missing` (no overflow however long the bucket was idle).
  if (elapsed >= missing / config.refill_tokens + 1) return cap;
  return scaled_tokens_ + elapsed * config.refill_tokens;
}

bool token_bucket::full_at(const token_bucket_config& config, time_point now) const {
  return level_at(config, now) == scaled_capacity(config);
}

rate_decision token_bucket::try_acquire(const token_bucket_config& config, time_point now,
                                        std::uint32_t cost) {
  const std::int64_t period = config.refill_period.count();
  std::int64_t level = level_at(config, now);
  if (now > updated_) updated_ = now;
  scaled_tokens_ = level;
  if (cost > config.capacity) {
    // Never satisfiable: answered as denied for as long as a full refill takes, not as an error,
    // so a misconfigured cost cannot crash a request path.
    return {false, config.time_to_full(), static_cast<std::uint32_t>(level / period)};
  }
  const std::int64_t needed = static_cast<std::int64_t>(cost) * period;
  if (level >= needed) {
    scaled_tokens_ = level - needed;
    return {true, std::chrono::nanoseconds{0}, static_cast<std::uint32_t>(scaled_tokens_ / period)};
  }
  const std::int64_t wait = (needed - level + config.refill_tokens - 1) / config.refill_tokens;
  return {false, std::chrono::nanoseconds{wait}, static_cast<std::uint32_t>(level / period)};
}

}  // namespace realmkit::infra::rate_limit
