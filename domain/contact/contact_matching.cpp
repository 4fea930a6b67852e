#include "domain/contact/contact_matching.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace realmkit::domain {
namespace {

bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Latin letters with diacritics (U+00C0–U+017F) and their ASCII base; a code point in no range
// here is kept as it is.
struct fold_range {
  char32_t first;
  char32_t last;
  std::string_view ascii;
};

constexpr std::array<fold_range, 52> kFolds{{
    {0xC0, 0xC5, "a"},   {0xC6, 0xC6, "ae"},   {0xC7, 0xC7, "c"},    {0xC8, 0xCB, "e"},
    {0xCC, 0xCF, "i"},   {0xD0, 0xD0, "d"},    {0xD1, 0xD1, "n"},    {0xD2, 0xD6, "o"},
    {0xD8, 0xD8, "o"},   {0xD9, 0xDC, "u"},    {0xDD, 0xDD, "y"},    {0xDE, 0xDE, "th"},
    {0xDF, 0xDF, "ss"},  {0xE0, 0xE5, "a"},    {0xE6, 0xE6, "ae"},   {0xE7, 0xE7, "c"},
    {0xE8, 0xEB, "e"},   {0xEC, 0xEF, "i"},    {0xF0, 0xF0, "d"},    {0xF1, 0xF1, "n"},
    {0xF2, 0xF6, "o"},   {0xF8, 0xF8, "o"},    {0xF9, 0xFC, "u"},    {0xFD, 0xFD, "y"},
    {0xFE, 0xFE, "th"},  {0xFF, 0xFF, "y"},    {0x100, 0x105, "a"},  {0x106, 0x10D, "c"},
    {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},  {0x11C, 0x123, "g"},  {0x124, 0x127, "h"},
    {0x128, 0x131, "i"}, {0x132, 0x133, "ij"}, {0x134, 0x135, "j"},  {0x136, 0x138, "k"},
    {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},  {0x14C, 0x151, "o"},  {0x152, 0x153, "oe"},
    {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},  {0x162, 0x167, "t"},  {0x168, 0x173, "u"},
    {0x174, 0x175, "w"}, {0x176, 0x178, "y"},  {0x179, 0x17E, "z"},  {0x17F, 0x17F, "s"},
    {0xD7, 0xD7, ""},    {0xF7, 0xF7, ""},     {0x2019, 0x2019, ""}, {0x2018, 0x2018, ""},
}};

// The code point at s[i] and its length in bytes; length 1 and U+FFFD for a malformed sequence.
std::pair<char32_t, std::size_t> decode_utf8(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (length == 1 || i + length > s.size()) return {0xFFFD, 1};
  char32_t cp = lead & (0x3F >> (length - 1));
  for (std::size_t k = 1; k < length; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return {0xFFFD, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, length};
}

const fold_range* fold_of(char32_t cp) {
  for (const auto& r : kFolds) {
    if (cp >= r.first && cp <= r.last) return &r;
  }
  return nullptr;
}

// Splits `text` into words, appending them to `out`.
void append_words(std::string_view text, std::vector<std::string>& out) {
  std::string word;
  const auto finish = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (is_ascii_alnum(c)) {
        word += ascii_lower(static_cast<char>(c));
      } else if (c != '\'') {
        finish();  // "O'Brien" is one word; a hyphen, a dot or a space ends one
      }
      ++i;
      continue;
    }
    const auto [cp, length] = decode_utf8(text, i);
    if (const auto* fold = fold_of(cp)) {
      word += fold->ascii;  // a sign such as × folds to nothing and ends no word
    } else if (cp == 0xFFFD || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x206F)) {
      finish();  // malformed, a no-break space or general punctuation
    } else {
      word.append(text.substr(i, length));
    }
    i += length;
  }
  finish();
}

