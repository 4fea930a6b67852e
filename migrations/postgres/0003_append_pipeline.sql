-- The append path, reshaped for throughput under the position lock (see 0001_events.sql).
--
-- 1. The streams table (one row per stream with its current version) goes: keeping it cost an
--    upsert per stream in every append transaction, about 40% of the server's work for a batch of
--    single-event appends, all of it done while the position lock is held. The current version of
--    a stream is the last entry of the events (stream_id, stream_version) index, found by one
--    backward index probe.
DROP TABLE streams;

-- 2. Flush pipelining. An append transaction commits without waiting for its WAL flush
--    (SET LOCAL synchronous_commit = off), so it releases the position lock as soon as its commit
--    record is written, and the next batch proceeds while the disk works. The writer acknowledges
--    nothing yet: a second connection then raises event_durable_position.last to event_position.last
--    in a transaction that does wait for its flush. WAL is flushed in order, so when that commit
--    is durable, so is every append committed before it. Readers that follow the log (read_all,
--    subscriptions, relays, projectors) read only up to event_durable_position.last, so none of
--    them ever sees an event a crash could still take back, and every acknowledged append is
--    durable. A separate table, because event_position's row stays locked by the append in
--    progress.
CREATE TABLE event_durable_position (
  id   boolean PRIMARY KEY DEFAULT true CHECK (id), -- exactly one row
  last bigint  NOT NULL CHECK (last >= 0)         -- every position up to here is flushed
);
INSERT INTO event_durable_position (id, last) SELECT true, last FROM event_position;
