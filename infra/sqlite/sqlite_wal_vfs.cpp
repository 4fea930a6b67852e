#include "infra/sqlite/sqlite_wal_vfs.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace realmkit::infra::sqlite {
namespace {

// The unix VFS writes at most 128 KiB - 1 per call (it masks the length with 0x1ffff, so a longer
// write fails as "disk full"); the buffer stays below that. 120 KiB is about 30 frames of 4 KiB:
// one system call instead of 60.
constexpr sqlite3_int64 kBufferBytes = 120 << 10;
constexpr const char* kName = "realmkit-coalescing-wal";

sqlite3_vfs* root_vfs = nullptr;  // the default VFS we wrap; set once under register_once

// Our file object: SQLite allocates szOsFile bytes and hands us the memory; the wrapped file of
// the root VFS lives right after this header.
struct shim_file {
  sqlite3_file base;  // must be first: SQLite sees a sqlite3_file*
  sqlite3_file* real;
  bool is_wal;
  char* buffer;                // kBufferBytes, WAL files only
  sqlite3_int64 buffer_start;  // file offset of buffer[0]
  sqlite3_int64 buffer_len;
};

constexpr int kHeaderBytes = (sizeof(shim_file) + 7) & ~7;

shim_file* shim(sqlite3_file* f) {
  return reinterpret_cast<shim_file*>(f);
}
const sqlite3_io_methods* real_methods(shim_file* f) {
  return f->real->pMethods;
}

// Writes out what is buffered. On failure the frames are dropped: SQLite fails the transaction
// that wrote them, and it never relies on frames of a failed transaction.
int flush(shim_file* f) {
  if (f->buffer_len == 0) return SQLITE_OK;
  const int rc =
      real_methods(f)->xWrite(f->real, f->buffer, static_cast<int>(f->buffer_len), f->buffer_start);
  f->buffer_len = 0;
  return rc;
}

int x_close(sqlite3_file* file) {
  auto* f = shim(file);
  int rc = flush(f);
  const int close_rc = real_methods(f)->xClose(f->real);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  return rc != SQLITE_OK ? rc : close_rc;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  auto* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  auto* f = shim(file);
  if (!f->is_wal) return real_methods(f)->xWrite(f->real, data, amount, offset);
  const bool appends = f->buffer_len > 0 && offset == f->buffer_start + f->buffer_len;
  if (appends && f->buffer_len + amount <= kBufferBytes) {
    std::memcpy(f->buffer + f->buffer_len, data, static_cast<std::size_t>(amount));
    f->buffer_len += amount;
    return SQLITE_OK;
  }
  // Not contiguous, or no room: what is buffered goes first, keeping the writes in order.
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (amount > kBufferBytes / 2) return real_methods(f)->xWrite(f->real, data, amount, offset);
  std::memcpy(f->buffer, data, static_cast<std::size_t>(amount));
  f->buffer_start = offset;
  f->buffer_len = amount;
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xTruncate(f->real, size);
}

thread_local int deferring = 0;  // deferred_wal_sync scopes alive on this thread
std::atomic<std::uint64_t> deferred_syncs{0};

int x_sync(sqlite3_file* file, int flags) {
  auto* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (f->is_wal && deferring > 0) {
    deferred_syncs.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;  // the flusher fsyncs before anything committed here is acknowledged
  }
  return real_methods(f)->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  auto* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  return real_methods(shim(file))->xLock(shim(file)->real, level);
}
int x_unlock(sqlite3_file* file, int level) {
  return real_methods(shim(file))->xUnlock(shim(file)->real, level);
}
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_methods(shim(file))->xCheckReservedLock(shim(file)->real, out);
}
int x_file_control(sqlite3_file* file, int op, void* arg) {
  auto* f = shim(file);
  // Whatever the control does to the file (size hints, persist flags), it sees every write.
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileControl(f->real, op, arg);
}
int x_sector_size(sqlite3_file* file) {
  return real_methods(shim(file))->xSectorSize(shim(file)->real);
}
int x_device_characteristics(sqlite3_file* file) {
  return real_methods(shim(file))->xDeviceCharacteristics(shim(file)->real);
}
int x_shm_map(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  return real_methods(shim(file))->xShmMap(shim(file)->real, page, page_size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return real_methods(shim(file))->xShmLock(shim(file)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  real_methods(shim(file))->xShmBarrier(shim(file)->real);
}
int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  return real_methods(shim(file))->xShmUnmap(shim(file)->real, delete_flag);
}
int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return real_methods(shim(file))->xFetch(shim(file)->real, offset, amount, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  return real_methods(shim(file))->xUnfetch(shim(file)->real, offset, p);
}

// Version 3 methods; open() only hands out files whose real methods are version 3 too.
const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = shim(file);
  std::memset(f, 0, sizeof(shim_file));
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kHeaderBytes);
  const int rc = root_vfs->xOpen(root_vfs, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) return rc;  // nothing opened: SQLite calls no method
  if (rc != SQLITE_OK || f->real->pMethods->iVersion < 3) {
    if (rc == SQLITE_OK) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_CANTOPEN;
    }
    f->real->pMethods->xClose(f->real);
    return rc;
  }
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  if (f->is_wal) {
    f->buffer = static_cast<char*>(sqlite3_malloc64(kBufferBytes));
    if (f->buffer == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return root_vfs->xDelete(root_vfs, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return root_vfs->xAccess(root_vfs, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return root_vfs->xFullPathname(root_vfs, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) {
  return root_vfs->xDlOpen(root_vfs, name);
}
void x_dl_error(sqlite3_vfs*, int n, char* out) {
  root_vfs->xDlError(root_vfs, n, out);
}
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return root_vfs->xDlSym(root_vfs, handle, symbol);
}
void x_dl_close(sqlite3_vfs*, void* handle) {
  root_vfs->xDlClose(root_vfs, handle);
}
int x_randomness(sqlite3_vfs*, int n, char* out) {
  return root_vfs->xRandomness(root_vfs, n, out);
}
int x_sleep(sqlite3_vfs*, int micros) {
  return root_vfs->xSleep(root_vfs, micros);
}
int x_current_time(sqlite3_vfs*, double* out) {
  return root_vfs->xCurrentTime(root_vfs, out);
}
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return root_vfs->xGetLastError(root_vfs, n, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return root_vfs->xCurrentTimeInt64(root_vfs, out);
}

sqlite3_vfs vfs{};

}  // namespace

deferred_wal_sync::deferred_wal_sync() {
  ++deferring;
}
deferred_wal_sync::~deferred_wal_sync() {
  --deferring;
}
std::uint64_t deferred_wal_syncs() {
  return deferred_syncs.load(std::memory_order_relaxed);
}

const char* coalescing_wal_vfs() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    root_vfs = sqlite3_vfs_find(nullptr);
    if (root_vfs == nullptr || root_vfs->iVersion < 2) {
      throw std::runtime_error("no usable default SQLite VFS to wrap");
    }
    vfs.iVersion = 2;
    vfs.szOsFile = kHeaderBytes + root_vfs->szOsFile;
    vfs.mxPathname = root_vfs->mxPathname;
    vfs.zName = kName;
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xDlOpen = x_dl_open;
    vfs.xDlError = x_dl_error;
    vfs.xDlSym = x_dl_sym;
    vfs.xDlClose = x_dl_close;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_get_last_error;
    vfs.xCurrentTimeInt64 = x_current_time_int64;
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
      throw std::runtime_error("cannot register the SQLite VFS " + std::string(kName));
    }
  });
  return kName;
}

}  // namespace realmkit::infra::sqlite
