#include "infra/sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <thread>

namespace realmkit::infra::sqlite {

bool error::transient() const {
  switch (code_) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

bool error::constraint_violation() const {
  return code_ == SQLITE_CONSTRAINT;
}

void connection_closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

void statement_finalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

query::~query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

query& query::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail(rc);
  return *this;
}

query& query::bind(int index, std::string_view value) {
  if (int rc =
          sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
      rc != SQLITE_OK) {
    fail(rc);
  }
  return *this;
}

query& query::bind_blob(int index, std::string_view bytes) {
  if (int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
      rc != SQLITE_OK) {
    fail(rc);
  }
  return *this;
}

query& query::bind_null(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail(rc);
  return *this;
}

bool query::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

void query::run() {
  while (step()) {
  }
}

column_type query::type(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER:
      return column_type::integer;
    case SQLITE_FLOAT:
      return column_type::real;
    case SQLITE_TEXT:
      return column_type::text;
    case SQLITE_BLOB:
      return column_type::blob;
    default:
      return column_type::null;
  }
}

std::int64_t query::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string_view query::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string_view query::blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

void query::fail(int rc) const {
  // sqlite3_step's own code is the primary one; the connection's message says which constraint.
  db_->fail(rc, name_);
}

connection::connection(const std::filesystem::path& path, mode m, const char* vfs) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (m == mode::read_write_create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  db_.reset(raw);  // sqlite3_open_v2 returns a handle to close even when it fails
  if (rc != SQLITE_OK) {
    if (!db_) throw error(rc, rc, "cannot open " + path.string() + ": out of memory");
    fail(rc, "open");
  }
  sqlite3_extended_result_codes(raw, 1);
}

connection::connection(connection&& other) noexcept
    : path_(std::move(other.path_)),
      db_(std::move(other.db_)),
      busy_timeout_(other.busy_timeout_),
      busy_since_(other.busy_since_),
      statements_(std::move(other.statements_)) {
  if (db_ && busy_timeout_.count() > 0) sqlite3_busy_handler(db_.get(), &connection::on_busy, this);
}

void connection::set_busy_timeout(std::chrono::milliseconds timeout) {
  busy_timeout_ = timeout;
  sqlite3_busy_handler(db_.get(), timeout.count() > 0 ? &connection::on_busy : nullptr, this);
}

int connection::on_busy(void* self, int attempt) {
  auto& c = *static_cast<connection*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (attempt == 0) c.busy_since_ = now;
  if (now - c.busy_since_ >= c.busy_timeout_) return 0;
  // 50 us doubling to 2 ms: a lock held for one commit is usually free again within that.
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::min(50 << std::min(attempt, 6), 2000)));
  return 1;
}

void connection::exec(std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec wants a terminated string
  if (int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    fail(rc, sql.substr(0, 60));
  }
}

query connection::prepare(std::string_view sql) {
  for (auto& [key, stmt] : statements_) {
    if (key == sql.data()) return query(*this, stmt.get(), sql);
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  statement_ptr stmt(raw);
  if (rc != SQLITE_OK) fail(rc, sql);
  statements_.emplace_back(sql.data(), std::move(stmt));
  return query(*this, raw, sql);
}

std::string connection::pragma_text(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  statement_ptr stmt(raw);
  if (rc != SQLITE_OK) fail(rc, sql);
  query q(*this, raw, sql);
  if (!q.step()) return {};
  return std::string(q.text(0));
}

std::int64_t connection::changes() const {
  return sqlite3_changes64(db_.get());
}

void connection::fail(int rc, std::string_view doing) const {
  int extended = db_ ? sqlite3_extended_errcode(db_.get()) : rc;
  std::string message = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  throw error(rc & 0xff, extended,
              "sqlite " + path_.string() + " (" + std::string(doing) + "): " + message);
}

transaction::transaction(connection& db, std::string_view begin) : db_(db) {
  db_.exec(begin);
}

transaction::~transaction() {
  if (!open_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const error&) {
    // The transaction is already gone (SQLite rolls back by itself on some I/O errors).
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace realmkit::infra::sqlite