double jaro(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1;
  if (a.empty() || b.empty()) return 0;
  const std::size_t window =
      std::max(a.size(), b.size()) / 2 == 0 ? 0 : std::max(a.size(), b.size()) / 2 - 1;
  std::vector<bool> a_matched(a.size()), b_matched(b.size());
  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t from = i > window ? i - window : 0;
    const std::size_t to = std::min(b.size(), i + window + 1);
    for (std::size_t j = from; j < to; ++j) {
      if (b_matched[j] || a[i] != b[j]) continue;
      a_matched[i] = b_matched[j] = true;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0;
  std::size_t transpositions = 0;
  for (std::size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!a_matched[i]) continue;
    while (!b_matched[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double m = static_cast<double>(matches);
  return (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) +
          (m - static_cast<double>(transpositions) / 2) / m) /
         3;
}

double jaro_winkler(std::string_view a, std::string_view b) {
  const double j = jaro(a, b);
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  return j + static_cast<double>(prefix) * 0.1 * (1 - j);
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// Words further apart than this pair with nothing: "Weber" and "Meyer" are two names, however alike
// the rest.
constexpr double kWordSimilarityFloor = 0.85;
// Beyond this many words (120 pairings), names are compared as whole strings.
constexpr std::size_t kMaxComparedWords = 5;

double word_similarity(std::string_view x, std::string_view y) {
  if (x == y) return 1;
  // An initial stands for any word it begins: "J." for "John".
  if ((x.size() == 1 || y.size() == 1) && x.front() == y.front()) return 0.9;
  return jaro_winkler(x, y);
}

bool share_any(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> email_match_key(std::string_view address) {
  address = trim(address);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  std::string local;
  for (const char c : address.substr(0, at)) {
    if (c == '+') break;
    local += ascii_lower(c);
  }
  std::string domain;
  for (const char c : address.substr(at + 1)) domain += ascii_lower(c);
  if (local.empty() || domain.find('.') == std::string::npos ||
      domain.find_first_of(" @\t") != std::string::npos ||
      local.find_first_of(" \t") != std::string::npos) {
    return std::nullopt;
  }
  if (domain == "gmail.com" || domain == "googlemail.com") {
    std::erase(local, '.');
    domain = "gmail.com";
  }
  return local + '@' + domain;
}

namespace {

// A number as written: its digits up to an extension, and whether it began with "+".
struct written_number {
  bool plus = false;
  std::string digits;
};

// nullopt for anything but digits, "+" in front, separators and an extension.
std::optional<written_number> read_number(std::string_view number) {
  written_number out;
  for (const char c : trim(number)) {
    if (c >= '0' && c <= '9') {
      out.digits += c;
    } else if (c == '+' && out.digits.empty() && !out.plus) {
      out.plus = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') {
      continue;
    } else if (!out.digits.empty() &&
               (c == 'x' || c == 'X' || c == 'e' || c == 'E' || c == '#' || c == ';' || c == ',')) {
      break;  // an extension, or a pause before one: not part of the number
    } else {
      return std::nullopt;
    }
  }
  if (out.digits.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> e164_phone(std::string_view number, std::string_view default_country) {
  const auto written = read_number(number);
  if (!written) return std::nullopt;
  const bool plus = written->plus;
  const std::string& digits = written->digits;
  std::string international;
  if (plus) {
    international = digits;
  } else if (digits.starts_with("00")) {
    international = digits.substr(2);
  } else if (default_country == "1" && digits.starts_with("011")) {
    international = digits.substr(3);  // North America's international prefix
  } else {
    if (default_country.empty() ||
        default_country.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    std::string national = digits;
    if (default_country == "1") {
      if (national.size() == 11 && national.front() == '1') national.erase(0, 1);
      if (national.size() != 10) return std::nullopt;
    } else if (national.starts_with("0")) {
      national.erase(0, 1);  // the trunk prefix, not dialled from abroad
    }
    if (national.size() < 4) return std::nullopt;
    international = std::string(default_country) + national;
  }
  if (international.size() < 8 || international.size() > 15 || international.front() == '0') {
    return std::nullopt;
  }
  return '+' + international;
}

namespace {

// The length of the country calling code `e164_digits` starts with. E.164's codes are prefix-free:
// 1 and 7 are the one-digit codes, these the two-digit ones, and every other is three digits.
std::size_t calling_code_length(std::string_view e164_digits) {
  static constexpr std::array<std::string_view, 44> kTwoDigit = {
      "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
      "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
      "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  if (e164_digits.starts_with('1') || e164_digits.starts_with('7')) return 1;
  const auto two = e164_digits.substr(0, 2);
  return std::find(kTwoDigit.begin(), kTwoDigit.end(), two) != kTwoDigit.end() ? 2 : 3;
}

}  // namespace

std::optional<std::string> phone_match_key(std::string_view number) {
  std::string national;
  if (const auto international = e164_phone(number, "")) {
    const std::string_view digits = std::string_view(*international).substr(1);
    national = digits.substr(calling_code_length(digits));
  } else {
    // Written nationally: which country is unknown, but its trunk prefix is dropped either way
    // (North America's "1" before ten digits, elsewhere a leading 0).
    const auto written = read_number(number);
    if (!written || written->plus || written->digits.size() > 15) return std::nullopt;
    national = written->digits;
    if (national.size() == 11 && national.front() == '1') {
      national.erase(0, 1);
    } else if (national.starts_with('0')) {
      national.erase(0, 1);
    }
  }
  if (national.size() < 6) return std::nullopt;
  return national;
}

std::vector<std::string> name_words(std::string_view first_name, std::string_view last_name) {
  std::vector<std::string> out;
  append_words(first_name, out);
  append_words(last_name, out);
  return out;
}

double name_similarity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  const auto& shorter = a.size() <= b.size() ? a : b;
  const auto& longer = a.size() <= b.size() ? b : a;
  if (longer.size() > kMaxComparedWords) return jaro_winkler(joined(a), joined(b));
  // Every way of pairing the shorter name's words with distinct words of the longer one: a word
  // order swapped, or a middle name one of them leaves out, costs nothing.
  std::vector<std::size_t> order(longer.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  double best = 0;
  do {
    double weighted = 0;
    double weights = 0;
    bool every_word_alike = true;
    for (std::size_t i = 0; i < shorter.size(); ++i) {
      const auto& x = shorter[i];
      const auto& y = longer[order[i]];
      const double s = word_similarity(x, y);
      if (s < kWordSimilarityFloor) {
        every_word_alike = false;
        break;
      }
      const auto weight = static_cast<double>(std::max(x.size(), y.size()));
      weighted += s * weight;
      weights += weight;
    }
    if (every_word_alike) best = std::max(best, weighted / weights);
  } while (best < 1 && std::next_permutation(order.begin(), order.end()));
  return best;
}

match_profile make_match_profile(std::string_view first_name, std::string_view last_name,
                                 const std::vector<std::string>& email_addresses,
                                 const std::vector<std::string>& phone_numbers,
                                 std::string company) {
  match_profile out;
  for (const auto& address : email_addresses) {
    auto key = email_match_key(address);
    if (key && std::find(out.emails.begin(), out.emails.end(), *key) == out.emails.end()) {
      out.emails.push_back(std::move(*key));
    }
  }
  for (const auto& number : phone_numbers) {
    auto key = phone_match_key(number);
    if (key && std::find(out.phones.begin(), out.phones.end(), *key) == out.phones.end()) {
      out.phones.push_back(std::move(*key));
    }
  }
  out.name = name_words(first_name, last_name);
  out.company = std::move(company);
  return out;
}

std::vector<std::string> match_keys(const match_profile& profile) {
  std::vector<std::string> out;
  for (const auto& e : profile.emails) out.push_back("e:" + e);
  for (const auto& p : profile.phones) out.push_back("p:" + p);
  if (!profile.company.empty()) {
    for (const auto& word : profile.name) {
      auto key = "n:" + profile.company + ":" + word.substr(0, 2);
      if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
    }
  }
  return out;
}

std::string_view to_string(match_reason reason) {
  switch (reason) {
    case match_reason::same_email:
      return "same_email";
    case match_reason::same_phone:
      return "same_phone";
    case match_reason::similar_name_same_company:
      return "similar_name_same_company";
  }
  return "unknown";
}

std::optional<duplicate_verdict> match_contacts(const match_profile& a, const match_profile& b) {
  duplicate_verdict v;
  double unlikely = 1;  // the chance that every reason found is a coincidence
  if (share_any(a.emails, b.emails)) {
    v.reasons.push_back(match_reason::same_email);
    unlikely *= 0.05;
  }
  if (share_any(a.phones, b.phones)) {
    v.reasons.push_back(match_reason::same_phone);
    unlikely *= 0.15;
  }
  if (!a.company.empty() && a.company == b.company) {
    const double similarity = name_similarity(a.name, b.name);
    if (similarity >= kNameSimilarityThreshold) {
      v.reasons.push_back(match_reason::similar_name_same_company);
      // From 0.5 at the threshold to 0.9 for the same name.
      unlikely *=
          0.5 - 0.4 * (similarity - kNameSimilarityThreshold) / (1 - kNameSimilarityThreshold);
    }
  }
  if (v.reasons.empty()) return std::nullopt;
  v.score = 1 - unlikely;
  return v;
}

}  // namespace realmkit::domain
