#include "infra/sqlite/sqlite_append_writer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <deque>
#include <string>

#include "infra/audit/event_chain.hpp"
#include "infra/sqlite/sqlite_event_rows.hpp"
#include "infra/sqlite/sqlite_wal_vfs.hpp"

namespace realmkit::infra::sqlite {
namespace {

// Named statements: they are prepared once per connection and name the query in errors.
constexpr std::string_view kBegin = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kSavepoint = "SAVEPOINT append";
constexpr std::string_view kRelease = "RELEASE append";
constexpr std::string_view kRollbackToSavepoint = "ROLLBACK TO append";
constexpr std::string_view kSelectEventById =
    "SELECT stream_id, stream_version, global_position FROM events WHERE event_id = ?1";
constexpr std::string_view kInsertEvent =
    "INSERT INTO events (global_position, event_id, stream_id, stream_version, type, "
    "schema_version, recorded_at, data, metadata, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr std::string_view kUpsertStream =
    "INSERT INTO streams (stream_id, version) VALUES (?1, ?2) "
    "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version";
constexpr std::string_view kInsertIdempotencyKey =
    "INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

std::string event_field(std::size_t write, std::size_t event) {
  return "streams/" + std::to_string(write) + ".events/" + std::to_string(event) + ".event_id";
}

}  // namespace

// One append() call waiting for the writer thread. It lives on the caller's stack: the caller
// blocks until `done` is posted, so the writer may use every field until then.
struct append_writer::pending_append : flush_waiter {
  pending_append(std::span<const stream_write> w, const std::optional<idempotency_key>& k)
      : writes(w), key(k) {}
  std::span<const stream_write> writes;
  const std::optional<idempotency_key>& key;
  append_result result;

  std::size_t event_count() const {
    std::size_t n = 0;
    for (const auto& w : writes) n += w.events.size();
    return n;
  }
};

append_writer::append_writer(std::unique_ptr<connection> db, const sqlite_store_options& options,
                             std::function<void(std::int64_t head)> on_commit,
                             std::function<void(std::int64_t head)> on_durable)
    : options_(options),
      on_commit_(std::move(on_commit)),
      on_durable_(std::move(on_durable)),
      db_(std::move(db)) {
  if (options_.durability == sqlite_durability::full) {
    // Checkpoints need the WAL on disk, so they must not run inside a commit whose sync is
    // deferred: this writer runs them itself, between batches.
    db_->exec("PRAGMA wal_autocheckpoint = 0");
    sqlite3_wal_hook(
        db_->handle(),
        [](void* self, sqlite3*, const char*, int pages) {
          static_cast<append_writer*>(self)->wal_pages_ = pages;
          return SQLITE_OK;
        },
        this);
    auto wal = db_->path();
    wal += "-wal";
    flusher_ = std::make_unique<wal_flusher>(std::move(wal), on_durable_, options_.before_flush);
  }
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "sqlite-writer");  // for top -H and profilers
    run();
  });
}

append_writer::~append_writer() {
  stopping_ = true;
  queue_.wake_writer();
  thread_.join();
  flusher_.reset();  // answers what it still holds
}

void append_writer::sync_now() {
  if (flusher_) flusher_->sync_now();
}

