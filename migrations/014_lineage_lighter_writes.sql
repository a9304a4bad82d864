-- Issue 13: a faster load, continued. Every loaded row writes a lineage row; a profile at 1M tasks
-- put the lineage insert first among the load's statements (12 s of 57 s). Two of its costs are
-- not needed for what the indexes and checks guarantee:
--
-- - coda_lineage_first_run_id_idx and coda_lineage_last_run_id_idx were two of the five WAL
--   records of every lineage row, and since every cutover sets last_run_id on every row it saw,
--   they kept those updates from being HOT updates (every index got a new entry per row). Nothing
--   the load does looks rows up by run: only two rare questions do, "did this run load anything"
--   for a run found abandoned, and "does the lineage still name this run" before a run would be
--   deleted or renumbered (which the tool never does). A scan answers both.
-- - the per-statement runs check of migration 013 read the statement's rows four times (two
--   UNIONs of two reads); it now reads them once.

SET lock_timeout = '5s';

DROP INDEX pipeline.coda_lineage_first_run_id_idx;
DROP INDEX pipeline.coda_lineage_last_run_id_idx;

CREATE OR REPLACE FUNCTION pipeline.check_lineage_runs()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  named bigint[];
  found_runs bigint[];
  missing bigint;
BEGIN
  SELECT array_agg(run) INTO named
    FROM (SELECT DISTINCT v.run FROM new_rows n CROSS JOIN LATERAL (VALUES (n.first_run_id), (n.last_run_id)) v (run)) runs;
  IF named IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(id) INTO found_runs
    FROM (SELECT r.id FROM pipeline.runs r WHERE r.id = ANY (named) FOR KEY SHARE) locked;
  SELECT min(run) INTO missing FROM unnest(named) AS run WHERE run <> ALL (coalesce(found_runs, '{}'));
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'pipeline.coda_lineage: first_run_id or last_run_id is %, which is not a run in pipeline.runs', missing
      USING ERRCODE = 'foreign_key_violation', SCHEMA = 'pipeline', TABLE = 'coda_lineage',
            COLUMN = 'first_run_id', CONSTRAINT = 'coda_lineage_runs_exist';
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION pipeline.check_lineage_runs() IS
  'Statement-level AFTER trigger function (coda_lineage_runs_exist_insert/update): every first_run_id and last_run_id of the statement''s rows is a run in pipeline.runs, checked with one read of the statement''s rows rather than a foreign-key lookup per row (migrations 013 and 014 say why).';
