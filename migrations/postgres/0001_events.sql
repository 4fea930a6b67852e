-- The event store: the append-only log (source of truth), the per-stream version index, the
-- global position counter and the idempotency keys. Every table lives in the store's schema
-- (search_path), so several stores can share one database.
--
-- Gap-free global order (ARCHITECTURE §3.3). A sequence would hand out positions at insert time
-- and let a transaction with a lower position commit after one with a higher position, so a
-- reader that had already moved past the higher one would skip the lower one forever. Instead,
-- every append transaction starts by locking the single row of event_position
-- (SELECT ... FOR UPDATE) and assigns positions last+1 .. last+n while it holds that lock, then
-- stores last+n in the same transaction. Consequences:
--   * appends from every process and connection are serialized; a writer batches the concurrent
--     appends of its process into one transaction (group commit) to keep throughput up;
--   * positions are contiguous: a rolled-back transaction rolls the counter back too;
--   * positions become visible in order: PostgreSQL releases a row lock only after its
--     transaction is visible to new snapshots, so the next holder commits strictly later.
-- A reader therefore always sees a prefix of the log, and read_all is a plain
-- "WHERE global_position > $1 ORDER BY global_position LIMIT $2".

CREATE TABLE event_position (
  id   boolean PRIMARY KEY DEFAULT true CHECK (id), -- exactly one row
  last bigint  NOT NULL CHECK (last >= 0)         -- highest position written (0: empty store)
);
INSERT INTO event_position (id, last) VALUES (true, 0);

-- data and metadata are json, not jsonb: json keeps the bytes exactly as written, and the audit
-- hash chain is computed over the stored bytes.
CREATE TABLE events (
  global_position bigint      PRIMARY KEY CHECK (global_position >= 1),
  event_id        text        NOT NULL UNIQUE,
  stream_id       text        NOT NULL,
  stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
  type            text        NOT NULL,
  schema_version  integer     NOT NULL CHECK (schema_version >= 1),
  recorded_at     timestamptz NOT NULL,
  data            json        NOT NULL, -- JSON object
  metadata        json        NOT NULL, -- JSON object: actor, correlation_id, causation_id, ...
  UNIQUE (stream_id, stream_version)
);

-- One row per stream, so the current version is one primary-key lookup instead of a max() scan.
CREATE TABLE streams (
  stream_id text   PRIMARY KEY,
  version   bigint NOT NULL CHECK (version >= 1)
);

-- The first result of an append sent with an Idempotency-Key, per actor. fingerprint is the hash
-- of the request, so a key re-used for a different request is refused instead of answered.
CREATE TABLE idempotency_keys (
  actor       text        NOT NULL,
  key         text        NOT NULL,
  fingerprint text        NOT NULL,
  result      json        NOT NULL, -- {"streams":[{"stream_id","version","last_position"}],"position"}
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (actor, key)
);
