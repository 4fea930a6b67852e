// The embedded event store: one SQLite file in WAL mode, shared safely by several processes (the
// server and the CLI), with group commit so concurrent appends share one fsync.
//
// How it works, and why:
// - Writes. append() validates on the caller's thread, then hands the append to one writer thread
//   that commits every append waiting at that moment in one BEGIN IMMEDIATE transaction (group
//   commit). Each append is checked and written on its own (a savepoint when it has more than one
//   statement), so a conflict or bad id refuses that append alone. With sqlite_durability::full,
//   append() returns only once the WAL holding its commit is fsynced; the fsync runs on a flusher
//   thread while the writer already works on the next batch (sqlite_wal_flusher.hpp), and
//   read_all, head_position and subscriptions show an event only once it is fsynced, so no
//   reader of the log sees an event that a power loss could take back. (read_stream, which the
//   command path decides on, may see it up to one fsync earlier; whatever is decided on it
//   commits after it and is acknowledged after the same or a later fsync.)
// - Positions. Inside the write transaction the next position is max + 1. The write lock is held
//   from BEGIN IMMEDIATE to COMMIT by one connection of one process at a time, so positions are
//   contiguous and in commit order across processes, and a reader's snapshot is always a prefix:
//   read_all never skips an event.
// - Reads use a pool of reader connections (WAL readers never block the writer nor each other).
//   A corrupt row is reported as corrupt_event naming its position; a read hands back the events
//   before it first, so a reader stops exactly there.
// - wait_for_append wakes at once on this store's commits and polls the head every poll_interval
//   for other processes' commits.
// - Every method may be called from any thread. Destroy subscriptions before the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "infra/event_store.hpp"

namespace realmkit::infra {

// What a commit promises once append() returns.
enum class sqlite_durability {
  // The WAL is fsynced before an append is acknowledged or shown to readers of the log, so no
  // acknowledged append is lost on power loss. The default, and the only mode for real data.
  full,
  // synchronous=NORMAL: commits are not fsynced (the WAL is at checkpoints). The database never
  // corrupts, but a power loss (not a process crash) may lose the last acknowledged appends.
  // For demos, tests and throwaway data only.
  relaxed,
};

struct sqlite_store_options {
  std::filesystem::path path = "data/realmkit.db";  // parent directories are created
  sqlite_durability durability = sqlite_durability::full;
  // Apply pending migrations when opening. Without it the database must already be migrated
  // (call migrate()); a database from a newer binary is refused either way.
  bool migrate_on_open = true;
  // How long a connection waits for another process's write lock before failing with
  // store_unavailable.
  std::chrono::milliseconds busy_timeout{10'000};
  // How often wait_for_append looks for appends made by other processes.
  std::chrono::milliseconds poll_interval{20};
  // Group commit: one transaction takes at most this many append() calls, and no more events than
  // max_batch_events (unless a single append holds more), so large appends do not stall others.
  std::size_t max_batch_appends = 1024;
  std::size_t max_batch_events = 10'000;
  // Idle reader connections kept open for reuse (opening one costs a file open and a shared
  // memory mapping, so a busy server keeps about as many as it has reading threads).
  std::size_t max_idle_readers = 32;
  // The source of recorded_at (and of idempotency keys' created_at); the system clock when empty.
  std::function<timestamp()> clock;
  // Tests: with durability full, runs on the flusher thread before each fsync of committed
  // appends. It may block to hold their callers (and readers of the log), or throw to fail it.
  std::function<void()> before_flush;
};

// Counters since the store was opened, for metrics: appends / commits is the group-commit factor.
struct sqlite_store_stats {
  std::uint64_t commits = 0;         // write transactions committed
  std::uint64_t appends = 0;         // append() calls answered by a commit (written, replayed or
                                     // refused by a version or id check)
  std::uint64_t events = 0;          // events written
  std::uint64_t failed_batches = 0;  // transactions that failed as a whole (every append in it)
};

class sqlite_event_store final : public event_store {
 public:
  // Opens (creating the file and its folder when missing) and, with migrate_on_open, migrates.
  // Throws store_error for a database from a newer binary, store_unavailable when the file cannot
  // be opened.
  explicit sqlite_event_store(sqlite_store_options options);
  ~sqlite_event_store() override;
  sqlite_event_store(const sqlite_event_store&) = delete;
  sqlite_event_store& operator=(const sqlite_event_store&) = delete;

  // Applies pending migrations (idempotent; safe while other processes use the file). Returns how
  // many were applied.
  int migrate();
  // The highest applied migration version.
  int schema_version();
  sqlite_store_stats stats() const;
  const std::filesystem::path& path() const;

  using event_store::append;
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) override;
  std::optional<append_result> find_idempotent(const idempotency_key& key) override;
  // Same defaults as event_store's, so calls through either type read the same.
  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from_version = 1,
                                          std::size_t max = 100'000) override;
  std::int64_t stream_version(std::string_view stream_id) override;
  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) override;
  std::int64_t head_position() override;
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::infra
