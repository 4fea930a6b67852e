// Value types shared by every aggregate: typed ids, time, money, rejections and decisions.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace realmkit::domain {

// A typed identifier. Ids are opaque strings (UUIDv7 in practice) generated outside the domain, so
// a deal id can never be passed where a contact id is expected.
template <class Tag>
struct id {
  std::string value;

  bool empty() const { return value.empty(); }
  auto operator<=>(const id&) const = default;
};

using user_id = id<struct user_tag>;
using team_id = id<struct team_tag>;
using company_id = id<struct company_tag>;
using contact_id = id<struct contact_tag>;
using lead_id = id<struct lead_tag>;
using pipeline_id = id<struct pipeline_tag>;
using stage_id = id<struct stage_tag>;
using deal_id = id<struct deal_tag>;
using activity_id = id<struct activity_tag>;
using task_id = id<struct task_tag>;

// Instants are microseconds since the Unix epoch (UTC); calendar dates are whole days.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
using date = std::chrono::sys_days;

// An amount of money in integer minor units of an ISO 4217 currency; never floating point.
struct money {
  std::int64_t amount_minor = 0;
  std::string currency;  // ISO 4217 alphabetic code, e.g. "EUR"

  bool operator==(const money&) const = default;
};

// The number of minor units of an active ISO 4217 currency (2 for EUR, 0 for JPY, 3 for KWD), or
// nullopt when the code is not an active ISO 4217 currency.
std::optional<int> currency_minor_units(std::string_view code);
inline bool is_known_currency(std::string_view code) {
  return currency_minor_units(code).has_value();
}

// Why a command was refused. The code picks the HTTP status at the edge; the field names the
// offending input (JSON-pointer-like, e.g. "value.currency"), empty when no single field is at
// fault.
enum class rejection_code {
  invalid,         // the input breaks a rule of the field (422)
  not_found,       // the aggregate does not exist (404)
  already_exists,  // a create for an aggregate that exists (409)
  invalid_state,   // the aggregate's state forbids the command, e.g. moving a closed deal (409)
  conflict,        // the caller's expected version is stale (409)
};
std::string_view to_string(rejection_code code);

struct rejection {
  rejection_code code = rejection_code::invalid;
  std::string field;
  std::string reason;

  bool operator==(const rejection&) const = default;
};

inline rejection invalid(std::string field, std::string reason) {
  return {rejection_code::invalid, std::move(field), std::move(reason)};
}
inline rejection not_found(std::string reason) {
  return {rejection_code::not_found, "", std::move(reason)};
}
inline rejection already_exists(std::string reason) {
  return {rejection_code::already_exists, "", std::move(reason)};
}
inline rejection invalid_state(std::string field, std::string reason) {
  return {rejection_code::invalid_state, std::move(field), std::move(reason)};
}

// The outcome of decide(): the events to append (possibly none: the command was a no-op), or a
// business rejection. Rejections are values, not exceptions.
template <class Event>
class decision {
 public:
  decision(std::vector<Event> events) : value_(std::move(events)) {}
  decision(Event event) : value_(std::vector<Event>{std::move(event)}) {}
  decision(rejection r) : value_(std::move(r)) {}

  bool ok() const { return value_.index() == 0; }
  const std::vector<Event>& events() const { return std::get<0>(value_); }
  std::vector<Event>& events() { return std::get<0>(value_); }
  const rejection& error() const { return std::get<1>(value_); }

 private:
  std::variant<std::vector<Event>, rejection> value_;
};

// Who issues a command and when: time and actor come in with the command, never from a clock read.
struct command_context {
  user_id actor;
  timestamp now{};
};

// Visits a variant with a set of lambdas; a missing alternative does not compile.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

// Reads an enum from its wire name by trying each of `values` through its to_string (found by
// ADL), so every enum's from_string is one line and cannot drift from its to_string.
template <class E>
constexpr bool parse_enum(std::string_view text, E& out, std::initializer_list<E> values) {
  for (E value : values) {
    if (to_string(value) == text) {
      out = value;
      return true;
    }
  }
  return false;
}

// Common field rules, so every aggregate words its rejections the same way.
// The reason given for erasing a person's data (GDPR art. 17), on contacts and leads.
inline constexpr std::size_t kMaxErasureReasonLength = 500;

namespace rules {
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxTextLength = 10'000;
inline constexpr std::size_t kMaxTagLength = 50;
inline constexpr std::size_t kMaxTags = 50;

// Leading and trailing ASCII whitespace removed.
std::string trimmed(std::string_view s);
// nullopt when `value` (after trimming) is a non-empty name of at most max_length UTF-8 bytes.
std::optional<rejection> check_name(std::string_view field, std::string_view value,
                                    std::size_t max_length = kMaxNameLength);
std::optional<rejection> check_text(std::string_view field, std::string_view value,
                                    std::size_t max_length = kMaxTextLength);
std::optional<rejection> check_email(std::string_view field, std::string_view value);
std::optional<rejection> check_phone(std::string_view field, std::string_view value);
std::optional<rejection> check_money(std::string_view field, const money& value);
std::optional<rejection> check_id(std::string_view field, std::string_view value);
// Trimmed and ASCII-lowercased: the key under which names, tags and e-mail addresses are compared.
std::string folded(std::string_view value);
inline std::string normalized_email(std::string_view value) {
  return folded(value);
}
}  // namespace rules

}  // namespace realmkit::domain
