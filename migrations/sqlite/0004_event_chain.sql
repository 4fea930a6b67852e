-- Tamper evidence (docs/event-store.md): each event's SHA-256 link in the hash chain over the log in
-- global order, computed by the writer as it assigns positions. 32 bytes; NULL only for events
-- written before this migration until the store fills them in.
ALTER TABLE events ADD COLUMN hash BLOB;

-- A row here means the events written before this migration still need their hashes: the first
-- store that opens the database computes them in order, under the write lock, and deletes the row.
-- (A NULL hash found later is not filled in: the verifier reports it as a broken link.)
CREATE TABLE event_chain_backfill (
  id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO event_chain_backfill (id) VALUES (1);
