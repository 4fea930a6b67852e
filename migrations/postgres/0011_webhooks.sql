-- Outgoing webhooks (infra/webhooks/webhook_store.hpp, docs/webhooks.md). Kept beside the events,
-- never in them: a subscription's secret must be deletable and rotatable, which an immutable log is
-- not. Times are microseconds since the Unix epoch (UTC).
--
-- A subscription examines the log in global order: every event at or below `position` has been
-- looked at, and a delivery was enqueued for each match in the same transaction that moved the
-- position, so each event is enqueued exactly once. A replay moves the position back and records
-- in `replay_through` up to where the deliveries it causes are replays.
CREATE TABLE webhook_subscriptions (
  id                         text    COLLATE "C" PRIMARY KEY,
  url                        text    NOT NULL,
  description                text    NOT NULL DEFAULT '',
  event_types                text    NOT NULL,  -- patterns separated by spaces
  active                     boolean NOT NULL,
  secret                     text    NOT NULL,
  previous_secret            text,              -- still signs until previous_secret_expires_at
  previous_secret_expires_at bigint,
  position                   bigint  NOT NULL CHECK (position >= 0),
  replay_through             bigint  NOT NULL DEFAULT 0,
  created_by                 text    NOT NULL,
  created_at                 bigint  NOT NULL,
  updated_at                 bigint  NOT NULL,
  CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);

-- One delivery of one event to one subscription. `reason`: the event itself, a replay, or a
-- redelivery an admin asked for (`redelivery_of` names the delivery it repeats). A pending
-- delivery is due at next_attempt_at; a sender holds it until lease_until while it sends.
CREATE TABLE webhook_deliveries (
  id               text    COLLATE "C" PRIMARY KEY,
  subscription_id  text    COLLATE "C" NOT NULL,
  event_id         text    NOT NULL,
  event_position   bigint  NOT NULL,
  event_type       text    NOT NULL,
  reason           text    NOT NULL CHECK (reason IN ('event', 'replay', 'redelivery')),
  redelivery_of    text,
  status           text    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  bigint,
  lease_until      bigint,
  created_at       bigint  NOT NULL,
  completed_at     bigint,
  last_status_code integer,
  last_error       text,
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_subscription ON webhook_deliveries (subscription_id, id);

-- Every attempt of a delivery: when, how long it took, what the receiver answered or why nothing
-- came back, and what followed (delivered, retry, failed).
CREATE TABLE webhook_attempts (
  delivery_id  text    COLLATE "C" NOT NULL,
  attempt      integer NOT NULL CHECK (attempt >= 1),
  attempted_at bigint  NOT NULL,
  duration_us  bigint  NOT NULL,
  status_code  integer,
  error        text,
  outcome      text    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
  PRIMARY KEY (delivery_id, attempt)
);

-- The secrets are credentials: the analysts' read-only role (0006), which default privileges
-- grant every new table, must not read them, nor the targets and history beside them.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkit_analyst') THEN
    REVOKE ALL ON webhook_subscriptions, webhook_deliveries, webhook_attempts
      FROM realmkit_analyst;
  END IF;
END
$$;
