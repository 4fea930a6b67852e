#include "infra/sqlite/sqlite_event_store.hpp"

#include <pthread.h>
#include <semaphore.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>

#include "infra/migrations.hpp"
#include "infra/sqlite/sqlite_connection.hpp"
#include "infra/sqlite/sqlite_event_rows.hpp"
#include "infra/sqlite/sqlite_migrations.hpp"
#include "infra/sqlite/sqlite_wal_vfs.hpp"

namespace realmkit::infra {
namespace {

using sqlite::connection;

// Named statements: they are prepared once per connection and name the query in errors.
constexpr std::string_view kBegin = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kSavepoint = "SAVEPOINT append";
constexpr std::string_view kRelease = "RELEASE append";
constexpr std::string_view kRollbackToSavepoint = "ROLLBACK TO append";
// ORDER BY ... DESC LIMIT 1 walks the rowid b-tree from its end; max() wrapped in coalesce would
// scan.
constexpr std::string_view kSelectHead =
    "SELECT global_position FROM events ORDER BY global_position DESC LIMIT 1";
constexpr std::string_view kSelectStreamVersion =
    "SELECT version FROM streams WHERE stream_id = ?1";
constexpr std::string_view kSelectEventById =
    "SELECT stream_id, stream_version, global_position FROM events WHERE event_id = ?1";
constexpr std::string_view kInsertEvent =
    "INSERT INTO events (global_position, event_id, stream_id, stream_version, type, "
    "schema_version, recorded_at, data, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr std::string_view kUpsertStream =
    "INSERT INTO streams (stream_id, version) VALUES (?1, ?2) "
    "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version";
constexpr std::string_view kSelectIdempotencyKey =
    "SELECT fingerprint, result FROM idempotency_keys WHERE actor = ?1 AND key = ?2";
constexpr std::string_view kInsertIdempotencyKey =
    "INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr std::string_view kReadStream = "SELECT " REALMKIT_SQLITE_EVENT_COLUMNS
                                         " FROM events WHERE stream_id = ?1 AND stream_version >= "
                                         "?2 ORDER BY stream_version LIMIT ?3";
constexpr std::string_view kReadAll = "SELECT " REALMKIT_SQLITE_EVENT_COLUMNS
                                      " FROM events WHERE global_position > ?1 "
                                      "ORDER BY global_position LIMIT ?2";

// A POSIX semaphore used as a one-shot wake-up. Unlike std::binary_semaphore (which spins with
// sched_yield before sleeping, starving the writer when dozens of callers wait) it sleeps at once,
// and it may be destroyed as soon as wait() returns, while post() may still be finishing.
class wake_signal {
 public:
  wake_signal() { ::sem_init(&sem_, 0, 0); }
  ~wake_signal() { ::sem_destroy(&sem_); }
  wake_signal(const wake_signal&) = delete;
  wake_signal& operator=(const wake_signal&) = delete;
  void post() { ::sem_post(&sem_); }
  void wait() {
    while (::sem_wait(&sem_) != 0 && errno == EINTR) {
    }
  }

