#include "infra/sqlite/sqlite_wal_flusher.hpp"

#include <fcntl.h>
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
      before_flush_(std::move(before_flush)),
      rounds_(std::make_unique<flush_pipeline>("sqlite-flusher",
                                               [this](std::int64_t head) { flush_round(head); })) {}

wal_flusher::~wal_flusher() {
  rounds_.reset();  // answers what it still holds
  if (fd_ >= 0) ::close(fd_);
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

void wal_flusher::flush_round(std::int64_t head) {
  try {
    if (before_flush_) before_flush_();
    sync_now();
  } catch (const std::exception& e) {
    throw store_unavailable(std::string(e.what()) +
                            " (the append committed but is not known to be durable: a retry with "
                            "the same event ids is safe)");
  }
  on_durable_(head);
}

}  // namespace realmkit::infra::sqlite
