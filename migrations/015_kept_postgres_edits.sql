-- Issue 21: no owner edit in Postgres is overwritten without the owner having chosen it.
--
-- - pipeline.load_writes: the row changes of committed cutovers that still stand. An undo writes
--   row history too, but what it restores is not what the pipeline loaded: a later load compares a
--   row with what the cutovers left, so an edit an undo brought back is still an edit.
-- - pipeline.accepted_differences takes the fields a cutover kept as edited in Postgres (--prefer
--   postgres, or a decisions file), with both values: a reconcile right after lists them as
--   accepted, and later runs keep them while neither side changes.
SET lock_timeout = '5s';

CREATE VIEW pipeline.load_writes AS
SELECT c.id, c.run_id, c.target_table, c.target_id, c.before, c.after, r.finished_at
  FROM pipeline.row_changes c
  JOIN pipeline.runs r ON r.id = c.run_id
 WHERE r.mode = 'cutover'
   AND NOT EXISTS (SELECT FROM pipeline.row_changes u
                    WHERE u.run_id = r.undone_by_run_id AND u.target_table = c.target_table AND u.target_id = c.target_id);
COMMENT ON VIEW pipeline.load_writes IS
  'The row changes of committed cutovers that still stand: an undone cutover''s changes count only for the rows its undo kept (--keep-changed). A load compares a row with the values these last wrote to tell an edit made in Postgres, whatever an undo restored since.';

ALTER TABLE pipeline.accepted_differences DROP CONSTRAINT accepted_differences_kind_check;
ALTER TABLE pipeline.accepted_differences ADD CONSTRAINT accepted_differences_kind_check
  CHECK (kind IN ('rejected', 'link_left_empty', 'extra', 'kept_in_postgres')) NOT VALID;
ALTER TABLE pipeline.accepted_differences VALIDATE CONSTRAINT accepted_differences_kind_check;
COMMENT ON CONSTRAINT accepted_differences_kind_check ON pipeline.accepted_differences IS
  'An accepted difference is a rejected row, a link left empty, a row only Postgres has, or an edit made in Postgres that the owner chose to keep.';
COMMENT ON COLUMN pipeline.accepted_differences.kind IS
  'rejected (not loaded), link_left_empty (loaded without a link), extra (in Postgres, not in Coda) or kept_in_postgres (edited or deleted in Postgres, kept by the owner''s choice).';

ALTER TABLE pipeline.accepted_differences ADD COLUMN kept jsonb;
COMMENT ON COLUMN pipeline.accepted_differences.kept IS
  'For kept_in_postgres: {"deleted": true} for a row kept deleted, else {"fields": {column: {"coda": value, "postgres": value}}}. The choice holds while both values stay as they are.';

COMMENT ON COLUMN pipeline.coda_lineage.source_hash IS
  'sha256 of the Coda row as extracted, with the mapping and converter version that loaded it; a plan skips a row whose hash is unchanged. NULL (always compared) when one of its links did not resolve, or when the cutover kept a value edited in Postgres.';
