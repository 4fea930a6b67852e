-- Outgoing webhooks (infra/webhooks/webhook_store.hpp, docs/webhooks.md). Kept beside the events,
-- never in them: a subscription's secret must be deletable and rotatable, which an immutable log is
-- not. Times are microseconds since the Unix epoch (UTC).
--
-- A subscription examines the log in global order: every event at or below `position` has been
-- looked at, and a delivery was enqueued for each match in the same transaction that moved the
-- position, so each event is enqueued exactly once. A replay moves the position back and records
-- in `replay_through` up to where the deliveries it causes are replays.
CREATE TABLE webhook_subscriptions (
  id                         TEXT    PRIMARY KEY,
  url                        TEXT    NOT NULL,
  description                TEXT    NOT NULL DEFAULT '',
  event_types                TEXT    NOT NULL,  -- patterns separated by spaces
  active                     INTEGER NOT NULL CHECK (active IN (0, 1)),
  secret                     TEXT    NOT NULL,
  previous_secret            TEXT,             -- still signs until previous_secret_expires_at
  previous_secret_expires_at INTEGER,
  position                   INTEGER NOT NULL CHECK (position >= 0),
  replay_through             INTEGER NOT NULL DEFAULT 0,
  created_by                 TEXT    NOT NULL,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL,
  CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
) WITHOUT ROWID;

-- One delivery of one event to one subscription. `reason`: the event itself, a replay, or a
-- redelivery an admin asked for (`redelivery_of` names the delivery it repeats). A pending
-- delivery is due at next_attempt_at; a sender holds it until lease_until while it sends.
CREATE TABLE webhook_deliveries (
  id               TEXT    PRIMARY KEY,
  subscription_id  TEXT    NOT NULL,
  event_id         TEXT    NOT NULL,
  event_position   INTEGER NOT NULL,
  event_type       TEXT    NOT NULL,
  reason           TEXT    NOT NULL CHECK (reason IN ('event', 'replay', 'redelivery')),
  redelivery_of    TEXT,
  status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  lease_until      INTEGER,
  created_at       INTEGER NOT NULL,
  completed_at     INTEGER,
  last_status_code INTEGER,
  last_error       TEXT,
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_subscription ON webhook_deliveries (subscription_id, id);

-- Every attempt of a delivery: when, how long it took, what the receiver answered or why nothing
-- came back, and what followed (delivered, retry, failed).
CREATE TABLE webhook_attempts (
  delivery_id  TEXT    NOT NULL,
  attempt      INTEGER NOT NULL CHECK (attempt >= 1),
  attempted_at INTEGER NOT NULL,
  duration_us  INTEGER NOT NULL,
  status_code  INTEGER,
  error        TEXT,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
  PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