// A passive checkpoint once the WAL has grown by kCheckpointPages since the last one: it copies
// committed pages into the database file (syncing the WAL first, then the file) so that the WAL
// can restart from its beginning instead of growing.
void append_writer::maybe_checkpoint() {
  if (wal_pages_ < next_checkpoint_at_) {
    if (wal_pages_ < last_wal_pages_) next_checkpoint_at_ = kCheckpointPages;  // restarted
    last_wal_pages_ = wal_pages_;
    return;
  }
  last_wal_pages_ = wal_pages_;
  next_checkpoint_at_ = wal_pages_ + kCheckpointPages;
  try {
    db_->exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (const sqlite::error& e) {
    // The WAL only grows for longer; the next checkpoint tries again.
    spdlog::warn("SQLite checkpoint of {} failed: {}", db_->path().string(), e.what());
  }
}

sqlite_store_stats append_writer::stats() const {
  sqlite_store_stats s;
  s.commits = commits_.load(std::memory_order_relaxed);
  s.appends = appends_.load(std::memory_order_relaxed);
  s.events = events_.load(std::memory_order_relaxed);
  s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
  return s;
}

timestamp append_writer::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

append_result append_writer::append(std::span<const stream_write> writes,
                                    const std::optional<idempotency_key>& key) {
  if (stopping_) throw store_unavailable("the event store is closing");
  pending_append request{writes, key};
  queue_.push(request);
  request.wait_answer();
  if (request.error) std::rethrow_exception(request.error);
  return std::move(request.result);
}

// The writer thread: takes whatever appends are queued (up to a batch) and commits them in one
// transaction, so concurrent appends share one fsync.
void append_writer::run() {
  std::deque<pending_append*> pending;  // taken from the queue, oldest first
  std::vector<pending_append*> taken;
  std::vector<pending_append*> batch;
  const auto max_appends = std::max<std::size_t>(options_.max_batch_appends, 1);
  const auto max_events = options_.max_batch_events;
  for (;;) {
    taken.clear();
    queue_.take(taken);
    pending.insert(pending.end(), taken.begin(), taken.end());
    if (pending.empty()) {
      if (stopping_) return;  // every append pushed before the stop is answered
      queue_.wait_for_work();
      continue;
    }
    // At least one append, then as many as fit the limits.
    batch.clear();
    std::size_t events = 0;
    while (!pending.empty() && batch.size() < max_appends &&
           (batch.empty() || events + pending.front()->event_count() <= max_events)) {
      events += pending.front()->event_count();
      batch.push_back(pending.front());
      pending.pop_front();
    }
    commit_batch(batch);
  }
}

void append_writer::commit_batch(const std::vector<pending_append*>& batch) {
  auto& db = *db_;
  std::int64_t head = 0;
  std::int64_t first_head = 0;
  bool in_transaction = false;
  try {
    db.prepare(kBegin).run();
    in_transaction = true;
    // Under the write lock no other process can append, so max + 1 is the next position and
    // positions follow commit order.
    auto chain = read_chain_head(db);
    head = chain.position;
    first_head = head;
    for (auto* request : batch) {
      try {
        request->result = apply(*request, chain);
        head = chain.position;
      } catch (const store_error&) {
        // A refusal of this append alone; apply() has undone its writes.
        request->error = std::current_exception();
      }
    }
    {
      std::optional<deferred_wal_sync> deferred;  // the flusher fsyncs before anyone is answered
      if (flusher_) deferred.emplace();
      db.prepare(kCommit).run();
    }
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
    wake_as_tree(std::span<pending_append* const>(batch));
    return;
  }
  events_.fetch_add(static_cast<std::uint64_t>(head - first_head), std::memory_order_relaxed);
  commits_.fetch_add(1, std::memory_order_relaxed);
  appends_.fetch_add(batch.size(), std::memory_order_relaxed);
  on_commit_(head);
  if (!flusher_) {
    on_durable_(head);
    wake_as_tree(std::span<pending_append* const>(batch));
    return;
  }
  // Refused and replayed appends wait too: what they were decided on may not be durable yet.
  committed_.assign(batch.begin(), batch.end());
  flusher_->hand_over(committed_, head);
  maybe_checkpoint();
}

// One append inside the batch transaction, all or nothing: a refusal throws a store_error and
// leaves the database and `head` as they were, so the other appends of the batch go on.
append_result append_writer::apply(const pending_append& request, chain_head& head) {
  auto& db = *db_;
  if (request.key) {
    if (auto stored = find_append_result(db, *request.key)) return *stored;
  }
  const auto& writes = request.writes;
  std::vector<std::int64_t> versions(writes.size());
  for (std::size_t w = 0; w < writes.size(); ++w) {
    versions[w] = read_stream_version(db, writes[w].stream_id);
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
append_result append_writer::insert(const pending_append& request,
                                    std::vector<std::int64_t>& versions, chain_head& head,
                                    int& done) {
  auto& db = *db_;
  const auto recorded = now();
  const auto recorded_at = recorded.time_since_epoch().count();
  append_result result;
  result.streams.reserve(request.writes.size());
  for (std::size_t w = 0; w < request.writes.size(); ++w) {
    const auto& write = request.writes[w];
    auto& version = versions[w];
    for (const auto& e : write.events) {
      ++version;
      ++head.position;
      head.hash = audit::chain_link(head.hash, head.position, e.event_id, write.stream_id, version,
                                    e.type, e.schema_version, recorded, e.data, e.metadata);
      const std::string_view hash(reinterpret_cast<const char*>(head.hash.data()),
                                  head.hash.size());
      auto q = db.prepare(kInsertEvent);
      q.bind(1, head.position)
          .bind(2, e.event_id)
          .bind(3, write.stream_id)
          .bind(4, version)
          .bind(5, e.type)
          .bind(6, std::int64_t{e.schema_version})
          .bind(7, recorded_at)
          .bind(8, e.data)
          .bind(9, e.metadata)
          .bind_blob(10, hash)
          .run();
      ++done;
    }
    db.prepare(kUpsertStream).bind(1, write.stream_id).bind(2, version).run();
    ++done;
    result.streams.push_back({write.stream_id, version, head.position});
  }
  result.position = head.position;
  if (request.key) {
    const auto encoded = encode_append_result(result);
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
std::optional<append_result> append_writer::replay_by_event_ids(const pending_append& request) {
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
      auto q = db_->prepare(kSelectEventById);
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

}  // namespace realmkit::infra::sqlite
