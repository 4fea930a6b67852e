#include "projections/support/statement_batch.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <map>

#include "projections/catalog.hpp"

namespace realmkit::projections::support {

namespace sql = infra::sql;

void statement_batch::add(std::string_view sql, std::vector<sql::value> params) {
  if (runs_.empty() || runs_.back().sql != sql) runs_.push_back({std::string(sql), {}});
  runs_.back().rows.push_back(std::move(params));
}

namespace {

// A script is sent once it holds this many bytes.
constexpr std::size_t kScriptBytes = 1u << 20;

// A PostgreSQL literal of a value (the sessions run with standard_conforming_strings on, so
// only quotes double). A NUL byte cannot travel in a literal.
void append_literal(std::string& out, const sql::value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    out += '\'';
    out += std::to_string(*n);
    out += '\'';
  } else if (const auto* t = std::get_if<std::string>(&v)) {
    if (t->find('\0') != std::string::npos) {
      throw sql::error("a text value of a read model contains a NUL byte", false);
    }
    out += '\'';
    for (char c : *t) {
      if (c == '\'') out += '\'';
      out += c;
    }
    out += '\'';
  } else {
    out += "NULL";
  }
}

// Names of statements prepared for one run of a batch: unique per process, so that a batch that
// failed halfway (its statements stay prepared: PREPARE is not undone by a rollback) never
// collides with a later one.
std::string next_statement_prefix() {
  static std::atomic<std::uint64_t> counter{0};
  return "rk_batch_" + std::to_string(counter.fetch_add(1)) + "_";
}

}  // namespace

void statement_batch::run(sql::session& db) {
  if (runs_.empty()) return;
  if (db.dialect() != sql::dialect::postgres) {
    // SQLite has no round trips: each run is a prepared statement stepped per row.
    for (const auto& r : runs_) {
      if (r.rows.size() == 1) {
        db.execute(r.sql, r.rows.front());
      } else {
        db.execute_many(r.sql, r.rows);
      }
    }
    runs_.clear();
    return;
  }
  // PostgreSQL: every statement is prepared once for the batch and executed with literal
  // arguments, all in scripts of about a megabyte: a few round trips for a batch of any mix of
  // events, each statement planned once.
  const auto prefix = next_statement_prefix();
  std::map<std::string_view, std::string> names;
  std::string script;
  for (const auto& r : runs_) {
    auto [it, added] = names.try_emplace(r.sql, prefix + std::to_string(names.size()));
    if (added) script += "PREPARE " + it->second + " AS " + r.sql + ";\n";
    for (const auto& row : r.rows) {
      script += "EXECUTE " + it->second;
      if (!row.empty()) {
        script += '(';
        for (std::size_t i = 0; i < row.size(); ++i) {
          if (i) script += ',';
          append_literal(script, row[i]);
        }
        script += ')';
      }
      script += ";\n";
      if (script.size() >= kScriptBytes) {
        db.exec_script(script);
        script.clear();
      }
    }
  }
  for (const auto& [sql_text, name] : names) script += "DEALLOCATE " + name + ";\n";
  db.exec_script(script);
  runs_.clear();
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
  return out;
}

std::string key_set(sql::dialect dialect, int parameter) {
  const std::string p = "$" + std::to_string(parameter);
  if (dialect == sql::dialect::postgres)
    return "SELECT jsonb_array_elements_text(" + p + "::jsonb)";
  return "SELECT value FROM json_each(" + p + ")";
}

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    const unsigned n =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> from_base64url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const auto at = kAlphabet.find(c);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, so that one cursor has one spelling.
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string encode_cursor(std::string_view tag, const std::vector<std::string>& fields) {
  std::string payload;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) payload += '\n';
    payload += fields[i];
  }
  return std::string(tag) + "." + base64url(payload);
}

std::optional<std::vector<std::string>> decode_cursor(std::string_view tag, std::string_view text,
                                                      std::size_t fields) {
  if (text.size() <= tag.size() + 1 || !text.starts_with(tag) || text[tag.size()] != '.') {
    return std::nullopt;
  }
  const auto payload = from_base64url(text.substr(tag.size() + 1));
  if (!payload) return std::nullopt;
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    const auto nl = payload->find('\n', from);
    out.push_back(payload->substr(from, nl == std::string::npos ? std::string::npos : nl - from));
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  if (out.size() != fields) return std::nullopt;
  return out;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::int64_t live_position(sql::session& db, std::string_view projection) {
  const auto live = live_generation(db, projection);
  return live ? live->position : 0;
}

}  // namespace realmkit::projections::support
