-- Inbound messages (api/integrations/inbound_log.hpp) that no contact's address or number
-- matched: kept for an admin to follow up (GET /api/integrations/unmatched), at most 30 days,
-- since they name people who are nobody's contacts. Not a read model: no event records them.
-- Times are microseconds since the Unix epoch (UTC); addresses and phones are space-separated.
CREATE TABLE inbound_unmatched (
  provider    TEXT    NOT NULL,
  message_id  TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  received_at INTEGER NOT NULL,
  occurred_at INTEGER,
  addresses   TEXT    NOT NULL,
  phones      TEXT    NOT NULL,
  summary     TEXT    NOT NULL,
  PRIMARY KEY (provider, message_id)
) WITHOUT ROWID;
CREATE INDEX inbound_unmatched_by_time ON inbound_unmatched (received_at);
