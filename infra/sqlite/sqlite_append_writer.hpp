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
#include "infra/sqlite/sqlite_event_store.hpp"

namespace realmkit::infra::sqlite {

class append_writer {
 public:
  // Takes over `db` (open, configured and migrated). `on_commit` runs on the writer thread after
  // every successful commit, with the new head position.
  append_writer(std::unique_ptr<connection> db, const sqlite_store_options& options,
                std::function<void(std::int64_t head)> on_commit);
  // Answers every append already queued, then stops the thread.
  ~append_writer();
  append_writer(const append_writer&) = delete;
  append_writer& operator=(const append_writer&) = delete;

  // Blocks until the append's transaction has committed (or failed). The writes must have passed
  // validate_writes(). Throws what event_store::append documents.
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key);

  sqlite_store_stats stats() const;

 private:
  struct pending_append;

  void run();
  void commit_batch(const std::vector<pending_append*>& batch);
  append_result apply(const pending_append& request, std::int64_t& head);
  append_result insert(const pending_append& request, std::vector<std::int64_t>& versions,
                       std::int64_t& head, int& done);
  std::optional<append_result> replay_by_event_ids(const pending_append& request);
  timestamp now() const;

  const sqlite_store_options options_;
  std::function<void(std::int64_t)> on_commit_;
  // Used only by the writer thread once it runs.
  std::unique_ptr<connection> db_;

  group_commit_queue queue_;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> appends_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> failed_batches_{0};

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace realmkit::infra::sqlite
