-- The scheduler's record of the periodic slots it has enqueued: one row per job kind with the
-- start of the latest slot enqueued. The leader moves last_slot forward with a compare in the
-- same transaction that enqueues the slot's job, so a slot is enqueued at most once even after
-- its job has finished (the jobs table's unique key only covers pending jobs) and even if two
-- schedulers both believe they lead.
CREATE TABLE scheduler_slots (
  kind       text PRIMARY KEY,
  last_slot  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
