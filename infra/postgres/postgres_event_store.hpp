// The PostgreSQL event store (distributed mode): one writer connection that group-commits the
// concurrent appends of this process, a small pool of reader connections, and a LISTEN
// connection that wakes wait_for_append on other processes' appends.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "infra/event_store.hpp"

namespace realmkit::infra {

// The positions an append transaction is about to commit; handed to the before_commit test hook.
struct pending_commit {
  std::int64_t first_position = 0;
  std::int64_t last_position = 0;
  std::size_t appends = 0;  // appends this transaction writes (refused and replayed ones aside)
};

struct postgres_store_options {
  // libpq connection URL, e.g. "postgresql://realmkit@db.internal:5432/realmkit".
  std::string url;
  // Every table lives in this schema, created when missing. Lowercase ASCII letters, digits and
  // '_', starting with a letter or '_', at most 47 characters (the NOTIFY channel name is derived
  // from it). "public" keeps the tables where psql and the read models look by default.
  std::string schema = "public";
  // Reader connections, opened on demand; reads beyond this many wait for a free one.
  std::size_t reader_connections = 4;
  // The most events and data bytes one group-commit transaction carries; an append is never split.
  std::size_t max_batch_events = 4096;
  std::size_t max_batch_bytes = 16u << 20;
  // Under load (the last batch held several appends) the writer waits up to this long after
  // answering a batch for its callers to come back before it starts the next transaction, as
  // PostgreSQL's commit_delay does: every transaction holds the position lock through its fsync,
  // so a batch taken too early carries a few appends and leaves the rest waiting a whole fsync.
  // Zero turns it off.
  std::chrono::microseconds gather_delay{300};
  std::chrono::seconds connect_timeout{5};
  // wait_for_append re-reads the head this often even without a notification, so a lost LISTEN
  // connection delays wake-ups by at most this much instead of forever (at least 10 ms).
  std::chrono::milliseconds poll_interval{250};
  // Tests: DROP SCHEMA ... CASCADE when the store is destroyed (a throw-away schema per store).
  bool drop_schema_on_close = false;
  // Tests: runs on the writer thread after the batch's rows are written and before COMMIT. It
  // may block to hold the transaction (and so the position lock) open, or throw to roll the
  // batch back: every append of the batch then fails with store_unavailable.
  std::function<void(const pending_commit&)> before_commit;
  // Tests: runs on the flusher thread before each flush of committed appends. It may block to
  // hold their callers (and readers of the log) before the flush, or throw to make it fail.
  std::function<void()> before_flush;
};

// Applies the pending migrations of migrations/postgres to options.schema (creating it) in one
// transaction under an advisory lock, so processes starting together migrate once. Returns the
// schema version. Throws store_unavailable when the server cannot be reached, store_error when
// the database was migrated by a newer RealmKit than this one, std::invalid_argument for a bad
// schema name.
int migrate_postgres(const postgres_store_options& options);

class postgres_event_store final : public event_store {
 public:
  // Connects, migrates, and starts the writer and listener threads. Throws store_unavailable
  // (with libpq's reason) when the server is unreachable, std::invalid_argument for a bad schema
  // name, store_error for a database newer than this binary.
  explicit postgres_event_store(postgres_store_options options);
  ~postgres_event_store() override;

  postgres_event_store(const postgres_event_store&) = delete;
  postgres_event_store& operator=(const postgres_event_store&) = delete;

  using event_store::append;
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) override;
  std::optional<append_result> find_idempotent(const idempotency_key& key) override;
  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from_version = 1,
                                          std::size_t max = 100'000) override;
  std::int64_t stream_version(std::string_view stream_id) override;
  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) override;
  std::size_t concurrent_reads() override;
  std::int64_t head_position() override;
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override;

  const postgres_store_options& options() const;
  // Appends waiting for the writer thread: the group-commit queue, for metrics and tests.
  std::size_t queued_appends() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra
