#include "infra/sqlite/sqlite_wal_flusher.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "infra/event_store.hpp"

namespace realmkit::infra::sqlite {

wal_flusher::wal_flusher(std::filesystem::path wal_path,
                         std::function<void(std::int64_t)> on_durable,
                         std::function<void()> before_flush)
    : wal_path_(std::move(wal_path)),
      on_durable_(std::move(on_durable)),
      before_flush_(std::move(before_flush)) {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "sqlite-flusher");  // for top -H and profilers
    run();
  });
}

wal_flusher::~wal_flusher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  handed_over_.notify_one();
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void wal_flusher::hand_over(std::span<wal_flush_waiter* const> batch, std::int64_t head) {
  {
    std::lock_guard lock(mutex_);
    waiting_.insert(waiting_.end(), batch.begin(), batch.end());
    head_ = std::max(head_, head);
  }
  handed_over_.notify_one();
}

void wal_flusher::sync_now() {
  std::lock_guard lock(fd_mutex_);
  fsync_wal();
}

void wal_flusher::fsync_wal() {
  if (fd_ < 0) {
    // SQLite keeps the WAL file for as long as any connection has the database open (the store
    // holds its writer's for its lifetime), so one descriptor serves the store's lifetime.
    fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) return;  // no WAL yet: nothing was committed to it
      throw store_unavailable("cannot open " + wal_path_.string() +
                              " to sync it: " + std::strerror(errno));
    }
  }
  while (::fdatasync(fd_) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    // After a failed fsync the kernel may have dropped the dirty pages: never trust this
    // descriptor again, and report the commits as unconfirmed.
    ::close(fd_);
    fd_ = -1;
    throw store_unavailable("fsync of " + wal_path_.string() + " failed: " + std::strerror(error));
  }
}

void wal_flusher::run() {
  std::vector<wal_flush_waiter*> round;
  for (;;) {
    std::int64_t head = 0;
    round.clear();
    {
      std::unique_lock lock(mutex_);
      handed_over_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, and everything handed over is answered
      round.swap(waiting_);
      head = head_;
    }
    try {
      if (before_flush_) before_flush_();
      sync_now();
      on_durable_(head);
    } catch (const std::exception& e) {
      const auto failure = std::make_exception_ptr(store_unavailable(
          std::string(e.what()) +
          " (the append committed but is not known to be durable: a retry with the same event ids "
          "is safe)"));
      for (auto* waiter : round) {
        if (!waiter->error) waiter->error = failure;
      }
    }
    wake_as_tree(std::span<wal_flush_waiter* const>(round));
  }
}

}  // namespace realmkit::infra::sqlite
