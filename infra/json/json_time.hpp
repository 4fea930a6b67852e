// The text forms of time on every wire: RFC 3339 instants in UTC with microseconds, ISO 8601 dates.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/common/types.hpp"

namespace realmkit::infra {

// "2026-11-27T12:00:00.000000Z": always UTC, always six fraction digits, so stored texts sort in
// time order and compare byte for byte. nullopt outside the years 0000-9999, which RFC 3339
// cannot write.
std::optional<std::string> format_timestamp(domain::timestamp t);

// Accepts RFC 3339 date-times: "T" or "t" as separator, 0 to 6 fraction digits (more would lose
// precision silently, so they are refused), and "Z", "z" or a numeric offset "+HH:MM" / "-HH:MM",
// which is converted to UTC. Leap seconds (":60") are refused: system time has none.
std::optional<domain::timestamp> parse_timestamp(std::string_view text);

// "2026-11-27". nullopt outside the years 0000-9999.
std::optional<std::string> format_date(domain::date d);

// Exactly "YYYY-MM-DD" naming a real calendar day.
std::optional<domain::date> parse_date(std::string_view text);

}  // namespace realmkit::infra
