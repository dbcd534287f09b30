-- The exchange of a case's clarification: the provider asks (`side`
-- provider, with the order's fields at issue as a JSON array and whether
-- the order is incomplete, which stops a European Production Order's
-- clock), the agency answers (`side` agency). Written with the case's
-- change and its log event, in one transaction.
CREATE TABLE clarifications (
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    side TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    fields TEXT NOT NULL,
    incomplete BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
