-- What the maintenance jobs (server/src/jobs/maintenance.cpp) need: a mark on anonymised accounts,
-- so that purging one is done once, and indexes that let each clean-up batch find its oldest rows
-- without reading whole tables.

-- Set when a soft-deleted account's personal data was removed (purge_inactive).
ALTER TABLE users ADD COLUMN anonymized_at timestamptz;
CREATE INDEX users_purge_due_idx ON users (deleted_at)
  WHERE deleted_at IS NOT NULL AND anonymized_at IS NULL;

CREATE INDEX listings_retired_idx ON listings (status_changed_at)
  WHERE status IN ('inactive', 'deleted');

CREATE INDEX session_families_expires_idx ON session_families (expires_at);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX payment_events_received_idx ON payment_events (received_at);
CREATE INDEX local_webhook_events_delivered_idx ON local_webhook_events (delivered_at)
  WHERE delivered_at IS NOT NULL;
CREATE INDEX local_webhook_events_failed_idx ON local_webhook_events (failed_at)
  WHERE failed_at IS NOT NULL;
CREATE INDEX jobs_succeeded_finished_idx ON jobs (finished_at) WHERE status = 'succeeded';
