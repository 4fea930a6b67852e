-- Tamper evidence (docs/event-store.md): each event's SHA-256 link in the hash chain over the log in
-- global order, computed by the writer as it assigns positions (under the position lock, so links
-- follow positions). NULL only for events written before this migration until the store fills
-- them in.
ALTER TABLE events ADD COLUMN hash bytea;

-- The link of the event at event_position.last, kept with it so that the writer, which holds
-- that row's lock, reads the head and its hash in one place. NULL for an empty log.
ALTER TABLE event_position ADD COLUMN last_hash bytea;

-- A row here means the events written before this migration still need their hashes: the first
-- store that opens the database computes them in order, holding the position lock, and deletes
-- the row. (A NULL hash found later is not filled in: the verifier reports it as a broken link.)
CREATE TABLE event_chain_backfill (
  id boolean PRIMARY KEY DEFAULT true CHECK (id)
);
INSERT INTO event_chain_backfill (id) VALUES (true);
