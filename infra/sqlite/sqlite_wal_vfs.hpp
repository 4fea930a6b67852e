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
#pragma once

namespace realmkit::infra::sqlite {

// The name to pass to sqlite3_open_v2. Registers the VFS (not as the default) on first use; thread
// safe.
const char* coalescing_wal_vfs();

}  // namespace realmkit::infra::sqlite
