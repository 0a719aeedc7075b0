-- The durable job queue. A job is written in the same transaction as the change it acts on, so it
-- exists if and only if that change committed. Workers claim due jobs with FOR UPDATE SKIP LOCKED
-- and hold them under a lease: a worker that dies mid-job loses nothing, the lease runs out and
-- another worker runs the job again (handlers are idempotent).
--
-- status: queued (waiting for run_at; also a failed job waiting for its retry), running (leased
-- to lease_owner until lease_expires_at), succeeded, dead (max_attempts used up, or a permanent
-- failure; `marketplace jobs retry ID` queues it again).

CREATE TABLE jobs (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL,
  payload          jsonb NOT NULL DEFAULT '{}',
  -- Deduplicates jobs that have not finished: see jobs_unique_key_pending_idx.
  unique_key       text,
  status           text NOT NULL DEFAULT 'queued',
  run_at           timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,  -- claims so far, the running one included
  max_attempts     integer NOT NULL DEFAULT 20,
  last_error       text,
  lease_owner      text,
  lease_expires_at timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,  -- of the latest attempt
  finished_at      timestamptz,  -- succeeded or dead
  CONSTRAINT jobs_kind_format CHECK (kind ~ '^[a-z0-9][a-z0-9_.:-]{0,99}$'),
  CONSTRAINT jobs_status_known CHECK (status IN ('queued', 'running', 'succeeded', 'dead')),
  CONSTRAINT jobs_attempts_bounded CHECK (attempts >= 0 AND max_attempts BETWEEN 1 AND 1000),
  CONSTRAINT jobs_lease_while_running CHECK
    ((status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CONSTRAINT jobs_finished_when_final CHECK
    ((status IN ('succeeded', 'dead')) = (finished_at IS NOT NULL))
);

-- At most one unfinished job per key: enqueueing the same key again while one is queued or
-- running adds nothing. Once it succeeded or died the key is free again.
CREATE UNIQUE INDEX jobs_unique_key_pending_idx ON jobs (unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');

-- Claiming: due queued jobs in run_at order.
CREATE INDEX jobs_queued_run_at_idx ON jobs (run_at, id) WHERE status = 'queued';
-- Taking over: running jobs whose lease ran out.
CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE status = 'running';
-- `jobs list --dead` and the dead count per kind.
CREATE INDEX jobs_dead_idx ON jobs (kind, finished_at) WHERE status = 'dead';
