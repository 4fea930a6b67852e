// Reading SQL text: tokens, placeholders, and the shape of a plain INSERT.
#include <charconv>

#include "infra/sql/sql_detail.hpp"

namespace realmkit::infra::sql::detail {
namespace {

constexpr std::size_t kMaxParameter = 65'535;  // PostgreSQL's limit; SQLite's is lower

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_word_char(char c) {
  return is_word_start(c) || is_digit(c) || c == '$';
}

// The index just past a quoted text opened at `open` and closed by `close`; a doubled closing
// character stays inside, as does a backslash-escaped one in PostgreSQL's E'...' strings.
std::size_t skip_quoted(std::string_view sql, std::size_t open, char close, bool backslashes) {
  for (std::size_t i = open + 1; i < sql.size(); ++i) {
    if (backslashes && sql[i] == '\\') {
      ++i;
    } else if (sql[i] == close) {
      if (i + 1 < sql.size() && sql[i + 1] == close) {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return sql.size();
}

// PostgreSQL nests block comments; SQLite ends one at the first */.
std::size_t skip_block_comment(std::string_view sql, std::size_t open, bool nested) {
  int depth = 0;
  for (std::size_t i = open; i + 1 < sql.size(); ++i) {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      if (depth == 0 || nested) ++depth;
      ++i;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      ++i;
      if (--depth == 0) return i + 1;
    }
  }
  return sql.size();
}

bool is_word(const token& t, std::string_view keyword) {
  if (t.type != token::kind::word || t.text.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    char c = t.text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

bool is_symbol(const token& t, char c) {
  return t.type == token::kind::symbol && t.text.size() == 1 && t.text[0] == c;
}

}  // namespace

std::vector<token> tokenize(std::string_view sql, sql::dialect dialect) {
  const bool postgres = dialect == sql::dialect::postgres;
  std::vector<token> tokens;
  std::size_t i = 0;
  auto add = [&](token::kind kind, std::size_t end, std::size_t number = 0) {
    tokens.push_back(token{kind, sql.substr(i, end - i), number});
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '-' && next == '-') {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) i = sql.size();
    } else if (c == '/' && next == '*') {
      i = skip_block_comment(sql, i, postgres);
    } else if (c == '\'') {
      add(token::kind::literal, skip_quoted(sql, i, '\'', false));
    } else if (postgres && (c == 'E' || c == 'e') && next == '\'') {
      add(token::kind::literal, skip_quoted(sql, i + 1, '\'', true));
    } else if (c == '"') {
      add(token::kind::quoted_identifier, skip_quoted(sql, i, '"', false));
    } else if (!postgres && (c == '`' || c == '[')) {
      add(token::kind::quoted_identifier, skip_quoted(sql, i, c == '[' ? ']' : '`', false));
    } else if (c == '$' && is_digit(next)) {
      std::size_t end = i + 1;
      while (end < sql.size() && is_digit(sql[end])) ++end;
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(sql.data() + i + 1, sql.data() + end, n);
      if (ec != std::errc() || n == 0 || n > kMaxParameter) {
        throw error(first_line(sql) + ": placeholder " + std::string(sql.substr(i, end - i)) +
                        " out of range ($1..$65535)",
                    false);
      }
      add(token::kind::placeholder, end, n);
    } else if (postgres && c == '$' && (next == '$' || is_word_start(next))) {
      // $$...$$ or $tag$...$tag$; a '$' that opens neither is a symbol.
      std::size_t tag_end = i + 1;
      while (tag_end < sql.size() && is_word_char(sql[tag_end]) && sql[tag_end] != '$') ++tag_end;
      if (tag_end < sql.size() && sql[tag_end] == '$') {
        const auto tag = sql.substr(i, tag_end - i + 1);
        const auto close = sql.find(tag, tag_end + 1);
        add(token::kind::literal,
            close == std::string_view::npos ? sql.size() : close + tag.size());
      } else {
        add(token::kind::symbol, i + 1);
      }
    } else if (is_word_start(c) || is_digit(c)) {
      std::size_t end = i + 1;
      while (end < sql.size() && is_word_char(sql[end])) ++end;
      add(token::kind::word, end);
    } else {
      add(token::kind::symbol, i + 1);
    }
  }
  return tokens;
}

scanned_statement scan_placeholders(std::string_view sql, sql::dialect dialect) {
  scanned_statement out;
  std::size_t copied = 0;  // sql[0, copied) is in out.sqlite_text already
  for (const auto& t : tokenize(sql, dialect)) {
    if (t.type != token::kind::placeholder) continue;
    out.parameters = std::max(out.parameters, t.number);
    if (dialect == sql::dialect::sqlite) {
      const auto at = static_cast<std::size_t>(t.text.data() - sql.data());
      out.sqlite_text.append(sql.substr(copied, at - copied));
      out.sqlite_text += '?';
      copied = at + 1;
    }
  }
  if (dialect == sql::dialect::sqlite) out.sqlite_text.append(sql.substr(copied));
  return out;
}

namespace {

// A column name as PostgreSQL compares it: unquoted names fold to lower case. nullopt for a
// quoted name with an escaped quote (never matched, so such statements run one by one).
std::optional<std::string> column_name(const token& t) {
  std::string name;
  if (t.type == token::kind::quoted_identifier) {
    const auto inner = t.text.substr(1, t.text.size() - 2);
    if (inner.find('"') != std::string_view::npos) return std::nullopt;
    return std::string(inner);
  }
  for (char c : t.text) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return name;
}

// Names in parentheses starting at tokens[open]: name (, name)* ). Returns the index past ')'.
std::optional<std::size_t> name_list(const std::vector<token>& tokens, std::size_t open,
                                     std::vector<std::optional<std::string>>& names) {
  if (open >= tokens.size() || !is_symbol(tokens[open], '(')) return std::nullopt;
  std::size_t i = open + 1;
  while (i < tokens.size() && (tokens[i].type == token::kind::word ||
                               tokens[i].type == token::kind::quoted_identifier)) {
    names.push_back(column_name(tokens[i++]));
    if (i < tokens.size() && is_symbol(tokens[i], ',')) {
      ++i;
    } else {
      break;
    }
  }
  if (names.empty() || i >= tokens.size() || !is_symbol(tokens[i], ')')) return std::nullopt;
  return i + 1;
}

}  // namespace

std::optional<bulk_insert> as_bulk_insert(std::string_view sql) {
  const auto tokens = tokenize(sql, sql::dialect::postgres);
  const auto offset = [&](const token& t) {
    return static_cast<std::size_t>(t.text.data() - sql.data());
  };
  if (tokens.size() < 2 || !is_word(tokens[0], "insert") || !is_word(tokens[1], "into")) {
    return std::nullopt;
  }
  for (const auto& t : tokens) {
    // A subquery sees the rows the statement wrote before in a one-by-one execution only.
    if (is_word(t, "select") || is_word(t, "with") || is_word(t, "returning")) return std::nullopt;
  }
  // The column list, if any, then VALUES at the top level and its one row in parentheses.
  std::size_t values = 0;
  std::optional<std::size_t> columns_open;
  int depth = 0;
  for (std::size_t i = 2; i < tokens.size() && values == 0; ++i) {
    if (is_symbol(tokens[i], '(') && depth++ == 0 && !columns_open) columns_open = i;
    if (is_symbol(tokens[i], ')')) --depth;
    if (tokens[i].type == token::kind::placeholder) return std::nullopt;  // before the row
    if (depth == 0 && is_word(tokens[i], "values")) values = i;
  }
  if (values == 0 || values + 1 >= tokens.size() || !is_symbol(tokens[values + 1], '(')) {
    return std::nullopt;
  }
  std::vector<std::optional<std::string>> columns;
  if (columns_open && !name_list(tokens, *columns_open, columns)) columns.clear();
  // The row's items; for each one that is a bare $N, N - 1.
  std::vector<std::optional<std::size_t>> items(1);
  std::size_t item_tokens = 0;
  std::size_t close = 0;
  depth = 0;
  for (std::size_t i = values + 1; i < tokens.size() && close == 0; ++i) {
    if (is_word(tokens[i], "default")) return std::nullopt;
    if (is_symbol(tokens[i], '(') && ++depth == 1) continue;
    if (is_symbol(tokens[i], ')') && --depth == 0) {
      close = i;
    } else if (depth == 1 && is_symbol(tokens[i], ',')) {
      items.emplace_back();
      item_tokens = 0;
    } else {
      ++item_tokens;
      items.back() = item_tokens == 1 && tokens[i].type == token::kind::placeholder
                         ? std::optional<std::size_t>(tokens[i].number - 1)
                         : std::nullopt;
    }
  }
  if (close == 0) return std::nullopt;
  bulk_insert out;
  // After the row: nothing, or an ON CONFLICT clause without placeholders.
  std::size_t end = tokens.size();
  if (end > close + 1 && is_symbol(tokens[end - 1], ';')) --end;
  if (end > close + 1) {
    if (end < close + 5 || !is_word(tokens[close + 1], "on") ||
        !is_word(tokens[close + 2], "conflict")) {
      return std::nullopt;
    }
    for (std::size_t i = close + 1; i < end; ++i) {
      if (tokens[i].type == token::kind::placeholder || is_symbol(tokens[i], ';')) {
        return std::nullopt;
      }
    }
    const bool nothing = is_word(tokens[end - 2], "do") && is_word(tokens[end - 1], "nothing");
    if (!nothing) {
      // DO UPDATE: two rows with the same key in one execution would be an error, so the key's
      // values must be known: the conflict columns, each given a bare $N.
      std::vector<std::optional<std::string>> key;
      if (columns.size() != items.size() || !name_list(tokens, close + 3, key)) {
        return std::nullopt;
      }
      for (const auto& name : key) {
        std::optional<std::size_t> value;
        for (std::size_t c = 0; c < columns.size() && name; ++c) {
          if (columns[c] == name) value = items[c];
        }
        if (!value) return std::nullopt;
        out.conflict_key.push_back(*value);
      }
    }
  }
  out.head = std::string(sql.substr(0, offset(tokens[values])));
  std::size_t copied = offset(tokens[values + 1]) + 1;
  for (std::size_t i = values + 2; i < close; ++i) {
    if (tokens[i].type != token::kind::placeholder) continue;
    out.row.append(sql.substr(copied, offset(tokens[i]) - copied));
    out.row += "rk_rows.p" + std::to_string(tokens[i].number);
    copied = offset(tokens[i]) + tokens[i].text.size();
  }
  out.row.append(sql.substr(copied, offset(tokens[close]) - copied));
  if (end > close + 1) {
    const auto from = offset(tokens[close + 1]);
    out.tail =
        std::string(sql.substr(from, offset(tokens[end - 1]) + tokens[end - 1].text.size() - from));
  }
  return out;
}

std::string first_line(std::string_view sql) {
  constexpr std::size_t kMaxLength = 120;
  const auto start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return "(empty statement)";
  auto line = sql.substr(start, sql.find('\n', start) - start);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.size() > kMaxLength) return std::string(line.substr(0, kMaxLength)) + "...";
  return std::string(line);
}

}  // namespace realmkit::infra::sql::detail
