// The read-model database: one small interface over SQLite and PostgreSQL, so projections and
// queries write their SQL once. Statements use $1..$N placeholders on both backends; values travel
// as text, integers or NULL. Heavy headers (sqlite3.h, pqxx) stay in the implementations.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace realmkit::infra::sql {

enum class dialect { sqlite, postgres };

// A parameter or column value. Booleans are integers 0/1 on both backends; money is minor units.
using value = std::variant<std::monostate, std::int64_t, std::string>;

inline value null() {
  return std::monostate{};
}

// One result row; columns in the order of the SELECT.
class row {
 public:
  explicit row(std::vector<value> columns) : columns_(std::move(columns)) {}
  std::size_t size() const { return columns_.size(); }
  bool is_null(std::size_t i) const;
  // The column as an integer (text holding an integer is converted); throws sql::error otherwise.
  std::int64_t integer(std::size_t i) const;
  std::optional<std::int64_t> optional_integer(std::size_t i) const;
  // The column as text (integers are formatted); "" for NULL.
  std::string text(std::size_t i) const;
  std::optional<std::string> optional_text(std::size_t i) const;
  const value& operator[](std::size_t i) const { return columns_.at(i); }

 private:
  std::vector<value> columns_;
};

// A failed statement or an unreachable database. transient(): busy, locked, connection lost,
// serialization failure: the unit of work may be retried.
class error : public std::runtime_error {
 public:
  error(const std::string& what, bool transient)
      : std::runtime_error(what), transient_(transient) {}
  bool transient() const { return transient_; }

 private:
  bool transient_;
};

// One connection, used by one thread at a time. Statements are prepared once per session and
// reused (the SQL text is the key; a session keeps a few hundred).
//
// The same rules on both backends: a statement's parameters are exactly $1..$N (a count that
// differs from N is an error); one statement per query/execute call; after a statement failed
// inside a transaction, the transaction can only be rolled back (commit() rolls it back and
// throws), as PostgreSQL requires. Column values come back as NULL, integers (SQLite INTEGER;
// PostgreSQL smallint, integer, bigint and boolean as 0/1) or text (everything else, e.g.
// numeric as its decimal text).
class session {
 public:
  virtual ~session() = default;
  virtual sql::dialect dialect() const = 0;

  // Runs one or more statements without parameters or results (DDL, scripts).
  virtual void exec_script(std::string_view sql) = 0;
  // Runs a statement; returns the rows it produced.
  virtual std::vector<row> query(std::string_view sql, std::span<const value> params = {}) = 0;
  // Runs a statement that produces no rows; returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, std::span<const value> params = {}) = 0;
  // Runs one statement once per parameter set, in order, inside the current transaction: the
  // fast path for bulk writes (a prepared statement on SQLite, pipelined on PostgreSQL). Outside
  // a transaction it runs in one of its own: all rows or none.
  virtual void execute_many(std::string_view sql, std::span<const std::vector<value>> rows) = 0;

  // A write transaction (BEGIN IMMEDIATE on SQLite). Nested calls are an error. Open and end
  // transactions only through these calls, not through SQL text.
  virtual void begin() = 0;
  virtual void commit() = 0;
  // Harmless without an open transaction; never throws.
  virtual void rollback() noexcept = 0;
  virtual bool in_transaction() const = 0;
};

// A transaction that rolls back unless committed.
class transaction {
 public:
  explicit transaction(session& s) : session_(s) { session_.begin(); }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (open_) session_.rollback();
  }
  void commit() {
    session_.commit();
    open_ = false;
  }

 private:
  session& session_;
  bool open_ = true;
};

// Where the read models live, and how to open sessions there. Thread-safe; outlives its leases.
class database {
 public:
  virtual ~database() = default;
  virtual sql::dialect dialect() const = 0;
  // A new session (connection). Throws sql::error when the database cannot be reached.
  virtual std::unique_ptr<session> open_session() = 0;

  // A pooled session, returned to the pool when the lease ends (discarded if it broke).
  class lease {
   public:
    lease(database* owner, std::unique_ptr<session> s)
        : owner_(owner), session_(std::move(s)), holder_(std::this_thread::get_id()) {}
    lease(lease&&) noexcept = default;
    lease& operator=(lease&&) = delete;
    ~lease();
    session& operator*() const { return *session_; }
    session* operator->() const { return session_.get(); }

   private:
    database* owner_;
    std::unique_ptr<session> session_;
    std::thread::id holder_;  // the thread that acquired it
  };
  // A session from the database's pool (opened on demand). At most max_sessions are lent at once:
  // beyond that a caller waits for one to come back, and fails transiently after acquire_timeout,
  // except a thread that already holds one, which gets another at once (a handler that holds a
  // session and asks a helper that acquires its own cannot deadlock the pool). Returned sessions
  // stay open for the next caller; a lease ending with a transaction still open or on a lost
  // connection discards its session.
  virtual lease acquire() = 0;

 protected:
  friend class lease;
  virtual void release(std::unique_ptr<session> s, std::thread::id holder) noexcept = 0;
};

struct sqlite_options {
  std::filesystem::path path;  // the event store's file in the embedded default
  std::chrono::milliseconds busy_timeout{10'000};
  // How long a write transaction waits for this process's other writers before failing
  // transiently. They always finish (each holds the lock only to write its rows), so this is
  // longer than the busy timeout, which covers other processes.
  std::chrono::milliseconds queue_timeout{120'000};
  std::size_t max_sessions = 32;
  std::chrono::milliseconds acquire_timeout{5'000};
  // The event store's writer checkpoints the WAL after its own commits, every 16 MiB. While read
  // models are written and nothing is appended (a rebuild), nobody would, and the WAL would grow
  // without bound: so a session that commits once the WAL holds this many pages (4 KiB) more than
  // at its last checkpoint runs a passive one itself. 0: never.
  std::size_t checkpoint_pages = 16'384;
  // Each session's page cache, in KiB.
  std::size_t cache_kib = 65'536;
};

struct postgres_options {
  std::string url;
  std::string schema = "public";
  std::chrono::seconds connect_timeout{5};
  // Sessions are connections, which are expensive to open under load and limited by the server's
  // max_connections: the pool lends at most this many and keeps them open.
  std::size_t max_sessions = 32;
  std::chrono::milliseconds acquire_timeout{5'000};
};

// Both open a first session at once (kept in the pool), so a database that cannot be reached
// fails here with sql::error. A SQLite session runs in WAL mode with synchronous=NORMAL (read
// models are rebuilt from events, and a batch's checkpoint commits with its rows, so a lost
// transaction is replayed) and leaves checkpoints to the event store's writer. A PostgreSQL
// session has the schema on its search_path. A bad schema name throws std::invalid_argument.
std::unique_ptr<database> open_sqlite_database(sqlite_options options);
std::unique_ptr<database> open_postgres_database(postgres_options options);

// Helpers shared by both dialects.
// A double-quoted identifier; throws std::invalid_argument for names outside [a-z_][a-z0-9_]*
// or longer than 63 characters (PostgreSQL would silently truncate them).
std::string identifier(std::string_view name);
// The value of a boolean column: 0 or 1.
inline value boolean(bool b) {
  return std::int64_t{b ? 1 : 0};
}

}  // namespace realmkit::infra::sql
