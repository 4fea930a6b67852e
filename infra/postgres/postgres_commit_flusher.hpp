// The second half of a PostgreSQL append (migrations/postgres/0003_append_pipeline.sql): append
// transactions commit without waiting for their WAL flush, and this thread, on a connection of
// its own, makes them durable in one flush per round and only then answers their callers. The
// writer meanwhile runs the next batch under the position lock, so the fsync no longer counts in
// the lock's hold time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "infra/flush_pipeline.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

class commit_flusher {
 public:
  // `on_durable` runs on the flusher thread with the new durable head after each flush, before any
  // caller is answered.
  commit_flusher(const postgres_store_options& options,
                 std::function<void(std::int64_t)> on_durable);
  commit_flusher(const commit_flusher&) = delete;
  commit_flusher& operator=(const commit_flusher&) = delete;

  // Hands over the callers of a batch whose transaction has committed.
  void hand_over(std::span<flush_waiter* const> batch) { rounds_.hand_over(batch, 0); }

  // Makes everything committed so far durable and visible to readers, on the caller's connection:
  // the store does this once when it opens, for appends of a process that crashed before its flush.
  static std::int64_t flush(pqxx::connection& connection, const std::string& channel);

 private:
  void flush_round();  // on the pipeline's thread
  void ensure_connection();

  const postgres_store_options& options_;
  const std::string channel_;
  std::function<void(std::int64_t)> on_durable_;
  std::unique_ptr<pqxx::connection> connection_;  // the pipeline's thread only
  flush_pipeline rounds_;  // last: its thread starts once everything above exists
};

}  // namespace realmkit::infra::postgres_detail
