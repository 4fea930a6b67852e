// What the SQLite and PostgreSQL sessions share: placeholder scanning, error text, and the pool of
// idle sessions behind database::acquire.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "infra/sql/sql_database.hpp"

namespace realmkit::infra::sql::detail {

// One token of a statement. Whitespace and comments are dropped; E'...' and dollar-quoted strings
// (PostgreSQL) and [..] and `..` identifiers (SQLite) are understood, so a $N inside any of them
// is not a placeholder.
struct token {
  enum class kind { word, quoted_identifier, literal, placeholder, symbol };
  kind type;
  std::string_view text;   // a view into the tokenized SQL
  std::size_t number = 0;  // a placeholder's N
};
// Throws sql::error (not transient) for a placeholder beyond $65535 or $0.
std::vector<token> tokenize(std::string_view sql, sql::dialect dialect);

// A statement's $N placeholders.
struct scanned_statement {
  std::size_t parameters = 0;  // the highest N
  std::string sqlite_text;     // with every $N written ?N, when scanned for SQLite
};
scanned_statement scan_placeholders(std::string_view sql, sql::dialect dialect);

// INSERT INTO target [(columns)] VALUES (row) [ON CONFLICT ...], split so that the rows can come
// from arrays instead: head is the text before VALUES, row the row's expressions with every $N
// written rk_rows.pN, tail the ON CONFLICT clause. For DO UPDATE, conflict_key lists the
// parameters (N - 1) that give the conflict columns' values: two rows with the same key must not
// share an execution (PostgreSQL refuses to update a row twice in one statement).
//
// nullopt for any other statement, for rows whose value could depend on the rows written before
// them in a one-by-one execution (a subquery, DEFAULT), for a $N outside the row, and for a
// DO UPDATE whose conflict columns are not all given bare placeholders (ON CONSTRAINT, an
// expression).
struct bulk_insert {
  std::string head;
  std::string row;
  std::string tail;
  std::vector<std::size_t> conflict_key;
};
std::optional<bulk_insert> as_bulk_insert(std::string_view sql);

// The statement's first non-blank line, shortened, to name it in error messages.
std::string first_line(std::string_view sql);

// Throws sql::error (not transient) when the caller passed another number of values than the
// statement has placeholders.
void check_parameter_count(std::string_view name, std::size_t expected, std::size_t given);

// Throws sql::error (not transient) for a text value with a NUL byte, which PostgreSQL cannot
// store: refused on both backends so that both accept the same data.
void check_text(std::string_view name, std::string_view text);

// Statements a session keeps prepared. A miss beyond this many empties the cache first
// (PostgreSQL: when no transaction is open), so dynamic SQL cannot grow a session without bound.
inline constexpr std::size_t kMaxCachedStatements = 256;

class pooled_session : public session {
 public:
  // Whether the session may serve another lease: no transaction left open and the connection
  // still alive.
  virtual bool reusable() noexcept = 0;
};

// A database that lends at most max_sessions sessions through acquire() and keeps the returned
// ones open; subclasses open them.
class pooled_database : public database {
 public:
  pooled_database(std::size_t max_sessions, std::chrono::milliseconds acquire_timeout)
      : max_sessions_(max_sessions == 0 ? 1 : max_sessions), acquire_timeout_(acquire_timeout) {}
  lease acquire() final;

 protected:
  void release(std::unique_ptr<session> s, std::thread::id holder) noexcept final;

 private:
  void forget(std::thread::id holder);  // with mutex_ held: one lease of holder ended

  static constexpr std::size_t kMaxOpening = 2;

  const std::size_t max_sessions_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;  // guards the members below
  std::condition_variable returned_;
  std::vector<std::unique_ptr<session>> idle_;
  std::vector<std::thread::id> holders_;  // one entry per lent session
  std::size_t opening_ = 0;               // sessions being opened now
};

}  // namespace realmkit::infra::sql::detail
