#include "projections/search/search_document.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <stdexcept>

#include "domain/common/types.hpp"

namespace realmkit::projections::search {
namespace {

void join(std::string& out, std::string_view part, std::string_view separator) {
  if (part.empty()) return;
  if (!out.empty()) out += separator;
  out += part;
}

// "2500.00 EUR" for 250000 minor units of a currency with two decimals.
std::string format_money(std::int64_t amount, const std::string& currency) {
  const int decimals = domain::currency_minor_units(currency).value_or(2);
  const bool negative = amount < 0;
  const auto magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(amount)
                                  : static_cast<std::uint64_t>(amount);
  std::string digits = std::to_string(magnitude);
  if (decimals > 0) {
    if (digits.size() <= static_cast<std::size_t>(decimals)) {
      digits.insert(0, static_cast<std::size_t>(decimals) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(decimals), ".");
  }
  return (negative ? "-" : "") + digits + " " + currency;
}

std::string digits_of(std::string_view phone) {
  std::string out;
  for (char c : phone) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

}  // namespace

std::size_t characters(std::string_view word) {
  std::size_t n = 0;
  for (char c : word) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // not a continuation byte
  }
  return n;
}

std::string prefix_terms(std::string_view terms) {
  std::vector<std::string> out;
  for (const auto& word : words(terms)) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i <= word.size(); ++i) {
      // A prefix ends where a character starts (or at the word's end).
      const bool boundary =
          i == word.size() || (static_cast<unsigned char>(word[i]) & 0xC0) != 0x80;
      if (i > 0 && boundary) {
        ++chars;
        out.push_back(word.substr(0, i));
        if (chars == kIndexedPrefix) break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::string joined;
  for (const auto& p : out) join(joined, p, " ");
  return joined;
}

std::string team_token(const std::optional<std::string>& team) {
  if (!team) return "tnone";
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (char c : *team) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "t";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 0xF];
  return out;
}

std::string scope_terms(std::string_view kind, const std::optional<std::string>& team) {
  return "k" + std::string(kind) + " " + team_token(team);
}

std::string normalize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool gap = false;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
    if (!keep) {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += ' ';
    gap = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
  }
  return out;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  const auto n = normalize(text);
  std::size_t from = 0;
  while (from < n.size()) {
    auto space = n.find(' ', from);
    if (space == std::string::npos) space = n.size();
    out.push_back(n.substr(from, space - from));
    from = space + 1;
  }
  return out;
}

std::string title_of(const document& d) {
  if (d.kind == "contact") {
    std::string out;
    join(out, d.first_name, " ");
    join(out, d.last_name, " ");
    return out;
  }
  if (d.kind == "deal") return d.title;
  return d.name;  // company, lead
}

std::string subtitle_of(const document& d) {
  std::string out;
  if (d.kind == "contact") {
    join(out, d.job_title, " · ");
    if (!d.emails.empty()) join(out, d.emails.front(), " · ");
  } else if (d.kind == "company") {
    join(out, d.domain, " · ");
    join(out, d.industry, " · ");
    join(out, d.city, " · ");
  } else if (d.kind == "deal") {
    join(out, d.status, " · ");
    if (!d.currency.empty()) join(out, format_money(d.amount_minor, d.currency), " · ");
  } else if (d.kind == "lead") {
    join(out, d.company_name, " · ");
    join(out, d.email, " · ");
    join(out, d.status, " · ");
  }
  return out;
}

std::string name_terms(const document& d) {
  return normalize(title_of(d));
}

std::string other_terms(const document& d) {
  std::string text;
  auto add = [&](std::string_view part) { join(text, part, " "); };
  auto add_phone = [&](std::string_view phone) {
    add(phone);
    add(digits_of(phone));  // "+49 30 123" is found by "4930123" too
  };
  if (d.kind == "contact") {
    add(d.job_title);
    for (const auto& e : d.emails) add(e);
    for (const auto& p : d.phones) add_phone(p);
    for (const auto& t : d.tags) add(t);
  } else if (d.kind == "company") {
    add(d.domain);
    add(d.industry);
    add(d.city);
    add(d.country);
    add_phone(d.phone);
    for (const auto& t : d.tags) add(t);
  } else if (d.kind == "lead") {
    add(d.email);
    add_phone(d.phone);
    add(d.company_name);
  }
  return normalize(text);
}

std::string to_source(const document& d) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  auto text = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto list = [&](const char* key, const std::vector<std::string>& values) {
    if (values.empty()) return;
    w.Key(key);
    w.StartArray();
    for (const auto& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
  };
  text("first_name", d.first_name);
  text("last_name", d.last_name);
  text("job_title", d.job_title);
  list("emails", d.emails);
  list("phones", d.phones);
  list("tags", d.tags);
  text("name", d.name);
  text("domain", d.domain);
  text("industry", d.industry);
  text("city", d.city);
  text("country", d.country);
  text("phone", d.phone);
  text("title", d.title);
  if (!d.currency.empty()) {
    w.Key("amount_minor");
    w.Int64(d.amount_minor);
  }
  text("currency", d.currency);
  text("status", d.status);
  text("email", d.email);
  text("company_name", d.company_name);
  if (d.archived) {
    w.Key("archived");
    w.Bool(true);
  }
  if (d.merged) {
    w.Key("merged");
    w.Bool(true);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

document from_source(std::string_view kind, std::string_view id, std::string_view owner,
                     std::string_view source) {
  rapidjson::Document json;
  json.Parse(source.data(), source.size());
  if (json.HasParseError() || !json.IsObject()) {
    throw std::runtime_error("search document " + std::string(kind) + " " + std::string(id) +
                             ": its stored fields are not a JSON object");
  }
  document d;
  d.kind = kind;
  d.id = id;
  d.owner = owner;
  auto text = [&](const char* key, std::string& out) {
    if (const auto it = json.FindMember(key); it != json.MemberEnd() && it->value.IsString()) {
      out.assign(it->value.GetString(), it->value.GetStringLength());
    }
  };
  auto list = [&](const char* key, std::vector<std::string>& out) {
    if (const auto it = json.FindMember(key); it != json.MemberEnd() && it->value.IsArray()) {
      for (const auto& v : it->value.GetArray()) {
        if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
      }
    }
  };
  text("first_name", d.first_name);
  text("last_name", d.last_name);
  text("job_title", d.job_title);
  list("emails", d.emails);
  list("phones", d.phones);
  list("tags", d.tags);
  text("name", d.name);
  text("domain", d.domain);
  text("industry", d.industry);
  text("city", d.city);
  text("country", d.country);
  text("phone", d.phone);
  text("title", d.title);
  if (const auto it = json.FindMember("amount_minor");
      it != json.MemberEnd() && it->value.IsInt64()) {
    d.amount_minor = it->value.GetInt64();
  }
  text("currency", d.currency);
  text("status", d.status);
  text("email", d.email);
  text("company_name", d.company_name);
  auto flag = [&](const char* key) {
    const auto it = json.FindMember(key);
    return it != json.MemberEnd() && it->value.IsBool() && it->value.GetBool();
  };
  d.archived = flag("archived");
  d.merged = flag("merged");
  return d;
}

}  // namespace realmkit::projections::search
