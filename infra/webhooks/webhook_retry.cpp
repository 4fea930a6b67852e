#include "infra/webhooks/webhook_retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace realmkit::infra::webhooks {

answer_verdict judge(std::optional<int> status) {
  if (!status) return answer_verdict::retry;
  const int s = *status;
  if (s >= 200 && s <= 299) return answer_verdict::delivered;
  if (s >= 500 || s == 408 || s == 429) return answer_verdict::retry;
  return answer_verdict::fail;
}

std::chrono::milliseconds retry_delay(const retry_options& options, int attempt, double unit_random,
                                      std::optional<std::chrono::seconds> retry_after) {
  using ms = std::chrono::milliseconds;
  const double doublings = std::clamp(attempt - 1, 0, 40);
  double wait = static_cast<double>(options.base.count()) * std::pow(2.0, doublings);
  wait = std::min(wait, static_cast<double>(options.cap.count()));
  const double jitter = std::clamp(options.jitter, 0.0, 1.0);
  wait *= 1.0 - jitter + 2.0 * jitter * std::clamp(unit_random, 0.0, 1.0);
  auto delay = ms(static_cast<std::int64_t>(wait));
  if (retry_after) {
    const auto asked = std::min<ms>(*retry_after, options.retry_after_cap);
    delay = std::max(delay, asked);
  }
  return std::max(delay, ms(0));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, timestamp now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
  const auto wait = std::chrono::duration_cast<std::chrono::seconds>(when - now);
  return std::max(wait, std::chrono::seconds(0));
}

}  // namespace realmkit::infra::webhooks
