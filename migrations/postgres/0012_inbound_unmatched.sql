-- Inbound messages (api/integrations/inbound_log.hpp) that no contact's address or number
-- matched: kept for an admin to follow up (GET /api/integrations/unmatched), at most 30 days,
-- since they name people who are nobody's contacts. Not a read model: no event records them.
-- addresses and phones are space-separated.
CREATE TABLE inbound_unmatched (
  provider    text   NOT NULL,
  message_id  text   NOT NULL,
  kind        text   NOT NULL,
  received_at bigint NOT NULL,  -- microseconds since the Unix epoch (UTC)
  occurred_at bigint,
  addresses   text   NOT NULL,
  phones      text   NOT NULL,
  summary     text   NOT NULL,
  PRIMARY KEY (provider, message_id)
);
CREATE INDEX inbound_unmatched_by_time ON inbound_unmatched (received_at);

-- Addresses and numbers of people who are nobody's contacts: not for the analysts' read-only role
-- (0006), which default privileges would otherwise grant every new table.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkit_analyst') THEN
    REVOKE ALL ON inbound_unmatched FROM realmkit_analyst;
  END IF;
END
$$;
