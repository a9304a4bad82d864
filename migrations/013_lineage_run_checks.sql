-- Issue 13: a faster load. Every loaded row writes a lineage row, and the lineage's two foreign
-- keys to pipeline.runs (first_run_id, last_run_id) were checked row by row: two lookups and two
-- row locks of the same run per loaded row, 1.4 s of a 100k-task load (EXPLAIN ANALYZE), more
-- than inserting the lineage rows themselves. The same guarantee is now checked once per
-- statement, with a join over the statement's new rows:
--
-- - a lineage row must name runs that exist: checked after each INSERT or UPDATE statement, which
--   locks each run it names FOR KEY SHARE, once, as the foreign key did row by row;
-- - a run the lineage names cannot be deleted, nor its id changed: refused by a row trigger on
--   pipeline.runs (which is history: runs are never deleted by the tool).
--
-- Truncating pipeline.runs stays impossible: pipeline.rejects and pipeline.row_changes keep their
-- foreign keys to it.

SET lock_timeout = '5s';

ALTER TABLE pipeline.coda_lineage DROP CONSTRAINT coda_lineage_first_run_id_fkey;
ALTER TABLE pipeline.coda_lineage DROP CONSTRAINT coda_lineage_last_run_id_fkey;

CREATE FUNCTION pipeline.check_lineage_runs()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  missing bigint;
BEGIN
  PERFORM FROM pipeline.runs r
   WHERE r.id IN (SELECT n.first_run_id FROM new_rows n UNION SELECT n.last_run_id FROM new_rows n)
     FOR KEY SHARE;
  SELECT n.run INTO missing
    FROM (SELECT first_run_id AS run FROM new_rows UNION SELECT last_run_id FROM new_rows) n
   WHERE NOT EXISTS (SELECT FROM pipeline.runs r WHERE r.id = n.run)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'pipeline.coda_lineage: first_run_id or last_run_id is %, which is not a run in pipeline.runs', missing
      USING ERRCODE = 'foreign_key_violation', SCHEMA = 'pipeline', TABLE = 'coda_lineage',
            COLUMN = 'first_run_id', CONSTRAINT = 'coda_lineage_runs_exist';
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION pipeline.check_lineage_runs() IS
  'Statement-level AFTER trigger function (coda_lineage_runs_exist_insert/update): every first_run_id and last_run_id of the statement''s rows is a run in pipeline.runs, checked with one join per statement rather than a foreign-key lookup per row (migration 013 says why).';

CREATE TRIGGER coda_lineage_runs_exist_insert AFTER INSERT ON pipeline.coda_lineage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pipeline.check_lineage_runs();
CREATE TRIGGER coda_lineage_runs_exist_update AFTER UPDATE ON pipeline.coda_lineage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pipeline.check_lineage_runs();
COMMENT ON TRIGGER coda_lineage_runs_exist_insert ON pipeline.coda_lineage IS
  'A lineage row names runs that exist (first_run_id, last_run_id), checked once per statement.';
COMMENT ON TRIGGER coda_lineage_runs_exist_update ON pipeline.coda_lineage IS
  'A lineage row names runs that exist (first_run_id, last_run_id), checked once per statement.';

CREATE FUNCTION pipeline.keep_runs_the_lineage_names()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
    RETURN NEW;
  END IF;
  IF EXISTS (SELECT FROM pipeline.coda_lineage l WHERE l.first_run_id = OLD.id)
     OR EXISTS (SELECT FROM pipeline.coda_lineage l WHERE l.last_run_id = OLD.id) THEN
    RAISE EXCEPTION 'run % loaded rows recorded in pipeline.coda_lineage: runs that loaded rows are history and are neither deleted nor renumbered', OLD.id
      USING ERRCODE = 'foreign_key_violation', SCHEMA = 'pipeline', TABLE = 'runs',
            COLUMN = 'id', CONSTRAINT = 'coda_lineage_runs_exist';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
COMMENT ON FUNCTION pipeline.keep_runs_the_lineage_names() IS
  'Row-level BEFORE trigger function (runs_keep_lineage_runs): a run named by pipeline.coda_lineage (first_run_id, last_run_id) is neither deleted nor given another id, as ON DELETE RESTRICT foreign keys did before migration 013.';

CREATE TRIGGER runs_keep_lineage_runs BEFORE DELETE OR UPDATE OF id ON pipeline.runs
  FOR EACH ROW EXECUTE FUNCTION pipeline.keep_runs_the_lineage_names();
COMMENT ON TRIGGER runs_keep_lineage_runs ON pipeline.runs IS
  'Runs that loaded rows are history: one named by the lineage is neither deleted nor renumbered.';

COMMENT ON COLUMN pipeline.coda_lineage.first_run_id IS
  'The run that first loaded this row: a run in pipeline.runs (checked per statement by coda_lineage_runs_exist_insert/update).';
COMMENT ON COLUMN pipeline.coda_lineage.last_run_id IS
  'The last committed run that saw this row in Coda: a run in pipeline.runs (checked per statement by coda_lineage_runs_exist_insert/update).';
