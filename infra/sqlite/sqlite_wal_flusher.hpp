// The second half of a durable SQLite append. The writer commits with the WAL sync deferred
// (deferred_wal_sync in sqlite_wal_vfs.hpp) and hands the batch's callers over; this thread fsyncs
// the WAL once for everything committed since its last round and only then answers them. The
// writer meanwhile runs the next batch, so the fsync no longer stalls the one thread every append
// waits for.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "infra/flush_pipeline.hpp"

namespace realmkit::infra::sqlite {

class wal_flusher {
 public:
  // `wal_path` is the database's "-wal" file. `on_durable` runs on the flusher thread with the
  // highest position made durable, before any caller of that round is answered.
  wal_flusher(std::filesystem::path wal_path, std::function<void(std::int64_t)> on_durable,
              std::function<void()> before_flush = {});
  ~wal_flusher();
  wal_flusher(const wal_flusher&) = delete;
  wal_flusher& operator=(const wal_flusher&) = delete;

  // The callers of a batch whose transaction has committed up to position `head`.
  void hand_over(std::span<flush_waiter* const> batch, std::int64_t head) {
    rounds_->hand_over(batch, head);
  }

  // Fsyncs the WAL on the caller's thread, making every commit written to it so far durable
  // (those of other processes too). Throws store_unavailable when the fsync fails.
  void sync_now();

 private:
  void flush_round(std::int64_t head);  // on the pipeline's thread
  void fsync_wal();                     // under fd_mutex_

  const std::filesystem::path wal_path_;
  std::function<void(std::int64_t)> on_durable_;
  std::function<void()> before_flush_;  // tests

  std::mutex fd_mutex_;  // guards fd_
  int fd_ = -1;          // our own descriptor of the WAL: fsync works on the inode, whoever wrote

  // Last: its thread starts once everything above exists, and stops before the descriptor closes.
  std::unique_ptr<flush_pipeline> rounds_;
};

}  // namespace realmkit::infra::sqlite
