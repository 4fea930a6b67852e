// The read-model database on SQLite: sessions on the event store's file, statements prepared once
// per session and keyed by their text.
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "infra/sql/sql_detail.hpp"
#include "infra/sqlite/sqlite_connection.hpp"

namespace realmkit::infra::sql {
namespace {

// Lets the statement cache be searched with a string_view, without building a key string.
struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// Write transactions of one database's sessions take turns in arrival order. SQLite's own busy
// handler polls with growing sleeps, so under steady contention (every projection of a process
// committing batches) a writer can lose every race until its busy timeout expires; queueing here
// leaves the busy handler to arbitrate only with other processes.
class write_gate {
 public:
  // False when the turn did not come within `timeout`.
  bool enter(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto ticket = next_ticket_++;
    waiting_.push_back(ticket);
    const bool turn =
        changed_.wait_for(lock, timeout, [&] { return !held_ && waiting_.front() == ticket; });
    if (!turn) {
      std::erase(waiting_, ticket);
      changed_.notify_all();  // the front may have changed
      return false;
    }
    waiting_.pop_front();
    held_ = true;
    return true;
  }

  void leave() noexcept {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::uint64_t> waiting_;
  std::uint64_t next_ticket_ = 0;
  bool held_ = false;
};

class sqlite_session final : public detail::pooled_session {
 public:
  sqlite_session(const sqlite_options& options, std::shared_ptr<write_gate> gate)
      : db_(open(options)),
        gate_(std::move(gate)),
        queue_timeout_(options.queue_timeout),
        checkpoint_pages_(options.checkpoint_pages) {
    begin_ = prepare_raw("BEGIN IMMEDIATE");
    commit_ = prepare_raw("COMMIT");
    rollback_ = prepare_raw("ROLLBACK");
    next_checkpoint_at_ = checkpoint_pages_;
    if (checkpoint_pages_ > 0) {
      sqlite3_wal_hook(
          db_.handle(),
          [](void* self, sqlite3*, const char*, int pages) {
            static_cast<sqlite_session*>(self)->wal_pages_ = static_cast<std::size_t>(pages);
            return SQLITE_OK;
          },
          this);
    }
  }

  sql::dialect dialect() const override { return sql::dialect::sqlite; }

  void exec_script(std::string_view sql) override {
    guarded([&] {
      try {
        db_.exec(sql);
      } catch (const sqlite::error& e) {
        // exec names the script by its first 60 characters; name it as every other statement.
        throw sqlite::error(e.code(), e.extended_code(), detail::first_line(sql) + ": " + e.what());
      }
    });
  }

  std::vector<row> query(std::string_view sql, std::span<const value> params) override {
    std::vector<row> rows;
    auto& s = statement(sql);
    guarded([&] {
      detail::check_parameter_count(s.name, s.parameters, params.size());
      sqlite::query q(db_, s.stmt.get(), s.name);
      bind(q, s, params);
      while (q.step()) {
        // Counted per row: a statement re-prepared after a schema change (a view replaced by a
        // rebuild's switch) may have other columns than when it was cached.
        const int columns = sqlite3_data_count(s.stmt.get());
        std::vector<value> values;
        values.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) values.push_back(column(q, c));
        rows.emplace_back(std::move(values));
      }
    });
    return rows;
  }

  std::int64_t execute(std::string_view sql, std::span<const value> params) override {
    std::int64_t changed = 0;
    auto& s = statement(sql);
    guarded([&] {
      detail::check_parameter_count(s.name, s.parameters, params.size());
      // sqlite3_changes keeps the count of the last INSERT, UPDATE or DELETE, which may be an
      // earlier statement's: count only when this one changed something.
      const auto before = sqlite3_total_changes64(db_.handle());
      sqlite::query q(db_, s.stmt.get(), s.name);
      bind(q, s, params);
      q.run();
      if (sqlite3_total_changes64(db_.handle()) != before) changed = db_.changes();
    });
    return changed;
  }

