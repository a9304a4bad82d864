-- 025_reason_codes.sql
--
-- The run's record keeps why as a code and its data, JSON text, as the load returns it; the
-- reports word it (src/report/reasons.ts; issue 25, "words in src/report only"). Only the
-- comments change: the columns stay text, and rows written before keep their sentences.
--
-- No BEGIN/COMMIT: the runner wraps the file in a transaction.

SET lock_timeout = '5s';

COMMENT ON COLUMN pipeline.runs.outcome_note IS
  'Why a run did not commit, stopped or was abandoned, as JSON text: a code and its data, e.g. {"code": "too_many_rejects", "rejected": 3, "maxRejects": 0} (the reports word it). Runs before 025 hold a sentence.';
COMMENT ON COLUMN pipeline.rejects.reason IS
  'Why the value was refused, as JSON text: a code and its data, e.g. {"code": "required_empty", "column": {"column": "name", "label": "Name"}} (the reports word it). Runs before 025 hold a sentence.';
COMMENT ON COLUMN pipeline.accepted_differences.reason IS
  'Why the row was rejected or its link left empty, as JSON text: the reasons'' codes and data (the reports word them); [] for the kinds whose data says why. Rows before 025 hold a sentence.';
