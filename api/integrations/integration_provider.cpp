#include "api/integrations/integration_provider.hpp"

#include <array>
#include <cctype>

#include "api/error_mapping.hpp"
#include "api/problem.hpp"

namespace realmkit::api::integrations {
namespace {

// The length of the UTF-8 sequence starting at `s[i]`, or 0 when it is not a valid one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
    n = 2;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
  } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string bounded(std::string_view text, std::size_t max_bytes, bool single_line) {
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::string_view piece;
    std::size_t n = 1;
    if (c == '\r') {
      // CRLF and a lone CR are both a line end.
      if (i + 1 < text.size() && text[i + 1] == '\n') n = 2;
      piece = "\n";
    } else if (c == '\n' || c == '\t') {
      piece = text.substr(i, 1);
    } else if (c < 0x20 || c == 0x7F) {
      i += 1;
      continue;  // other control characters carry nothing readable
    } else {
      n = utf8_sequence(text, i);
      if (n == 0) {
        piece = "?";
        n = 1;
      } else {
        piece = text.substr(i, n);
      }
    }
    i += n;
    if (single_line && (piece == "\n" || piece == "\t" || piece == " ")) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.append(piece);
  }
  if (out.size() <= max_bytes) return out;
  constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…"
  std::size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  // Back to the start of a character: out holds valid UTF-8 only.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out.append(kEllipsis);
  return out;
}

int month_of(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() != 3) return 0;
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == lower) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool digits(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  out = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const auto start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::string_view to_string(inbound_kind kind) {
  switch (kind) {
    case inbound_kind::email:
      return "email";
    case inbound_kind::meeting:
      return "meeting";
    case inbound_kind::sms:
      return "sms";
    case inbound_kind::call:
      return "call";
  }
  return {};
}

std::string bounded_text(std::string_view text, std::size_t max_bytes) {
  return bounded(text, max_bytes, false);
}

std::string one_line(std::string_view text, std::size_t max_bytes) {
  return bounded(text, max_bytes, true);
}

std::optional<domain::timestamp> parse_rfc5322_date(std::string_view text) {
  auto t = tokens(text);
  // An optional day name ("Tue,").
  if (!t.empty() && t.front().back() == ',') t.erase(t.begin());
  if (t.size() != 5) return std::nullopt;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  const int month = month_of(t[1]);
  if (!digits(t[0], day) || month == 0 || !digits(t[2], year) || t[2].size() != 4) {
    return std::nullopt;
  }
  const auto clock = t[3];
  if (clock.size() != 5 && clock.size() != 8) return std::nullopt;
  if (clock[2] != ':' || !digits(clock.substr(0, 2), hour) || !digits(clock.substr(3, 2), minute)) {
    return std::nullopt;
  }
  if (clock.size() == 8 && (clock[5] != ':' || !digits(clock.substr(6, 2), second))) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int offset_minutes = 0;
  const auto zone = t[4];
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    int hh = 0, mm = 0;
    if (!digits(zone.substr(1, 2), hh) || !digits(zone.substr(3, 2), mm) || mm > 59) {
      return std::nullopt;
    }
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (hh * 60 + mm);
  } else if (!(zone == "GMT" || zone == "UT" || zone == "UTC" || zone == "Z")) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto at =
      sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second} - minutes{offset_minutes};
  return time_point_cast<microseconds>(at);
}

std::vector<std::string> addresses_in(std::string_view header) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < header.size()) {
    // One entry up to a comma outside quotes and angle brackets.
    bool quoted = false;
    int angle = 0;
    const auto start = i;
    for (; i < header.size(); ++i) {
      const char c = header[i];
      if (c == '"' && (i == 0 || header[i - 1] != '\\')) quoted = !quoted;
      if (!quoted && c == '<') ++angle;
      if (!quoted && c == '>' && angle > 0) --angle;
      if (!quoted && angle == 0 && c == ',') break;
    }
    auto entry = header.substr(start, i - start);
    ++i;
    const auto open = entry.rfind('<');
    const auto close = entry.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
      entry = entry.substr(open + 1, close - open - 1);
    }
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) {
      entry.remove_prefix(1);
    }
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) {
      entry.remove_suffix(1);
    }
    if (entry.find('@') != std::string_view::npos) out.emplace_back(entry);
  }
  return out;
}

void malformed(std::string field, std::string reason) {
  throw problem_error(make_problem(problem_kind::validation, std::move(reason), std::move(field)));
}

}  // namespace realmkit::api::integrations
