#include "infra/sqlite/sqlite_event_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>

#include "infra/migrations.hpp"
#include "infra/sqlite/sqlite_append_writer.hpp"
#include "infra/sqlite/sqlite_connection.hpp"
#include "infra/sqlite/sqlite_event_rows.hpp"
#include "infra/sqlite/sqlite_migrations.hpp"
#include "infra/sqlite/sqlite_wal_vfs.hpp"

namespace realmkit::infra {
namespace {

// migrations/sqlite/0004_event_chain.sql: events carry their hash-chain link from here on.
constexpr int kEventChainMigration = 4;

using sqlite::connection;

// Named statements: they are prepared once per connection and name the query in errors.
constexpr std::string_view kReadStream = "SELECT " REALMKIT_SQLITE_EVENT_COLUMNS
                                         " FROM events WHERE stream_id = ?1 AND stream_version >= "
                                         "?2 ORDER BY stream_version LIMIT ?3";
constexpr std::string_view kReadAll = "SELECT " REALMKIT_SQLITE_EVENT_COLUMNS
                                      " FROM events WHERE global_position > ?1 "
                                      "AND global_position <= ?3 "
                                      "ORDER BY global_position LIMIT ?2";

[[noreturn]] void rethrow_as_store_error(const sqlite::error& e) {
  if (e.transient()) throw store_unavailable(e.what());
  throw store_error(e.what());
}

// Runs a database operation, translating SQLite's errors to the store's at the interface edge.
template <class F>
auto translated(F&& f) {
  try {
    return f();
  } catch (const sqlite::error& e) {
    rethrow_as_store_error(e);
  }
}

std::int64_t clamp_limit(std::size_t max) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(max, std::numeric_limits<std::int64_t>::max()));
}

void configure(connection& db, const sqlite_store_options& options) {
  db.set_busy_timeout(options.busy_timeout);
  db.exec("PRAGMA foreign_keys = ON");
}

