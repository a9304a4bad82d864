-- 004_coda_lineage.sql
--
-- Bookkeeping of the Coda migration, in the `pipeline` schema (where the migration runner keeps
-- its own records too): which erp row came from which Coda row, every run, every rejected row.
-- Kept out of erp and agent, and out of the HTTP API (003 grants no API role anything here).
-- No BEGIN/COMMIT: the runner wraps the file in a transaction; it also runs with plain psql.

CREATE SCHEMA IF NOT EXISTS pipeline;
COMMENT ON SCHEMA pipeline IS
  'Bookkeeping of the migration pipeline: applied schema migrations and their checksums, Coda migration runs, row lineage and rejects. Not exposed over HTTP.';

CREATE TABLE pipeline.runs (
  id            bigint GENERATED ALWAYS AS IDENTITY,
  mode          text NOT NULL,
  coda_doc_id   text NOT NULL,
  source        text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at   timestamptz,
  outcome       text NOT NULL DEFAULT 'running',
  outcome_note  text,
  counts        jsonb NOT NULL DEFAULT '{}',
  tool_version  text NOT NULL,
  CONSTRAINT runs_pkey PRIMARY KEY (id),
  CONSTRAINT runs_mode_check CHECK (mode IN ('plan', 'cutover', 'reconcile')),
  CONSTRAINT runs_outcome_check CHECK (outcome IN ('running', 'planned', 'committed', 'rolled_back', 'failed', 'reconciled', 'differences')),
  CONSTRAINT runs_counts_check CHECK (jsonb_typeof(counts) = 'object'),
  CONSTRAINT runs_finished_at_check CHECK (finished_at >= started_at)
);
COMMENT ON TABLE pipeline.runs IS
  'One row per plan, cutover or reconcile run of the Coda migration, written outside the load transaction so that a rolled-back cutover is still on record.';
COMMENT ON COLUMN pipeline.runs.mode IS 'plan (dry run, always rolled back), cutover (load, committed only when clean) or reconcile (read-only comparison).';
COMMENT ON COLUMN pipeline.runs.source IS 'Where the Coda rows came from: the snapshot directory that was read (a live run extracts to a snapshot first).';
COMMENT ON COLUMN pipeline.runs.outcome IS
  'running, then: planned (plan finished), committed / rolled_back (cutover), reconciled / differences (reconcile), or failed (an error stopped the run).';
COMMENT ON COLUMN pipeline.runs.outcome_note IS 'Why a run was rolled back or failed, in words for the business owner.';
COMMENT ON COLUMN pipeline.runs.counts IS 'Per-table counts as JSON: {"erp.projects": {"read": 12, "inserted": 2, "updated": 1, "unchanged": 8, "rejected": 1}, ...}.';
COMMENT ON COLUMN pipeline.runs.tool_version IS 'Version of postgres-erp that ran.';

CREATE TABLE pipeline.coda_lineage (
  coda_doc_id     text NOT NULL,
  coda_table_id   text NOT NULL,
  coda_row_id     text NOT NULL,
  target_table    text NOT NULL,
  target_id       bigint NOT NULL,
  browser_link    text,
  content_hash    text NOT NULL,
  first_run_id    bigint NOT NULL,
  last_run_id     bigint NOT NULL,
  CONSTRAINT coda_lineage_pkey PRIMARY KEY (coda_doc_id, coda_table_id, coda_row_id),
  CONSTRAINT coda_lineage_target_key UNIQUE (target_table, target_id),
  CONSTRAINT coda_lineage_target_table_check CHECK (target_table ~ '^erp\.[a-z_][a-z0-9_]*$'),
  CONSTRAINT coda_lineage_first_run_id_fkey FOREIGN KEY (first_run_id) REFERENCES pipeline.runs (id) ON DELETE RESTRICT,
  CONSTRAINT coda_lineage_last_run_id_fkey FOREIGN KEY (last_run_id) REFERENCES pipeline.runs (id) ON DELETE RESTRICT
);
CREATE INDEX coda_lineage_first_run_id_idx ON pipeline.coda_lineage (first_run_id);
CREATE INDEX coda_lineage_last_run_id_idx ON pipeline.coda_lineage (last_run_id);
COMMENT ON TABLE pipeline.coda_lineage IS
  'Which erp row each Coda row became. Reruns update the row found here instead of inserting a duplicate, and the business owner can follow browser_link back to Coda.';
COMMENT ON COLUMN pipeline.coda_lineage.coda_table_id IS
  'Coda table id (grid-...), or person-values for a person created from Person cells (coda_row_id is then the email, or name: followed by the name).';
COMMENT ON COLUMN pipeline.coda_lineage.target_table IS 'Schema-qualified erp table, e.g. erp.projects.';
COMMENT ON COLUMN pipeline.coda_lineage.content_hash IS 'sha256 of the converted Coda values last loaded; reconcile compares it with a fresh extract.';
COMMENT ON CONSTRAINT coda_lineage_first_run_id_fkey ON pipeline.coda_lineage IS 'ON DELETE RESTRICT: runs that loaded rows are history and are not deleted.';
COMMENT ON CONSTRAINT coda_lineage_last_run_id_fkey ON pipeline.coda_lineage IS 'ON DELETE RESTRICT: runs that loaded rows are history and are not deleted.';

CREATE TABLE pipeline.rejects (
  id             bigint GENERATED ALWAYS AS IDENTITY,
  run_id         bigint NOT NULL,
  coda_table_id  text NOT NULL,
  coda_table     text NOT NULL,
  coda_row_id    text NOT NULL,
  browser_link   text,
  target_column  text NOT NULL,
  coda_column    text NOT NULL,
  value          jsonb,
  reason         text NOT NULL,
  CONSTRAINT rejects_pkey PRIMARY KEY (id),
  CONSTRAINT rejects_run_id_fkey FOREIGN KEY (run_id) REFERENCES pipeline.runs (id) ON DELETE CASCADE
);
CREATE INDEX rejects_run_id_idx ON pipeline.rejects (run_id);
COMMENT ON TABLE pipeline.rejects IS 'Coda rows a run did not load, one line per problem, with a reason the business owner can act on.';
COMMENT ON COLUMN pipeline.rejects.coda_table IS 'The Coda table''s name at the time of the run.';
COMMENT ON COLUMN pipeline.rejects.target_column IS 'The erp column the value was meant for, or (row) when the whole row is the problem.';
COMMENT ON COLUMN pipeline.rejects.value IS 'The offending Coda value, as Coda sent it.';
COMMENT ON CONSTRAINT rejects_run_id_fkey ON pipeline.rejects IS 'ON DELETE CASCADE: rejects mean nothing without their run.';
