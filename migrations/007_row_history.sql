-- 007_row_history.sql
--
-- Row history of the Coda migration, so that a cutover can be undone (`erp undo`) and a later
-- load can tell a row edited in Postgres from a row as the last load left it.
--
-- Every erp table and pipeline.coda_lineage gets three statement-level AFTER triggers (insert,
-- update, delete) with transition tables: one set-based INSERT per statement, not one per row.
-- They record nothing unless the transaction set `pipeline.run_id` (a cutover and an undo do, with
-- set_config(..., true)); edits through the API or psql leave no history here, which is how a
-- later run recognises them. A plan's or a rolled-back cutover's history rolls back with it.
--
-- Tables added to erp by a later migration need the same three triggers (see the DO block).
-- No BEGIN/COMMIT: the runner wraps the file in a transaction; it also runs with plain psql.

SET lock_timeout = '5s';

-- The undo mode and undone outcome of pipeline.runs are in 006's CHECKs.

ALTER TABLE pipeline.runs ADD COLUMN undone_by_run_id bigint;
ALTER TABLE pipeline.runs ADD CONSTRAINT runs_undone_by_run_id_fkey FOREIGN KEY (undone_by_run_id)
  REFERENCES pipeline.runs (id) ON DELETE RESTRICT NOT VALID;
ALTER TABLE pipeline.runs VALIDATE CONSTRAINT runs_undone_by_run_id_fkey;
COMMENT ON COLUMN pipeline.runs.undone_by_run_id IS
  'For a cutover that `erp undo` reverted: the undo run. An undone cutover is not undone again, and the next `erp undo` reverts the cutover before it.';
COMMENT ON CONSTRAINT runs_undone_by_run_id_fkey ON pipeline.runs IS
  'ON DELETE RESTRICT: runs are history and are not deleted.';

CREATE TABLE pipeline.row_changes (
  id            bigint GENERATED ALWAYS AS IDENTITY,
  run_id        bigint NOT NULL,
  target_table  text NOT NULL,
  target_id     bigint,
  row_key       jsonb NOT NULL,
  operation     text NOT NULL,
  before        jsonb,
  after         jsonb,
  CONSTRAINT row_changes_pkey PRIMARY KEY (id),
  CONSTRAINT row_changes_run_id_fkey FOREIGN KEY (run_id) REFERENCES pipeline.runs (id) ON DELETE RESTRICT,
  CONSTRAINT row_changes_operation_check CHECK (operation IN ('insert', 'update', 'delete')),
  CONSTRAINT row_changes_images_check CHECK (
    (operation = 'insert' AND before IS NULL AND after IS NOT NULL)
    OR (operation = 'update' AND before IS NOT NULL AND after IS NOT NULL)
    OR (operation = 'delete' AND before IS NOT NULL AND after IS NULL))
);
CREATE INDEX row_changes_run_id_idx ON pipeline.row_changes (run_id);
CREATE INDEX row_changes_target_idx ON pipeline.row_changes (target_table, target_id, id);
COMMENT ON TABLE pipeline.row_changes IS
  'Every row a Coda migration run (or an undo) inserted, updated or deleted in erp and in pipeline.coda_lineage, with the row before and after. Written by the row_history triggers only while a run is loading; edits through the API or psql are not recorded here. `erp undo` reverts a cutover from it, and a later load compares a row with the after image of the last run that wrote it to find edits made in Postgres.';
COMMENT ON COLUMN pipeline.row_changes.target_table IS 'Schema-qualified table of the row, e.g. erp.projects or pipeline.coda_lineage.';
COMMENT ON COLUMN pipeline.row_changes.target_id IS 'The erp row''s id; empty for lineage rows, whose key is in row_key.';
COMMENT ON COLUMN pipeline.row_changes.row_key IS 'The row''s primary key as JSON, e.g. {"id": 12}.';
COMMENT ON COLUMN pipeline.row_changes.before IS 'The whole row before the change (empty for an insert).';
COMMENT ON COLUMN pipeline.row_changes.after IS 'The whole row after the change (empty for a delete): the value at that load.';
COMMENT ON CONSTRAINT row_changes_run_id_fkey ON pipeline.row_changes IS 'ON DELETE RESTRICT: runs are history and are not deleted.';
COMMENT ON CONSTRAINT row_changes_operation_check ON pipeline.row_changes IS
  'A recorded change is an insert, an update or a delete.';
COMMENT ON CONSTRAINT row_changes_images_check ON pipeline.row_changes IS
  'An insert has only the row after, a delete only the row before, an update both.';

CREATE FUNCTION pipeline.row_key(image jsonb, key_columns text[])
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT jsonb_object_agg(k, image -> k) FROM unnest(key_columns) AS k $$;
COMMENT ON FUNCTION pipeline.row_key(jsonb, text[]) IS
  'The key columns of a row image, as a JSON object: how the row history matches a row before and after an update.';

CREATE FUNCTION pipeline.record_row_changes()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  run bigint := nullif(current_setting('pipeline.run_id', true), '')::bigint;
  relation text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
  IF run IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, after)
    SELECT run, relation, (n.image ->> 'id')::bigint, pipeline.row_key(n.image, TG_ARGV), 'insert', n.image
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
  'Statement-level AFTER trigger function (triggers <table>_row_history_insert/update/delete): records the statement''s rows in pipeline.row_changes when the transaction set pipeline.run_id, and nothing otherwise. Trigger arguments name the key columns.';

DO $$
DECLARE
  target record;
  operation text;
BEGIN
  FOR target IN
    SELECT n.nspname AS schema_name, c.relname AS table_name,
           CASE WHEN n.nspname = 'erp' THEN ARRAY['id'] ELSE ARRAY['coda_doc_id', 'coda_table_id', 'coda_row_id'] END AS key_columns
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND (n.nspname = 'erp' OR (n.nspname = 'pipeline' AND c.relname = 'coda_lineage'))
  LOOP
    FOREACH operation IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
      EXECUTE format(
        'CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION pipeline.record_row_changes(%s)',
        target.table_name || '_row_history_' || operation,
        upper(operation),
        target.schema_name,
        target.table_name,
        CASE operation
          WHEN 'insert' THEN 'NEW TABLE AS new_rows'
          WHEN 'update' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
          ELSE 'OLD TABLE AS old_rows'
        END,
        (SELECT string_agg(quote_literal(k), ', ') FROM unnest(target.key_columns) AS k));
    END LOOP;
  END LOOP;
END;
$$;