  void execute_many(std::string_view sql, std::span<const std::vector<value>> rows) override {
    if (rows.empty()) return;
    const bool own = !in_transaction();
    if (own) begin();
    try {
      auto& s = statement(sql);
      guarded([&] {
        for (const auto& params : rows) {
          detail::check_parameter_count(s.name, s.parameters, params.size());
          sqlite::query q(db_, s.stmt.get(), s.name);
          bind(q, s, params);
          q.run();
        }
      });
      if (own) commit();
    } catch (...) {
      if (own) rollback();
      throw;
    }
  }

  ~sqlite_session() override {
    if (in_transaction()) rollback();
    release_gate();
  }
  sqlite_session(const sqlite_session&) = delete;
  sqlite_session& operator=(const sqlite_session&) = delete;

  void begin() override {
    if (in_transaction()) throw error("begin: a transaction is already open", false);
    failed_ = false;
    if (!holds_gate_) {
      if (!gate_->enter(queue_timeout_)) {
        throw error(
            "BEGIN IMMEDIATE: database is locked (this process's writers queued longer "
            "than the queue timeout)",
            true);
      }
      holds_gate_ = true;
    }
    try {
      guarded([&] { sqlite::query(db_, begin_.get(), "BEGIN IMMEDIATE").run(); });
    } catch (...) {
      release_gate();
      throw;
    }
  }

  void commit() override {
    if (!in_transaction()) throw error("commit: no transaction is open", false);
    if (failed_) {
      rollback();
      throw error("commit: a statement of the transaction failed, so it was rolled back", false);
    }
    // A failed COMMIT (SQLITE_BUSY on a shared lock, an I/O error) may leave the transaction
    // open; the caller's rollback (or the lease's discard) ends it.
    guarded([&] { sqlite::query(db_, commit_.get(), "COMMIT").run(); });
    release_gate();
  }

  void rollback() noexcept override {
    failed_ = false;
    if (in_transaction()) {
      // Fails only when SQLite already rolled back by itself, which is the outcome wanted.
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
    }
    release_gate();
  }

  bool in_transaction() const override { return sqlite3_get_autocommit(db_.handle()) == 0; }

  bool reusable() noexcept override { return !in_transaction(); }

 private:
  struct cached_statement {
    sqlite::statement_ptr stmt;
    std::size_t parameters = 0;
    std::string name;  // the first line, for errors
  };

  static sqlite::connection open(const sqlite_options& options) {
    try {
      sqlite::connection db(options.path, sqlite::connection::mode::read_write_create);
      db.set_busy_timeout(options.busy_timeout);
      // WAL so readers never block the store's writer nor each other.
      if (db.pragma_text("PRAGMA journal_mode = WAL") != "wal") {
        throw error("cannot put " + options.path.string() + " in WAL mode", false);
      }
      // The store's writer checkpoints between its batches, where it knows the WAL is synced.
      db.exec("PRAGMA wal_autocheckpoint = 0");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = OFF");
      // Projector sessions rewrite the same B-tree pages batch after batch; SQLite's 2 MiB
      // default evicts them between statements (measured: a rebuild spent most of its write
      // time in pread). Pages are allocated as used.
      db.exec("PRAGMA cache_size = -" + std::to_string(options.cache_kib));
      return db;
    } catch (const sqlite::error& e) {
      throw error(e.what(), e.transient());
    }
  }

