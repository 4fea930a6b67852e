#include "infra/rate_limit/rate_limit_policy.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace realmkit::infra::rate_limit {
namespace {

std::uint64_t parse_count(std::string_view digits, std::string_view text, const char* what) {
  std::uint64_t value = 0;
  const auto* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || ec != std::errc() || ptr != end) {
    throw std::invalid_argument("rate limit \"" + std::string(text) + "\": " + what +
                                " must be a whole number");
  }
  return value;
}

}  // namespace

token_bucket_config parse_token_bucket(std::string_view text) {
  const auto colon = text.find(':');
  const auto slash = text.find('/');
  if (colon == std::string_view::npos || slash == std::string_view::npos || slash < colon) {
    throw std::invalid_argument("rate limit \"" + std::string(text) +
                                "\": expected BURST:TOKENS/PERIOD, e.g. 200:100/1s");
  }
  const auto burst = parse_count(text.substr(0, colon), text, "the burst");
  const auto tokens = parse_count(text.substr(colon + 1, slash - colon - 1), text, "the tokens");
  auto period_text = text.substr(slash + 1);
  std::int64_t unit_ns = 0;
  if (period_text.ends_with("ms")) {
    unit_ns = 1'000'000;
    period_text.remove_suffix(2);
  } else if (period_text.ends_with("s")) {
    unit_ns = 1'000'000'000;
    period_text.remove_suffix(1);
  } else if (period_text.ends_with("m")) {
    unit_ns = 60'000'000'000;
    period_text.remove_suffix(1);
  } else if (period_text.ends_with("h")) {
    unit_ns = 3'600'000'000'000;
    period_text.remove_suffix(1);
  } else {
    throw std::invalid_argument("rate limit \"" + std::string(text) +
                                "\": the period needs a unit (ms, s, m or h)");
  }
  const auto period = parse_count(period_text, text, "the period");
  constexpr auto kMax32 = std::numeric_limits<std::uint32_t>::max();
  if (burst > kMax32 || tokens > kMax32 ||
      period > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / unit_ns)) {
    throw std::invalid_argument("rate limit \"" + std::string(text) + "\": a value is too large");
  }
  token_bucket_config config{static_cast<std::uint32_t>(burst), static_cast<std::uint32_t>(tokens),
                             std::chrono::nanoseconds{static_cast<std::int64_t>(period) * unit_ns}};
  try {
    config.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("rate limit \"" + std::string(text) + "\": " + e.what());
  }
  return config;
}

std::string format_token_bucket(const token_bucket_config& config) {
  const std::int64_t ns = config.refill_period.count();
  std::string period;
  if (ns % 3'600'000'000'000 == 0) {
    period = std::to_string(ns / 3'600'000'000'000) + "h";
  } else if (ns % 60'000'000'000 == 0) {
    period = std::to_string(ns / 60'000'000'000) + "m";
  } else if (ns % 1'000'000'000 == 0) {
    period = std::to_string(ns / 1'000'000'000) + "s";
  } else {
    // Periods finer than a millisecond cannot be written: rounded up, never to zero.
    period = std::to_string((ns + 999'999) / 1'000'000) + "ms";
  }
  return std::to_string(config.capacity) + ":" + std::to_string(config.refill_tokens) + "/" +
         period;
}

}  // namespace realmkit::infra::rate_limit
