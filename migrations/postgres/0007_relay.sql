-- The outbox relay's checkpoints (infra/kafka/outbox_relay.hpp): per relay name, the highest global
-- position P such that every event at or below P has been acknowledged by Kafka (acks=all). Only
-- the relay holding the relay's advisory lock writes its row, on the session that holds the lock,
-- so a relay that lost its session cannot move it.
CREATE TABLE relay_checkpoints (
  name       text        PRIMARY KEY,
  position   bigint      NOT NULL CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
