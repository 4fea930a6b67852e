-- The projectors' feed in the distributed mode (infra/kafka/projector_feed.hpp). The projector
-- group consumes the events topic, whose partitions keep each stream's order but not the global
-- order that projections apply in (ARCHITECTURE §3 invariant 3). So each consumer writes what it
-- consumed here, keyed by global position, in the same transaction as its partitions' next
-- offsets; the projections then read the feed's gap-free prefix in global order. A duplicate
-- from a relay retry has the position of its original and changes nothing.
CREATE TABLE projector_feed (
  global_position bigint  PRIMARY KEY CHECK (global_position >= 1),
  event_id        text    NOT NULL,
  stream_id       text    NOT NULL,
  stream_version  bigint  NOT NULL CHECK (stream_version >= 1),
  type            text    NOT NULL,
  schema_version  integer NOT NULL,
  recorded_at_us  bigint  NOT NULL,
  data            text    NOT NULL, -- the envelope's JSON object, byte for byte
  metadata        text    NOT NULL
);

-- The consumer group's offsets: the source of truth for where each partition resumes (the
-- offsets in Kafka are never committed). A consumer moves a row only from the offset it read,
-- so one that lost its partition in a rebalance cannot move it back.
CREATE TABLE projector_offsets (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL CHECK (partition >= 0),
  next_offset    bigint  NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (consumer_group, topic, partition)
);

-- Every position at or below `through` was consumed and then pruned from the feed once every
-- projection generation had applied it; readers of older history go to the event store.
CREATE TABLE projector_feed_pruned (
  id      boolean PRIMARY KEY DEFAULT true CHECK (id), -- exactly one row
  through bigint  NOT NULL CHECK (through >= 0)
);
INSERT INTO projector_feed_pruned (id, through) VALUES (true, 0);
