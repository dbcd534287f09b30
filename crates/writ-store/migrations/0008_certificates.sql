-- `files` is the package's manifest list (JSON array of {path, sha256,
-- records}), kept so that staff can certify a package they cannot open.
-- A certificate of authenticity is a records custodian's declaration about
-- one generation of a case's package; there is at most one per generation
-- and it is never changed. `inside_us` is 1 when it was signed inside the
-- United States, else 0 (28 U.S.C. § 1746 (2) or (1)).
ALTER TABLE packages ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
CREATE TABLE certificates (
    case_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    package_sha256 TEXT NOT NULL,
    files TEXT NOT NULL,
    custodian TEXT NOT NULL,
    custodian_title TEXT NOT NULL,
    place TEXT NOT NULL,
    inside_us BIGINT NOT NULL,
    signed_by TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, generation)
);
