-- A notice that cannot be sent is tried again after a delay that doubles
-- with each attempt, up to a cap; after the last attempt it is `dead`: no
-- longer tried, shown in the console and counted by /metrics until staff
-- retry it. `next_attempt_at` is when it may be tried next (epoch seconds,
-- 0: at once) and `last_error` why the last attempt failed.
ALTER TABLE release_notices ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE release_notices ADD COLUMN last_error TEXT;