// Switching a new file to WAL needs it to this connection alone. When another process opens the
// same new file at the same moment, SQLite answers SQLITE_BUSY at once, without the busy handler
// (waiting could deadlock two lock upgrades), so the switch is retried until the busy timeout.
void switch_to_wal(connection& db, const sqlite_store_options& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
  for (;;) {
    try {
      if (db.pragma_text("PRAGMA journal_mode = WAL") != "wal") {
        throw store_error("cannot put " + options.path.string() + " in WAL mode");
      }
      return;
    } catch (const sqlite::error& e) {
      if (e.code() != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

class sqlite_event_store::impl {
 public:
  explicit impl(sqlite_store_options options) : options_(std::move(options)) {
    if (options_.path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(options_.path.parent_path(), ec);
      if (ec) {
        throw store_unavailable("cannot create " + options_.path.parent_path().string() + ": " +
                                ec.message());
      }
    }
    translated([&] {
      const bool full = options_.durability == sqlite_durability::full;
      // Coalescing the WAL's writes is safe only when every commit syncs (see sqlite_wal_vfs.hpp).
      auto db = std::make_unique<connection>(options_.path, connection::mode::read_write_create,
                                             full ? sqlite::coalescing_wal_vfs() : nullptr);
      configure(*db, options_);
      db->exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
      // WAL: readers never block the writer nor each other, and a commit is one sequential write.
      switch_to_wal(*db, options_);
      // The writer's indexes (stream ids are random) stay hot in a larger page cache.
      db->exec("PRAGMA cache_size = -32768");
      // Each checkpoint costs the writer two fsyncs; a 16 MiB WAL makes them rarer under load.
      // (With durability full the writer runs them itself: see append_writer.)
      db->exec("PRAGMA wal_autocheckpoint = 4096");
      const auto known = migrations_for(backend::sqlite);
      if (options_.migrate_on_open) {
        sqlite::apply_migrations(*db, known);
      } else {
        sqlite::check_schema_known(*db, known);
      }
      // Not migrated yet (migrate_on_open off): no events table, nothing to show.
      const auto schema = sqlite::applied_schema_version(*db);
      if (schema >= kEventChainMigration) sqlite::fill_event_chain(*db);
      const auto head = schema > 0 ? sqlite::read_head(*db) : 0;
      writer_ = std::make_unique<sqlite::append_writer>(
          std::move(db), options_, [this](std::int64_t h) { on_commit(h); },
          [this](std::int64_t h) { on_durable(h); });
      // Commits another process made and had not yet fsynced when it stopped are made durable
      // now, so the log shows everything in the file.
      writer_->sync_now();
      on_commit(head);
      on_durable(head);
      return 0;
    });
  }

  int migrate() {
    return translated([&] {
      connection db(options_.path, connection::mode::read_write_create);
      configure(db, options_);
      const int applied = sqlite::apply_migrations(db, migrations_for(backend::sqlite));
      if (sqlite::applied_schema_version(db) >= kEventChainMigration) {
        sqlite::fill_event_chain(db);
      }
      return applied;
    });
  }

  int schema_version() {
    return translated([&] {
      auto reader = lease_reader();
      return sqlite::applied_schema_version(*reader);
    });
  }

  const std::filesystem::path& path() const { return options_.path; }
  sqlite_store_stats stats() const { return writer_->stats(); }

  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) {
    validate_writes(writes);
    return writer_->append(writes, key);
  }

  std::optional<append_result> find_idempotent(const idempotency_key& key) {
    return translated([&]() -> std::optional<append_result> {
      auto reader = lease_reader();
      return sqlite::find_append_result(*reader, key);
    });
  }

  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from_version,
                                          std::size_t max) {
    return translated([&] {
      std::vector<recorded_event> events;
      if (max == 0) return events;
      auto reader = lease_reader();
      auto q = reader->prepare(kReadStream);
      q.bind(1, stream_id)
          .bind(2, std::max<std::int64_t>(from_version, 1))
          .bind(3, clamp_limit(max));
      decode_rows(q, events);
      return events;
    });
  }

  std::int64_t stream_version(std::string_view stream_id) {
    return translated([&] {
      auto reader = lease_reader();
      return sqlite::read_stream_version(*reader, stream_id);
    });
  }

  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) {
    return translated([&] {
      std::vector<recorded_event> events;
      if (max == 0) return events;
      auto reader = lease_reader();
      const auto durable = visible_head(*reader);
      auto q = reader->prepare(kReadAll);
      q.bind(1, after_position).bind(2, clamp_limit(max)).bind(3, durable);
      events.reserve(std::min<std::size_t>(max, 4096));
      decode_rows(q, events);
      return events;
    });
  }

  std::int64_t head_position() {
    return translated([&] {
      auto reader = lease_reader();
      return visible_head(*reader);
    });
  }

  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(head_mutex_);
    for (;;) {
      if (durable_head_ > position) return;
      // Other processes' appends are only seen by looking at the file.
      lock.unlock();
      const bool moved = head_position() > position;
      lock.lock();
      if (moved) return;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return;
      head_cv_.wait_until(lock, std::min(deadline, now + options_.poll_interval),
                          [&] { return durable_head_ > position; });
    }
  }

 private:
  void on_commit(std::int64_t head) {
    std::lock_guard lock(head_mutex_);
    committed_head_ = std::max(committed_head_, head);
  }

  void on_durable(std::int64_t head) {
    {
      std::lock_guard lock(head_mutex_);
      durable_head_ = std::max(durable_head_, head);
    }
    head_cv_.notify_all();
  }

  // The head readers of the log may see: the head in the file, held back to what is durable.
  // Commits of this process above the durable head wait for its flusher; commits beyond
  // anything this process wrote are another process's, which this one cannot tell apart from
  // ones not yet fsynced, so it fsyncs the WAL itself.
  std::int64_t visible_head(connection& reader) {
    const auto head = sqlite::read_head(reader);
    {
      std::lock_guard lock(head_mutex_);
      if (head <= durable_head_) return head;
      if (head <= committed_head_) return durable_head_;
    }
    writer_->sync_now();
    on_durable(head);
    return head;
  }

  // A reader connection borrowed from the pool and given back when the lease ends.
  class reader_lease {
   public:
    reader_lease(impl& owner, std::unique_ptr<connection> db) : owner_(owner), db_(std::move(db)) {}
    reader_lease(const reader_lease&) = delete;
    reader_lease& operator=(const reader_lease&) = delete;
    ~reader_lease() { owner_.return_reader(std::move(db_)); }
    connection& operator*() { return *db_; }
    connection* operator->() { return db_.get(); }

   private:
    impl& owner_;
    std::unique_ptr<connection> db_;
  };

  reader_lease lease_reader() {
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        auto db = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return reader_lease(*this, std::move(db));
      }
    }
    auto db = std::make_unique<connection>(options_.path, connection::mode::read_write);
    configure(*db, options_);
    db->exec("PRAGMA query_only = ON");
    return reader_lease(*this, std::move(db));
  }

  void return_reader(std::unique_ptr<connection> db) {
    std::lock_guard lock(readers_mutex_);
    if (idle_readers_.size() < options_.max_idle_readers) idle_readers_.push_back(std::move(db));
  }

  // Decodes every row; at a corrupt row, hands back the events before it (the caller's next read
  // starts at the corrupt row and fails there), or throws when it is the first.
  static void decode_rows(sqlite::query& q, std::vector<recorded_event>& events) {
    while (q.step()) {
      try {
        events.push_back(sqlite::decode_event(q));
      } catch (const corrupt_event&) {
        if (events.empty()) throw;
        return;
      }
    }
  }

  const sqlite_store_options options_;

  std::mutex readers_mutex_;  // guards idle_readers_
  std::vector<std::unique_ptr<connection>> idle_readers_;

  std::mutex head_mutex_;  // guards the heads, so wait_for_append cannot miss a wake-up
  std::condition_variable head_cv_;
  std::int64_t committed_head_ = 0;  // the highest position this process has committed
  std::int64_t durable_head_ = 0;    // every position up to here is fsynced

  // Last: destroyed first, so its thread (which calls on_commit) stops before the rest goes.
  std::unique_ptr<sqlite::append_writer> writer_;
};

