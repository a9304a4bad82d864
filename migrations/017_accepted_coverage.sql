-- 017_accepted_coverage.sql
--
-- Issue 21: coverage is part of the verdict. A Coda column that holds data and that no mapping
-- loads or skips, or a whole Coda table with rows that no mapping names, is left behind: a
-- cutover refuses while there is one, unless the owner accepts it (`--accept-unmapped`). What
-- was accepted is kept with the other accepted differences, so a later reconcile lists it as
-- accepted by that cutover instead of as new.
--
-- Such a difference is not a row: row_key holds the Coda table id, and for a column
-- "<table id>/<column id>"; target_table holds the erp table the Coda table is mapped to, or ''
-- for a table no mapping names; row_name holds the column's or table's name in Coda.

SET lock_timeout = '5s';

ALTER TABLE pipeline.accepted_differences DROP CONSTRAINT accepted_differences_kind_check;
ALTER TABLE pipeline.accepted_differences
  ADD CONSTRAINT accepted_differences_kind_check
  CHECK (kind IN ('rejected', 'link_left_empty', 'extra', 'kept_in_postgres', 'column_left_behind', 'table_left_behind')) NOT VALID;
ALTER TABLE pipeline.accepted_differences VALIDATE CONSTRAINT accepted_differences_kind_check;
COMMENT ON CONSTRAINT accepted_differences_kind_check ON pipeline.accepted_differences IS
  'An accepted difference is a rejected row, a link left empty, a row only Postgres has, an edit made in Postgres that the owner chose to keep, or a Coda column or table holding data that no mapping loads.';
COMMENT ON COLUMN pipeline.accepted_differences.kind IS
  'rejected (not loaded), link_left_empty (loaded without a link), extra (in Postgres, not in Coda), kept_in_postgres (edited or deleted in Postgres, kept by the owner''s choice), column_left_behind (a Coda column with data that no mapping loads or skips) or table_left_behind (a Coda table with rows that no mapping names).';
COMMENT ON COLUMN pipeline.accepted_differences.row_key IS
  'The Coda row id, id: followed by the erp id for a row no Coda row produced, the Coda table id for a table left behind, or <table id>/<column id> for a column left behind.';
COMMENT ON COLUMN pipeline.accepted_differences.target_table IS
  'The erp table the difference is in; for a column left behind the table its Coda table is mapped to, and empty for a Coda table no mapping names.';
