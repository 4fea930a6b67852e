-- Finished webhook deliveries are forgotten after a retention period (docs/webhooks.md): the
-- dispatcher finds the oldest through this index, without reading the pending ones.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (completed_at)
  WHERE status <> 'pending';
