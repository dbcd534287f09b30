-- User notices, one per release. Every package generation that reaches a
-- user's data gives that user a notice naming what the package holds (a
-- later package holds everything released before it), so a notice is
-- keyed by the case and the generation it is about. Notices recorded
-- before this table existed were about the case's first package: should a
-- later package exist, its users are told again, in full.
CREATE TABLE release_notices (
    case_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    notice_id TEXT NOT NULL,
    state TEXT NOT NULL,
    summary TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (case_id, generation)
);
INSERT INTO release_notices (case_id, generation, notice_id, state, summary, attempts, created_at, sent_at)
    SELECT case_id, 1, notice_id, state, summary, attempts, created_at, sent_at FROM notices;
DROP TABLE notices;
