#include "domain/common/types.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace realmkit::domain {
namespace {

struct currency_entry {
  std::string_view code;
  int minor_units;
};

// Active ISO 4217 codes (list 1) with their minor units.
constexpr std::array<currency_entry, 155> kCurrencies{{
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2},
    {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
    {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2},
    {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2},
    {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
    {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2},
    {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2},
    {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2},
    {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2},
    {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2},
    {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2},
    {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"UZS", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWL", 2},
}};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Counts UTF-8 code points; invalid sequences count per byte, which only makes limits stricter.
std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control_characters(std::string_view s, bool allow_newlines) {
  return std::any_of(s.begin(), s.end(), [&](char c) {
    auto u = static_cast<unsigned char>(c);
    if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) return false;
    return u < 0x20 || u == 0x7F;
  });
}

}  // namespace

std::optional<int> currency_minor_units(std::string_view code) {
  if (code.size() != 3) return std::nullopt;
  for (const auto& entry : kCurrencies) {
    if (entry.code == code) return entry.minor_units;
  }
  return std::nullopt;
}

std::string_view to_string(rejection_code code) {
  switch (code) {
    case rejection_code::invalid:
      return "invalid";
    case rejection_code::not_found:
      return "not_found";
    case rejection_code::already_exists:
      return "already_exists";
    case rejection_code::invalid_state:
      return "invalid_state";
    case rejection_code::conflict:
      return "conflict";
  }
  return "invalid";
}

namespace rules {

std::string trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::optional<rejection> check_name(std::string_view field, std::string_view value,
                                    std::size_t max_length) {
  const std::string t = trimmed(value);
  if (t.empty()) return invalid(std::string(field), "must not be empty");
  if (utf8_length(t) > max_length) {
    return invalid(std::string(field),
                   "must be at most " + std::to_string(max_length) + " characters");
  }
  if (has_control_characters(t, false)) {
    return invalid(std::string(field), "must not contain control characters");
  }
  return std::nullopt;
}

std::optional<rejection> check_text(std::string_view field, std::string_view value,
                                    std::size_t max_length) {
  if (utf8_length(value) > max_length) {
    return invalid(std::string(field),
                   "must be at most " + std::to_string(max_length) + " characters");
  }
  if (has_control_characters(value, true)) {
    return invalid(std::string(field), "must not contain control characters");
  }
  return std::nullopt;
}

std::optional<rejection> check_email(std::string_view field, std::string_view value) {
  // Deliberately simple (one '@', a dot in the domain, no spaces): the full RFC 5322 grammar
  // accepts addresses no mail system delivers to, and rejecting real addresses is worse than
  // accepting odd ones.
  const auto at = value.find('@');
  const bool ok = value.size() <= 254 && at != std::string_view::npos && at > 0 &&
                  value.find('@', at + 1) == std::string_view::npos &&
                  value.find('.', at + 2) != std::string_view::npos && value.back() != '.' &&
                  std::none_of(value.begin(), value.end(), [](char c) {
                    return is_space(c) || static_cast<unsigned char>(c) < 0x20;
                  });
  if (!ok) return invalid(std::string(field), "is not a valid e-mail address");
  return std::nullopt;
}

std::optional<rejection> check_phone(std::string_view field, std::string_view value) {
  // E.164 allows at most 15 digits; people also write spaces, dashes, dots, parentheses and a
  // leading '+', and an extension after "x".
  std::size_t digits = 0;
  bool ok = !value.empty() && value.size() <= 40;
  for (std::size_t i = 0; ok && i < value.size(); ++i) {
    const char c = value[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c == '+') {
      ok = i == 0;
    } else if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == 'x')) {
      ok = false;
    }
  }
  if (!ok || digits < 3 || digits > 20) {
    return invalid(std::string(field), "is not a valid phone number");
  }
  return std::nullopt;
}

std::optional<rejection> check_money(std::string_view field, const money& value) {
  if (!is_known_currency(value.currency)) {
    return invalid(std::string(field) + ".currency", "is not an active ISO 4217 currency code");
  }
  if (value.amount_minor < 0) {
    return invalid(std::string(field) + ".amount_minor", "must not be negative");
  }
  // Far above any real deal, and keeps sums of many deals well inside int64.
  constexpr std::int64_t kMaxAmount = 1'000'000'000'000'000;  // 10^15 minor units
  if (value.amount_minor > kMaxAmount) {
    return invalid(std::string(field) + ".amount_minor", "is too large");
  }
  return std::nullopt;
}

std::optional<rejection> check_id(std::string_view field, std::string_view value) {
  const bool ok =
      !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (!ok) return invalid(std::string(field), "is not a valid id");
  return std::nullopt;
}

std::string folded(std::string_view value) {
  std::string out = trimmed(value);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace rules
}  // namespace realmkit::domain
