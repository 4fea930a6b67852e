// The second half of a PostgreSQL append (migrations/postgres/0003_append_pipeline.sql): append
// transactions commit without waiting for their WAL flush, and this thread, on a connection of
// its own, makes them durable in one flush per round and only then answers their callers. The
// writer meanwhile runs the next batch under the position lock, so the fsync no longer counts in
// the lock's hold time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "infra/group_commit.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

// A caller whose append is committed (or was refused or replayed within a committed batch) and
// who waits for the flush. The result or error is already set; a failed flush replaces a result
// with an error, since the append may then be lost.
struct flush_waiter : group_commit_waiter {
  std::exception_ptr error;
  bool has_result = false;
};

class commit_flusher {
 public:
  // `on_durable` runs on the flusher thread with the new durable head after each flush, before any
  // caller is answered.
  commit_flusher(const postgres_store_options& options,
                 std::function<void(std::int64_t)> on_durable);
  // Flushes and answers everything handed over, then stops the thread.
  ~commit_flusher();
  commit_flusher(const commit_flusher&) = delete;
  commit_flusher& operator=(const commit_flusher&) = delete;

  // Hands over the callers of a batch whose transaction has committed.
  void hand_over(const std::vector<flush_waiter*>& batch);

  // Makes everything committed so far durable and visible to readers, on the caller's connection:
  // the store does this once when it opens, for appends of a process that crashed before its flush.
  static std::int64_t flush(pqxx::connection& connection, const std::string& channel);

 private:
  void run();
  void ensure_connection();

  const postgres_store_options& options_;
  const std::string channel_;
  std::function<void(std::int64_t)> on_durable_;
  std::unique_ptr<pqxx::connection> connection_;  // flusher thread only

  std::mutex mutex_;  // guards waiting_ and stopping_
  std::condition_variable handed_over_;
  std::vector<flush_waiter*> waiting_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace realmkit::infra::postgres_detail
