#include "infra/json/json_time.hpp"

#include <chrono>
#include <cstdio>

namespace realmkit::infra {
namespace {

using namespace std::chrono;

// Reads exactly `count` ASCII digits at `pos`; nullopt if any is not a digit.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<year_month_day> read_date(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = read_digits(text, 0, 4);
  const auto m = read_digits(text, 5, 2);
  const auto d = read_digits(text, 8, 2);
  if (!y || !m || !d) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*m)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

bool writable_year(const year_month_day& ymd) {
  return ymd.year() >= year{0} && ymd.year() <= year{9999};
}

}  // namespace

std::optional<std::string> format_timestamp(domain::timestamp t) {
  const auto day_start = floor<days>(t);
  const year_month_day ymd{day_start};
  if (!writable_year(ymd)) return std::nullopt;
  const hh_mm_ss<microseconds> time{t - day_start};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                static_cast<long long>(time.subseconds().count()));
  return std::string(buffer);
}

std::optional<domain::timestamp> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS is 19 characters; the zone needs at least one more.
  if (text.size() < 20) return std::nullopt;
  const auto ymd = read_date(text);
  if (!ymd || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  const auto second = read_digits(text, 17, 2);
  if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 6) return std::nullopt;
      micros = micros * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  minutes offset{0};
  const std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z") {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const auto oh = read_digits(zone, 1, 2);
    const auto om = read_digits(zone, 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = hours{*oh} + minutes{*om};
    if (zone[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  return domain::timestamp{sys_days{*ymd}} + hours{*hour} + minutes{*minute} + seconds{*second} +
         microseconds{micros} - offset;
}

std::optional<std::string> format_date(domain::date d) {
  const year_month_day ymd{d};
  if (!writable_year(ymd)) return std::nullopt;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return std::string(buffer);
}

std::optional<domain::date> parse_date(std::string_view text) {
  if (text.size() != 10) return std::nullopt;
  const auto ymd = read_date(text);
  if (!ymd) return std::nullopt;
  return sys_days{*ymd};
}

}  // namespace realmkit::infra
