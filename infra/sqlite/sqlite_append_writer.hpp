// The SQLite store's single writer: one thread that owns the write connection and commits every
// append waiting at that moment in one transaction (group commit), each append still checked and
// written on its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/group_commit.hpp"
#include "infra/sqlite/sqlite_connection.hpp"
#include "infra/sqlite/sqlite_event_rows.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "infra/sqlite/sqlite_wal_flusher.hpp"

namespace realmkit::infra::sqlite {

class append_writer {
 public:
  // Takes over `db` (open, configured and migrated). `on_commit` runs on the writer thread after
  // every successful commit, with the new head position; `on_durable` once that head is durable
  // (with sqlite_durability::full on the flusher thread, after the WAL fsync; otherwise at once).
  append_writer(std::unique_ptr<connection> db, const sqlite_store_options& options,
                std::function<void(std::int64_t head)> on_commit,
                std::function<void(std::int64_t head)> on_durable);
  // Answers every append already queued, then stops the thread.
  ~append_writer();
  append_writer(const append_writer&) = delete;
  append_writer& operator=(const append_writer&) = delete;

  // Blocks until the append's transaction has committed (or failed). The writes must have passed
  // validate_writes(). Throws what event_store::append documents.
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key);

  sqlite_store_stats stats() const;

  // Makes every commit in the WAL so far durable, other processes' too (see wal_flusher).
  void sync_now();

 private:
  struct pending_append;

  void run();
  void commit_batch(const std::vector<pending_append*>& batch);
  append_result apply(const pending_append& request, chain_head& head);
  append_result insert(const pending_append& request, std::vector<std::int64_t>& versions,
                       chain_head& head, int& done);
  std::optional<append_result> replay_by_event_ids(const pending_append& request);
  timestamp now() const;
  void maybe_checkpoint();

  static constexpr int kCheckpointPages = 4096;  // 16 MiB of 4 KiB pages

  const sqlite_store_options options_;
  std::function<void(std::int64_t)> on_commit_;
  std::function<void(std::int64_t)> on_durable_;
  // Used only by the writer thread once it runs.
  std::unique_ptr<connection> db_;

  group_commit_queue queue_;
  std::unique_ptr<wal_flusher> flusher_;  // with sqlite_durability::full
  std::vector<flush_waiter*> committed_;  // writer thread: the batch handed to the flusher
  int wal_pages_ = 0;                     // frames in the WAL after the last commit (writer thread)
  int last_wal_pages_ = 0;
  int next_checkpoint_at_ = kCheckpointPages;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> appends_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> failed_batches_{0};

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace realmkit::infra::sqlite
