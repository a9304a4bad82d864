-- erp:no-transaction
-- 024_row_changes_by_run_and_row.sql
--
-- Plans that cost what changed (issue 26 point 2). A load asks, for each erp row it compares, what
-- the standing cutovers last wrote to it (pipeline.load_writes: a row's changes joined with their
-- runs). With row_changes indexed by run alone beside (target_table, target_id, id), the planner
-- could answer "this run's change of this row" by AND-ing a bitmap of every change the run made:
-- a scan of a whole cutover's changes per row compared, about 30 s per chunk of a 100k-task plan.
-- Keyed by (run_id, target_table, target_id), that question is one index lookup; the index still
-- serves what the run_id index did (an undo reads a run's changes; the key to pipeline.runs).
--
-- Built CONCURRENTLY (hence no transaction): row_changes grows with every cutover, and writes to
-- it must not wait for the build. Both statements can run again after a failure half-way.

SET lock_timeout = '5s';

-- An interrupted build leaves an invalid index behind: drop it, so IF NOT EXISTS builds it anew.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass('pipeline.row_changes_run_target_idx') AND NOT indisvalid) THEN
    DROP INDEX pipeline.row_changes_run_target_idx;
  END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS row_changes_run_target_idx
  ON pipeline.row_changes (run_id, target_table, target_id);
COMMENT ON INDEX pipeline.row_changes_run_target_idx IS
  'A run''s change of one erp row in one lookup (pipeline.load_writes, per row a load compares); also a run''s changes (undo) and the key to pipeline.runs.';

DROP INDEX CONCURRENTLY IF EXISTS pipeline.row_changes_run_id_idx;
