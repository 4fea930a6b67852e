-- The event store: the append-only log (source of truth), the per-stream version index and the
-- idempotency keys. Positions and versions are assigned by the writer inside its transaction.

-- global_position is the rowid: contiguous from 1 in commit order, because every write takes the
-- database write lock (BEGIN IMMEDIATE) and assigns max + 1.
CREATE TABLE events (
  global_position INTEGER PRIMARY KEY,
  event_id        TEXT    NOT NULL UNIQUE,
  stream_id       TEXT    NOT NULL,
  stream_version  INTEGER NOT NULL CHECK (stream_version >= 1),
  type            TEXT    NOT NULL,
  schema_version  INTEGER NOT NULL,
  recorded_at     INTEGER NOT NULL, -- microseconds since the Unix epoch (UTC)
  data            TEXT    NOT NULL, -- JSON object
  metadata        TEXT    NOT NULL, -- JSON object
  UNIQUE (stream_id, stream_version)
);

-- One row per stream, so the current version is one primary-key lookup instead of a max() scan.
CREATE TABLE streams (
  stream_id TEXT    PRIMARY KEY,
  version   INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;

-- The first result of an append sent with an Idempotency-Key, per actor. fingerprint is the hash
-- of the request, so a key re-used for a different request is refused instead of answered.
CREATE TABLE idempotency_keys (
  actor       TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  result      TEXT    NOT NULL, -- JSON: {"streams":[{"stream_id","version","last_position"}],"position"}
  created_at  INTEGER NOT NULL, -- microseconds since the Unix epoch (UTC)
  PRIMARY KEY (actor, key)
) WITHOUT ROWID;
