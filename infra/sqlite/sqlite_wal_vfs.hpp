// A SQLite VFS that wraps the default one and coalesces the writes to a WAL file into one large
// write per commit. SQLite writes each WAL frame with two write() calls (frame header, then page);
// a group commit of dozens of appends is hundreds of system calls, which cost the single writer
// thread a third of its time. Buffered frames go to the file, in order, before any sync, read,
// truncate, size query or close of the WAL.
//
// Only for connections with synchronous=FULL (or EXTRA): SQLite then syncs the WAL at every
// commit before publishing it in the wal-index, so no other connection can see a committed frame
// that is still in the buffer. With synchronous=NORMAL a commit is published without a sync, so
// such connections must use the default VFS.
//
// Flush pipelining (sqlite_wal_flusher.hpp): while a deferred_wal_sync scope is alive on a thread,
// a WAL sync that SQLite asks for on that thread writes the buffered frames out but does not
// fsync them. The commit is then published to SQLite's readers before it is durable, so the
// store acknowledges it, and lets its own readers of the log see it, only after the flusher has
// fsynced the WAL. A checkpoint must never run inside the scope: it copies WAL frames into the
// database file and relies on them being on disk first.
#pragma once

#include <cstdint>

namespace realmkit::infra::sqlite {

// The name to pass to sqlite3_open_v2. Registers the VFS (not as the default) on first use; thread
// safe.
const char* coalescing_wal_vfs();

class deferred_wal_sync {
 public:
  deferred_wal_sync();
  ~deferred_wal_sync();
  deferred_wal_sync(const deferred_wal_sync&) = delete;
  deferred_wal_sync& operator=(const deferred_wal_sync&) = delete;
};

// WAL syncs skipped inside deferred_wal_sync scopes, process-wide (for tests).
std::uint64_t deferred_wal_syncs();

}  // namespace realmkit::infra::sqlite