  // The cached statement for this text, prepared on first use.
  cached_statement& statement(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    if (statements_.size() >= detail::kMaxCachedStatements) statements_.clear();
    const auto scanned = detail::scan_placeholders(sql, sql::dialect::sqlite);
    cached_statement s;
    s.parameters = scanned.parameters;
    s.name = detail::first_line(sql);
    const auto& text = scanned.sqlite_text;
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_.handle(), text.data(), static_cast<int>(text.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    s.stmt.reset(raw);
    if (rc != SQLITE_OK) {
      fail_in_transaction();
      throw error(s.name + ": " + sqlite3_errmsg(db_.handle()), false);
    }
    const std::string_view rest(tail, static_cast<std::size_t>(text.data() + text.size() - tail));
    if (raw == nullptr || rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      fail_in_transaction();
      throw error(s.name + ": expected exactly one statement (exec_script runs scripts)", false);
    }
    return statements_.emplace(std::string(sql), std::move(s)).first->second;
  }

  sqlite::statement_ptr prepare_raw(std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.handle(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    sqlite::statement_ptr stmt(raw);
    if (rc != SQLITE_OK) throw error(std::string(sql) + ": " + sqlite3_errmsg(db_.handle()), false);
    return stmt;
  }

  static void bind(sqlite::query& q, const cached_statement& statement,
                   std::span<const value> params) {
    int index = 1;
    for (const auto& p : params) {
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        q.bind(index, *n);
      } else if (const auto* s = std::get_if<std::string>(&p)) {
        detail::check_text(statement.name, *s);
        q.bind(index, std::string_view(*s));
      } else {
        q.bind_null(index);
      }
      ++index;
    }
  }

  static value column(const sqlite::query& q, int c) {
    switch (q.type(c)) {
      case sqlite::column_type::integer:
        return q.integer(c);
      case sqlite::column_type::null:
        return std::monostate{};
      default:  // text, and real and blob as their text
        return std::string(q.text(c));
    }
  }

  // Runs f, translating SQLite's errors; a failure inside a transaction leaves it only to roll
  // back.
  template <class F>
  void guarded(F&& f) {
    try {
      f();
      maybe_checkpoint();
    } catch (const sqlite::error& e) {
      fail_in_transaction();
      throw error(e.what(), e.transient());
    } catch (const error&) {
      fail_in_transaction();
      throw;
    }
  }

  // A passive checkpoint once the WAL has grown by checkpoint_pages_ since the last one (see
  // sqlite_options). It runs outside any transaction, syncs the WAL before copying it (this
  // connection's synchronous=NORMAL syncs checkpoints), and never waits for readers or writers.
  void maybe_checkpoint() noexcept {
    if (checkpoint_pages_ == 0 || in_transaction()) return;
    if (wal_pages_ < next_checkpoint_at_) {
      if (wal_pages_ < last_wal_pages_) next_checkpoint_at_ = checkpoint_pages_;  // restarted
      last_wal_pages_ = wal_pages_;
      return;
    }
    last_wal_pages_ = wal_pages_;
    next_checkpoint_at_ = wal_pages_ + checkpoint_pages_;
    // A failure (another checkpoint running, an I/O error) leaves the WAL longer for a while; the
    // next commit past the threshold tries again.
    sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  void fail_in_transaction() {
    if (in_transaction()) failed_ = true;
  }

  void release_gate() noexcept {
    if (!holds_gate_ || in_transaction()) return;
    holds_gate_ = false;
    gate_->leave();
  }

  sqlite::connection db_;
  std::shared_ptr<write_gate> gate_;
  bool holds_gate_ = false;  // from begin until the transaction ends
  const std::chrono::milliseconds queue_timeout_;
  sqlite::statement_ptr begin_;
  sqlite::statement_ptr commit_;
  sqlite::statement_ptr rollback_;
  std::unordered_map<std::string, cached_statement, text_hash, std::equal_to<>> statements_;
  bool failed_ = false;  // a statement failed in the open transaction
  const std::size_t checkpoint_pages_;
  std::size_t wal_pages_ = 0;  // the WAL's length after this session's last commit
  std::size_t last_wal_pages_ = 0;
  std::size_t next_checkpoint_at_ = 0;
};

class sqlite_database final : public detail::pooled_database {
 public:
  explicit sqlite_database(sqlite_options options)
      : pooled_database(options.max_sessions, options.acquire_timeout), options_(std::move(options)) {}

  sql::dialect dialect() const override { return sql::dialect::sqlite; }

  std::unique_ptr<session> open_session() override {
    return std::make_unique<sqlite_session>(options_, gate_);
  }

 private:
  const sqlite_options options_;
  const std::shared_ptr<write_gate> gate_ = std::make_shared<write_gate>();
};

}  // namespace

std::unique_ptr<database> open_sqlite_database(sqlite_options options) {
  auto db = std::make_unique<sqlite_database>(std::move(options));
  db->acquire();  // fails now if the file cannot be opened; the session stays in the pool
  return db;
}

}  // namespace realmkit::infra::sql
