-- 026_lean_row_history.sql
--
-- A lean cutover (issue 26 point 3). Profiled at 100k tasks, the row history of the rows a
-- cutover inserts was the largest share of its cost beyond its load (the erp rows' inserts took
-- 8.9 s with it, 1.2 s without; the lineage's 6.6 s against 2.5 s). Three of its costs are not
-- needed for what it guarantees:
--
-- - Every recorded row checked its foreign key to pipeline.runs: a lookup and a row lock of the
--   same run per row, two thirds of the time the history took (100k task rows: 6.8 s recorded,
--   2.6 s without the key). The same guarantee is now checked once per statement, as 013 did for
--   the lineage: a recorded change names a run that exists (locked FOR KEY SHARE once), and a run
--   with recorded changes is neither deleted nor renumbered. pipeline.rejects keeps its foreign
--   key, so pipeline.runs still cannot be truncated.
-- - A lineage row a cutover inserts is no longer recorded: its first_run_id says which run
--   inserted it, and the row itself is its image after the run. `erp undo` deletes the lineage
--   rows whose first_run_id is the undone cutover (src/load/undo/changes.ts), as it deleted the
--   ones recorded as inserted; the lineage rows a run updates or deletes are recorded as before.
-- - A row keyed by one column (every erp table: id) gets its key without the function call.
--
-- Older cutovers keep their recorded lineage inserts; an undo reads both the same way.

SET lock_timeout = '5s';

ALTER TABLE pipeline.row_changes DROP CONSTRAINT row_changes_run_id_fkey;

CREATE FUNCTION pipeline.check_row_change_runs()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  named bigint[];
  found_runs bigint[];
  missing bigint;
BEGIN
  SELECT array_agg(DISTINCT n.run_id) INTO named FROM new_rows n;
  IF named IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(id) INTO found_runs
    FROM (SELECT r.id FROM pipeline.runs r WHERE r.id = ANY (named) FOR KEY SHARE) locked;
  SELECT min(run) INTO missing FROM unnest(named) AS run WHERE run <> ALL (coalesce(found_runs, '{}'));
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'pipeline.row_changes: run_id is %, which is not a run in pipeline.runs', missing
      USING ERRCODE = 'foreign_key_violation', SCHEMA = 'pipeline', TABLE = 'row_changes',
            COLUMN = 'run_id', CONSTRAINT = 'row_changes_runs_exist';
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION pipeline.check_row_change_runs() IS
  'Statement-level AFTER trigger function (row_changes_runs_exist_insert/update): every run_id of the statement''s rows is a run in pipeline.runs, checked once per statement rather than by a foreign-key lookup per row (migration 026 says why).';

CREATE TRIGGER row_changes_runs_exist_insert AFTER INSERT ON pipeline.row_changes
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pipeline.check_row_change_runs();
CREATE TRIGGER row_changes_runs_exist_update AFTER UPDATE ON pipeline.row_changes
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pipeline.check_row_change_runs();
COMMENT ON TRIGGER row_changes_runs_exist_insert ON pipeline.row_changes IS
  'A recorded change names a run that exists (run_id), checked once per statement.';
COMMENT ON TRIGGER row_changes_runs_exist_update ON pipeline.row_changes IS
  'A recorded change names a run that exists (run_id), checked once per statement.';

CREATE FUNCTION pipeline.keep_runs_the_row_history_names()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
    RETURN NEW;
  END IF;
  IF EXISTS (SELECT FROM pipeline.row_changes c WHERE c.run_id = OLD.id) THEN
    RAISE EXCEPTION 'run % has changes recorded in pipeline.row_changes: runs are history and are neither deleted nor renumbered', OLD.id
      USING ERRCODE = 'foreign_key_violation', SCHEMA = 'pipeline', TABLE = 'runs',
            COLUMN = 'id', CONSTRAINT = 'row_changes_runs_exist';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
COMMENT ON FUNCTION pipeline.keep_runs_the_row_history_names() IS
  'Row-level BEFORE trigger function (runs_keep_row_history_runs): a run named by pipeline.row_changes is neither deleted nor given another id, as the ON DELETE RESTRICT foreign key did before migration 026.';

CREATE TRIGGER runs_keep_row_history_runs BEFORE DELETE OR UPDATE OF id ON pipeline.runs
  FOR EACH ROW EXECUTE FUNCTION pipeline.keep_runs_the_row_history_names();
COMMENT ON TRIGGER runs_keep_row_history_runs ON pipeline.runs IS
  'Runs are history: one with recorded row changes is neither deleted nor renumbered.';

COMMENT ON COLUMN pipeline.row_changes.run_id IS
  'The run that made the change: a run in pipeline.runs (checked per statement by row_changes_runs_exist_insert/update).';

DROP TRIGGER coda_lineage_row_history_insert ON pipeline.coda_lineage;

CREATE OR REPLACE FUNCTION pipeline.record_row_changes()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  run bigint := nullif(current_setting('pipeline.run_id', true), '')::bigint;
  relation text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  single_key text := CASE WHEN TG_NARGS = 1 THEN TG_ARGV[0] END;
BEGIN
  IF run IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, after)
    SELECT run, relation, (n.image ->> 'id')::bigint,
           CASE WHEN single_key IS NOT NULL THEN jsonb_build_object(single_key, n.image -> single_key)
                ELSE pipeline.row_key(n.image, TG_ARGV) END,
           'insert', n.image
      FROM (SELECT to_jsonb(r) AS image FROM new_rows r) n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, before, after)
    SELECT run, relation, (n.image ->> 'id')::bigint, n.key, 'update', o.image, n.image
      FROM (SELECT to_jsonb(r) AS image, pipeline.row_key(to_jsonb(r), TG_ARGV) AS key FROM old_rows r) o
      JOIN (SELECT to_jsonb(r) AS image, pipeline.row_key(to_jsonb(r), TG_ARGV) AS key FROM new_rows r) n
        ON n.key = o.key
     WHERE n.image IS DISTINCT FROM o.image;
  ELSE
    INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, before)
    SELECT run, relation, (o.image ->> 'id')::bigint, pipeline.row_key(o.image, TG_ARGV), 'delete', o.image
      FROM (SELECT to_jsonb(r) AS image FROM old_rows r) o;
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION pipeline.record_row_changes() IS
  'Statement-level AFTER trigger function (triggers <table>_row_history_insert/update/delete; pipeline.coda_lineage has no insert trigger since 026, its first_run_id names the inserting run): records the statement''s rows in pipeline.row_changes when the transaction set pipeline.run_id, and nothing otherwise. Trigger arguments name the key columns.';
