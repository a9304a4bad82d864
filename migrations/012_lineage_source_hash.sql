-- Issue 13: plans that skip what did not change. A plan hashes each Coda row as extracted,
-- together with the mapping and the converter version that load it, and skips the rows whose
-- hash is the one their last committed load recorded here: neither transformed nor compared.
-- A reconcile always compares in full, so edits made in Postgres still show up there.
SET lock_timeout = '5s';

ALTER TABLE pipeline.coda_lineage ADD COLUMN source_hash text;

COMMENT ON COLUMN pipeline.coda_lineage.source_hash IS
  'sha256 of the Coda row as extracted, with the mapping and converter version that loaded it; a plan skips a row whose hash is unchanged. NULL (always compared) when one of its links did not resolve.';
