// When a webhook delivery is tried again. Network errors, timeouts, 5xx, 408 and 429 are worth
// another try; any other answer outside 2xx is the receiver's considered refusal (a 3xx too: a
// redirect is never followed, since the target it names was never checked) and fails at once.
// Retries back off exponentially with jitter, so receivers that come back after an outage are not
// hit by every sender at the same moment; a Retry-After the receiver sends is honoured up to a cap.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "infra/event_store.hpp"

namespace realmkit::infra::webhooks {

struct retry_options {
  // The wait after the first failed attempt; each further failure doubles it, up to `cap`. With
  // the defaults the 8 attempts span about two hours: 1, 2, 4, 8, 16, 32 and 64 minutes apart.
  std::chrono::milliseconds base{std::chrono::minutes(1)};
  std::chrono::milliseconds cap{std::chrono::hours(2)};
  int max_attempts = 8;
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter).
  double jitter = 0.2;
  // The longest Retry-After honoured; a longer one is cut to this.
  std::chrono::milliseconds retry_after_cap{std::chrono::hours(1)};
};

enum class answer_verdict { delivered, retry, fail };

// What an attempt's answer means: `status` is the receiver's HTTP status, nullopt when none came
// (connection refused, reset, timed out).
answer_verdict judge(std::optional<int> status);

// The wait after the attempt numbered `attempt` (1 for the first) failed, with `unit_random` a
// number in [0, 1) for the jitter, and the receiver's Retry-After (already parsed) if any.
std::chrono::milliseconds retry_delay(const retry_options& options, int attempt, double unit_random,
                                      std::optional<std::chrono::seconds> retry_after = {});

// A Retry-After value: delay-seconds, or an HTTP-date (IMF-fixdate) counted from `now`. nullopt
// when malformed.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, timestamp now);

}  // namespace realmkit::infra::webhooks