 private:
  sem_t sem_;
};

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

std::string event_field(std::size_t write, std::size_t event) {
  return "streams/" + std::to_string(write) + ".events/" + std::to_string(event) + ".event_id";
}

void configure(connection& db, const sqlite_store_options& options) {
  db.set_busy_timeout(options.busy_timeout);
  db.exec("PRAGMA foreign_keys = ON");
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
      writer_db_ = std::make_unique<connection>(options_.path, connection::mode::read_write_create,
                                                full ? sqlite::coalescing_wal_vfs() : nullptr);
      configure(*writer_db_, options_);
      writer_db_->exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
      // WAL: readers never block the writer nor each other, and a commit is one sequential write.
      if (writer_db_->pragma_text("PRAGMA journal_mode = WAL") != "wal") {
        throw store_error("cannot put " + options_.path.string() + " in WAL mode");
      }
      // The writer's indexes (stream ids are random) stay hot in a larger page cache.
      writer_db_->exec("PRAGMA cache_size = -32768");
      // Each checkpoint costs the writer two fsyncs; a 16 MiB WAL makes them rarer under load.
      writer_db_->exec("PRAGMA wal_autocheckpoint = 4096");
      const auto known = migrations_for(backend::sqlite);
      if (options_.migrate_on_open) {
        sqlite::apply_migrations(*writer_db_, known);
      } else {
        sqlite::check_schema_known(*writer_db_, known);
      }
      return 0;
    });
    writer_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "sqlite-writer");  // for top -H and profilers
      run_writer();
    });
  }

  ~impl() {
    stopping_ = true;
    writer_wake_.post();
    writer_.join();
  }

  int migrate() {
    return translated([&] {
      connection db(options_.path, connection::mode::read_write_create);
      configure(db, options_);
      return sqlite::apply_migrations(db, migrations_for(backend::sqlite));
    });
  }

  int schema_version() {
    return translated([&] {
      auto reader = lease_reader();
      return sqlite::applied_schema_version(*reader);
    });
  }

  const std::filesystem::path& path() const { return options_.path; }

  sqlite_store_stats stats() const {
    sqlite_store_stats s;
    s.commits = commits_.load(std::memory_order_relaxed);
    s.appends = appends_.load(std::memory_order_relaxed);
    s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
    std::lock_guard lock(head_mutex_);
    s.events = events_;
    return s;
  }

  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) {
    validate_writes(writes);
    if (stopping_) throw store_unavailable("the event store is closing");
    pending_append request{writes, key};
    auto* head = incoming_.load(std::memory_order_relaxed);
    do {
      request.next = head;
    } while (!incoming_.compare_exchange_weak(head, &request, std::memory_order_release,
                                              std::memory_order_relaxed));
    // Only the push onto an empty stack wakes the writer: otherwise it has work it has not taken.
    if (head == nullptr) writer_wake_.post();
    request.done.wait();
    // The two callers this one must wake are still blocked, so they still exist.
    for (auto* next : request.wake_next) {
      if (next != nullptr) next->done.post();
    }
    if (request.error) std::rethrow_exception(request.error);
    return std::move(request.result);
  }

  std::optional<append_result> find_idempotent(const idempotency_key& key) {
    return translated([&]() -> std::optional<append_result> {
      auto reader = lease_reader();
      return stored_result(*reader, key);
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
      return current_version(*reader, stream_id);
    });
  }

  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) {
    return translated([&] {
      std::vector<recorded_event> events;
      if (max == 0) return events;
      auto reader = lease_reader();
      auto q = reader->prepare(kReadAll);
      q.bind(1, after_position).bind(2, clamp_limit(max));
      events.reserve(std::min<std::size_t>(max, 4096));
      decode_rows(q, events);
      return events;
    });
  }

  std::int64_t head_position() {
    return translated([&] {
      auto reader = lease_reader();
      return read_head(*reader);
    });
  }

  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(head_mutex_);
    for (;;) {
      if (committed_head_ > position) return;
      // Other processes' appends are only seen by looking at the file.
      lock.unlock();
      const bool moved = head_position() > position;
      lock.lock();
      if (moved) return;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return;
      head_cv_.wait_until(lock, std::min(deadline, now + options_.poll_interval),
                          [&] { return committed_head_ > position; });
    }
  }

 private:
  // One append() call waiting for the writer thread. It lives on the caller's stack: the caller
  // blocks until `done` is released, so the writer may use every field until then.
  struct pending_append {
    std::span<const stream_write> writes;
    const std::optional<idempotency_key>& key;
    append_result result;
    std::exception_ptr error;
    pending_append* next = nullptr;  // the link in incoming_
    wake_signal done;
    std::array<pending_append*, 2> wake_next{};  // set by the writer before `done` is posted
  };

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

  timestamp now() const {
    if (options_.clock) return options_.clock();
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
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

  static std::int64_t read_head(connection& db) {
    auto q = db.prepare(kSelectHead);
    return q.step() ? q.integer(0) : 0;
  }

  static std::int64_t current_version(connection& db, std::string_view stream_id) {
    auto q = db.prepare(kSelectStreamVersion);
    q.bind(1, stream_id);
    return q.step() ? q.integer(0) : 0;
  }

  static std::optional<append_result> stored_result(connection& db, const idempotency_key& key) {
    auto q = db.prepare(kSelectIdempotencyKey);
    q.bind(1, key.actor).bind(2, key.key);
    if (!q.step()) return std::nullopt;
    if (q.text(0) != key.fingerprint) {
      throw idempotency_key_reused("idempotency key " + key.key + " of " + key.actor +
                                   " was used for a different request");
    }
    auto result = sqlite::decode_append_result(q.text(1));
    result.replayed = true;
    return result;
  }

  static std::size_t event_count(const pending_append& request) {
    std::size_t n = 0;
    for (const auto& w : request.writes) n += w.events.size();
    return n;
  }

  // The writer thread: takes whatever appends are queued (up to a batch) and commits them in one
  // transaction, so concurrent appends share one fsync.
  void run_writer() {
    std::deque<pending_append*> pending;  // taken from incoming_, oldest first
    std::vector<pending_append*> taken;
    std::vector<pending_append*> batch;
    const auto max_appends = std::max<std::size_t>(options_.max_batch_appends, 1);
    const auto max_events = options_.max_batch_events;
    for (;;) {
      // The stack holds the newest first; reversing it keeps appends in arrival order.
      taken.clear();
      for (auto* r = incoming_.exchange(nullptr, std::memory_order_acquire); r != nullptr;
           r = r->next) {
        taken.push_back(r);
      }
      pending.insert(pending.end(), taken.rbegin(), taken.rend());
      if (pending.empty()) {
        if (stopping_) return;  // every append pushed before the stop is answered
        writer_wake_.wait();
        continue;
      }
      // At least one append, then as many as fit the limits.
      batch.clear();
      std::size_t events = 0;
      while (!pending.empty() && batch.size() < max_appends &&
             (batch.empty() || events + event_count(*pending.front()) <= max_events)) {
        events += event_count(*pending.front());
        batch.push_back(pending.front());
        pending.pop_front();
      }
      commit_batch(batch);
    }
  }

  void commit_batch(const std::vector<pending_append*>& batch) {
    auto& db = *writer_db_;
    std::int64_t head = 0;
    std::int64_t first_head = 0;
    bool in_transaction = false;
    try {
      db.prepare(kBegin).run();
      in_transaction = true;
      // Under the write lock no other process can append, so max + 1 is the next position and
      // positions follow commit order.
      head = read_head(db);
      first_head = head;
      for (auto* request : batch) {
        try {
          request->result = apply(*request, head);
        } catch (const store_error&) {
          // A refusal of this append alone; apply() has undone its writes.
          request->error = std::current_exception();
        }
      }
      db.prepare(kCommit).run();
      in_transaction = false;
    } catch (...) {
      const auto failure = std::current_exception();
      failed_batches_.fetch_add(1, std::memory_order_relaxed);
      if (in_transaction) {
        try {
          db.prepare(kRollback).run();
        } catch (const sqlite::error&) {
          // SQLite already rolled back (it does on some I/O errors).
        }
      }
      for (auto* request : batch) {
        request->result = {};
        try {
          std::rethrow_exception(failure);
        } catch (const sqlite::error& e) {
          request->error = e.transient() ? std::make_exception_ptr(store_unavailable(e.what()))
                                         : std::make_exception_ptr(store_error(e.what()));
        } catch (const std::exception& e) {
          request->error =
              std::make_exception_ptr(store_unavailable(std::string("append failed: ") + e.what()));
        } catch (...) {
          request->error = std::make_exception_ptr(store_unavailable("append failed"));
        }
      }
      wake(batch);
      return;
    }
    {
      std::lock_guard lock(head_mutex_);
      events_ += static_cast<std::uint64_t>(std::max<std::int64_t>(head - first_head, 0));
      committed_head_ = std::max(committed_head_, head);
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    appends_.fetch_add(batch.size(), std::memory_order_relaxed);
    head_cv_.notify_all();
    wake(batch);
  }

  // Wakes the batch's callers as a binary tree: the writer wakes the first, and each caller wakes
  // two more before returning. Waking dozens of threads is a quarter of the writer's time
  // otherwise, and the writer is the one thread every append waits for.
  static void wake(const std::vector<pending_append*>& batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      for (std::size_t c = 0; c < 2; ++c) {
        const auto child = 2 * i + 1 + c;
        batch[i]->wake_next[c] = child < batch.size() ? batch[child] : nullptr;
      }
    }
    if (!batch.empty()) batch.front()->done.post();
  }

  // One append inside the batch transaction, all or nothing: a refusal throws a store_error and
  // leaves the database and `head` as they were, so the other appends of the batch go on.
  append_result apply(const pending_append& request, std::int64_t& head) {
    auto& db = *writer_db_;
    if (request.key) {
      if (auto stored = stored_result(db, *request.key)) return *stored;
    }
    const auto& writes = request.writes;
    std::vector<std::int64_t> versions(writes.size());
    for (std::size_t w = 0; w < writes.size(); ++w) {
      versions[w] = current_version(db, writes[w].stream_id);
      const auto& expected = writes[w].expected;
      if (expected && *expected != versions[w]) {
        // A retry of an append that did commit finds the stream moved on by its own events.
        if (auto replay = replay_by_event_ids(request)) return *replay;
        throw wrong_expected_version(writes[w].stream_id, expected, versions[w]);
      }
    }

    const auto head_before = head;
    // A failed statement undoes itself, so an append whose only fallible statement is its one
    // event insert needs no savepoint: the common case, spared two statements and a page copy.
    const bool single_insert = writes.size() == 1 && writes[0].events.size() == 1 && !request.key;
    if (!single_insert) db.prepare(kSavepoint).run();
    int statements_done = 0;
    try {
      auto result = insert(request, versions, head, statements_done);
      if (!single_insert) db.prepare(kRelease).run();
      return result;
    } catch (const sqlite::error& e) {
      // Without a savepoint, a failure after the event insert cannot be undone for this append
      // alone: the whole batch rolls back.
      if (single_insert && statements_done > 0) throw;
      head = head_before;
      if (!single_insert) {
        db.prepare(kRollbackToSavepoint).run();
        db.prepare(kRelease).run();
      }
      if (!e.constraint_violation()) throw;
      // A unique event id taken: a retry, or an id reused elsewhere.
      if (auto replay = replay_by_event_ids(request)) return *replay;
      // Any other constraint means the streams table disagrees with the events: refuse this
      // append alone.
      throw store_error(e.what());
    }
  }

  // Counts the statements that succeeded in `done`, so a failure can tell how far it got.
  append_result insert(const pending_append& request, std::vector<std::int64_t>& versions,
                       std::int64_t& head, int& done) {
    auto& db = *writer_db_;
    const auto recorded_at = now().time_since_epoch().count();
    append_result result;
    result.streams.reserve(request.writes.size());
    for (std::size_t w = 0; w < request.writes.size(); ++w) {
      const auto& write = request.writes[w];
      auto& version = versions[w];
      for (const auto& e : write.events) {
        ++version;
        ++head;
        auto q = db.prepare(kInsertEvent);
        q.bind(1, head)
            .bind(2, e.event_id)
            .bind(3, write.stream_id)
            .bind(4, version)
            .bind(5, e.type)
            .bind(6, std::int64_t{e.schema_version})
            .bind(7, recorded_at)
            .bind(8, e.data)
            .bind(9, e.metadata)
            .run();
        ++done;
      }
      db.prepare(kUpsertStream).bind(1, write.stream_id).bind(2, version).run();
      ++done;
      result.streams.push_back({write.stream_id, version, head});
    }
    result.position = head;
    if (request.key) {
      const auto encoded = sqlite::encode_append_result(result);
      db.prepare(kInsertIdempotencyKey)
          .bind(1, request.key->actor)
          .bind(2, request.key->key)
          .bind(3, request.key->fingerprint)
          .bind(4, encoded)
          .bind(5, recorded_at)
          .run();
    }
    return result;
  }

  // When the append's event ids are already stored, each write's ids in its own stream at
  // consecutive versions, the append is a retry: the original result, replayed. nullopt when none
  // of the ids is stored. Throws invalid_append, naming the event, for a partial overlap or an id
  // stored in another stream.
  std::optional<append_result> replay_by_event_ids(const pending_append& request) {
    struct stored_event {
      bool found = false;
      std::string stream_id;
      std::int64_t version = 0;
      std::int64_t position = 0;
    };
    const auto& writes = request.writes;
    std::vector<std::vector<stored_event>> stored(writes.size());
    bool any = false;
    for (std::size_t w = 0; w < writes.size(); ++w) {
      for (const auto& e : writes[w].events) {
        auto q = writer_db_->prepare(kSelectEventById);
        q.bind(1, e.event_id);
        auto& s = stored[w].emplace_back();
        if (q.step()) {
          s = {true, std::string(q.text(0)), q.integer(1), q.integer(2)};
          any = true;
        }
      }
    }
    if (!any) return std::nullopt;
    // An id taken by another stream is the more telling error, so it is reported first.
    for (std::size_t w = 0; w < writes.size(); ++w) {
      for (std::size_t i = 0; i < stored[w].size(); ++i) {
        const auto& s = stored[w][i];
        if (s.found && s.stream_id != writes[w].stream_id) {
          throw invalid_append(event_field(w, i), "event id " + writes[w].events[i].event_id +
                                                      " is already used in stream " + s.stream_id);
        }
      }
    }
    append_result result;
    result.replayed = true;
    for (std::size_t w = 0; w < writes.size(); ++w) {
      for (std::size_t i = 0; i < stored[w].size(); ++i) {
        const auto& s = stored[w][i];
        const auto& id = writes[w].events[i].event_id;
        if (!s.found) {
          throw invalid_append(event_field(w, i),
                               "event id " + id +
                                   " is new, but other event ids of this append are already "
                                   "stored: a retry must repeat the original append exactly");
        }
        if (i > 0 && s.version != stored[w][i - 1].version + 1) {
          throw invalid_append(event_field(w, i),
                               "event id " + id + " is stored in stream " + s.stream_id +
                                   " but not right after the append's previous event");
        }
      }
      const auto& last = stored[w].back();
      result.streams.push_back({writes[w].stream_id, last.version, last.position});
      result.position = std::max(result.position, last.position);
    }
    return result;
  }

  const sqlite_store_options options_;
  // Created by the constructor, then used only by the writer thread.
  std::unique_ptr<connection> writer_db_;

  // Appends waiting for the writer: a lock-free stack (newest first) that the writer empties in
  // one exchange, so 64 concurrent callers never queue on a mutex.
  std::atomic<pending_append*> incoming_{nullptr};
  wake_signal writer_wake_;  // posted when incoming_ becomes non-empty, and to stop
  std::atomic<bool> stopping_{false};

  std::mutex readers_mutex_;  // guards idle_readers_
  std::vector<std::unique_ptr<connection>> idle_readers_;

  // Guards committed_head_ (so wait_for_append cannot miss a wake-up) and events_.
  mutable std::mutex head_mutex_;
  std::condition_variable head_cv_;
  std::int64_t committed_head_ = 0;  // the highest position this process has committed
  std::uint64_t events_ = 0;         // events this process has written

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> appends_{0};
  std::atomic<std::uint64_t> failed_batches_{0};

  std::thread writer_;  // last: started once everything above exists
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