sqlite_event_store::sqlite_event_store(sqlite_store_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
sqlite_event_store::~sqlite_event_store() = default;

int sqlite_event_store::migrate() {
  return impl_->migrate();
}
int sqlite_event_store::schema_version() {
  return impl_->schema_version();
}
sqlite_store_stats sqlite_event_store::stats() const {
  return impl_->stats();
}
const std::filesystem::path& sqlite_event_store::path() const {
  return impl_->path();
}

append_result sqlite_event_store::append(std::span<const stream_write> writes,
                                         const std::optional<idempotency_key>& key) {
  return impl_->append(writes, key);
}
std::optional<append_result> sqlite_event_store::find_idempotent(const idempotency_key& key) {
  return impl_->find_idempotent(key);
}
std::vector<recorded_event> sqlite_event_store::read_stream(std::string_view stream_id,
                                                            std::int64_t from_version,
                                                            std::size_t max) {
  return impl_->read_stream(stream_id, from_version, max);
}
std::int64_t sqlite_event_store::stream_version(std::string_view stream_id) {
  return impl_->stream_version(stream_id);
}
std::vector<recorded_event> sqlite_event_store::read_all(std::int64_t after_position,
                                                         std::size_t max) {
  return impl_->read_all(after_position, max);
}
std::int64_t sqlite_event_store::head_position() {
  return impl_->head_position();
}
void sqlite_event_store::wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) {
  impl_->wait_for_append(position, timeout);
}

}  // namespace realmkit::infra
