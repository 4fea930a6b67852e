// A thin RAII layer over the SQLite C API: connections and prepared statements live in unique_ptr
// with deleters, statements are prepared once per connection and reset when a query goes out of
// scope, so no statement keeps a read transaction open by accident.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace realmkit::infra::sqlite {

// A failed SQLite call. The store translates it to store_unavailable or store_error at its edge.
class error : public std::runtime_error {
 public:
  error(int code, int extended_code, const std::string& what)
      : std::runtime_error(what), code_(code), extended_code_(extended_code) {}
  int code() const { return code_; }  // primary result code, e.g. SQLITE_BUSY
  int extended_code() const { return extended_code_; }
  // Busy, locked, I/O, disk full, out of memory: the operation may succeed if retried later.
  bool transient() const;
  bool constraint_violation() const;

 private:
  int code_;
  int extended_code_;
};

struct connection_closer {
  void operator()(sqlite3* db) const noexcept;
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept;
};
using connection_ptr = std::unique_ptr<sqlite3, connection_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// The SQLite storage class of a column value.
enum class column_type { integer, real, text, blob, null };

class connection;

// One execution of a prepared statement: bind, step, read columns. Resets the statement and clears
// its bindings when destroyed, which ends the statement's implicit read transaction.
class query {
 public:
  query(connection& db, sqlite3_stmt* stmt, std::string_view name) noexcept
      : db_(&db), stmt_(stmt), name_(name) {}
  query(const query&) = delete;
  query& operator=(const query&) = delete;
  ~query();

  query& bind(int index, std::int64_t value);
  query& bind(int index, std::string_view value);  // bound without copying: keep it alive
  query& bind_null(int index);
  query& bind_blob(int index, std::string_view bytes);  // bound without copying: keep it alive

  // Runs to the next row: true when a row is available, false when the statement is done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  column_type type(int column) const;
  std::int64_t integer(int column) const;
  std::string_view text(int column) const;  // valid until the next step
  std::string_view blob(int column) const;  // valid until the next step

 private:
  [[noreturn]] void fail(int rc) const;

  connection* db_;
  sqlite3_stmt* stmt_;
  std::string_view name_;
};

// An open database connection. Not thread safe: one thread uses it at a time.
class connection {
 public:
  enum class mode { read_write_create, read_write };

  // `vfs`: the name of a registered SQLite VFS, or nullptr for the default one.
  connection(const std::filesystem::path& path, mode m, const char* vfs = nullptr);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  // The busy handler points at the connection object, so a move points it at the new one.
  connection(connection&& other) noexcept;
  connection& operator=(connection&&) = delete;

  // How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
  // Unlike SQLite's own handler, which backs off to 100 ms sleeps, this one retries within a few
  // milliseconds, so writers in several processes take turns instead of starving each other.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  // Runs one or more statements with no parameters and no result rows.
  void exec(std::string_view sql);
  // A query on a statement prepared once per connection. `sql` must outlive the connection (use
  // the named constants); it doubles as the statement's name in error messages.
  query prepare(std::string_view sql);
  // The first column of the first row of a parameterless query, as text ("" when no row).
  std::string pragma_text(std::string_view sql);
  std::int64_t changes() const;

  sqlite3* handle() const { return db_.get(); }
  const std::filesystem::path& path() const { return path_; }
  [[noreturn]] void fail(int rc, std::string_view doing) const;

 private:
  std::filesystem::path path_;
  connection_ptr db_;
  static int on_busy(void* self, int attempt);
  std::chrono::milliseconds busy_timeout_{0};
  std::chrono::steady_clock::time_point busy_since_;
  // Prepared statements keyed by the address of their SQL text: the named constants are unique.
  std::vector<std::pair<const char*, statement_ptr>> statements_;
};

// A transaction on a connection that rolls back unless committed: an exception between begin and
// commit leaves the database unchanged.
class transaction {
 public:
  // `begin` is e.g. "BEGIN IMMEDIATE" to take the write lock up front.
  transaction(connection& db, std::string_view begin);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  connection& db_;
  bool open_ = true;
};

}  // namespace realmkit::infra::sqlite
