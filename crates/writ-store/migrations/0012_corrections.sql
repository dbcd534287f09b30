-- A case whose order corrects an agency's earlier order names that
-- order's case (`corrects`); written with the new case, in one
-- transaction. The earlier case is never changed.
CREATE TABLE corrections (
    case_id TEXT PRIMARY KEY,
    corrects TEXT NOT NULL
);
CREATE INDEX corrections_corrects ON corrections (corrects);
-- A question that says a European Production Order is incomplete is the
-- Annex III form of Regulation (EU) 2023/1543 Art. 10(5): it records how
-- many accounts were preserved meanwhile under Art. 10(9) (NULL for other
-- questions) and the enforcing authority it also goes to, if the order
-- was notified.
ALTER TABLE clarifications ADD COLUMN preserved BIGINT;
ALTER TABLE clarifications ADD COLUMN enforcing TEXT;
-- The officer who submitted a case through the portal (none for an order
-- signed with the agency's key or transcribed by staff): told with the
-- agency's contact address when the agency is notified about the case.
CREATE TABLE case_officers (
    case_id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL
);
