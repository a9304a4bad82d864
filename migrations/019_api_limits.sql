-- 019_api_limits.sql
--
-- Limits that hold for any row (issue 23, points 4-6; docs/API.md, "Limits"):
--
--   * The read budget charges what a response carries: a row's text form (octet_length of the
--     whole row as text, every column detoasted and uncompressed), not its stored size. A row
--     holding 1 MB of repetitive text is stored in a few kB and used to be charged that much.
--     The budget drops from 4 MB to 2 MB, which a backend builds into a response within 64 MB.
--   * The changed-rows count includes rows changed by ON DELETE CASCADE and SET NULL: deleting
--     one person with 30 tasks changes 31 rows.
--   * An unfiltered DELETE or PATCH through PostgREST is refused whatever the table's size (an
--     empty table or one of 3 rows included), before any row is touched.
--   * Rows inserted per request are capped (postgrest.api_role_limits.max_inserted_rows, 2,000
--     for the writing roles): a 1 MiB body of `{}` would otherwise insert 300,000 rows.
--   * agent.sweep_expired is a job (`erp agent sweep`, the compose agent-sweep service, as the
--     owner), not an HTTP call: the API roles may no longer execute it.
--
-- Requires 008 and 016. No BEGIN/COMMIT: the runner wraps the file in a transaction.

SET lock_timeout = '5s';

-- ---------------------------------------------------------------------------------------------
-- Rows inserted per request
-- ---------------------------------------------------------------------------------------------

ALTER TABLE postgrest.api_role_limits ADD COLUMN max_inserted_rows integer NOT NULL DEFAULT 0;
ALTER TABLE postgrest.api_role_limits ALTER COLUMN max_inserted_rows DROP DEFAULT;
ALTER TABLE postgrest.api_role_limits
  ADD CONSTRAINT api_role_limits_max_inserted_rows_check CHECK (max_inserted_rows >= 0) NOT VALID;
ALTER TABLE postgrest.api_role_limits VALIDATE CONSTRAINT api_role_limits_max_inserted_rows_check;
COMMENT ON COLUMN postgrest.api_role_limits.max_inserted_rows IS
  'Most rows one request may insert (a bulk POST, an upsert); a request that would insert more is refused and inserts nothing.';
COMMENT ON CONSTRAINT api_role_limits_max_inserted_rows_check ON postgrest.api_role_limits IS
  'The number of rows a request may insert cannot be negative.';
-- 2,000 ordinary rows fill the 1 MiB body limit; more than that are the same rows in bulk.
UPDATE postgrest.api_role_limits
   SET max_inserted_rows = CASE WHEN role_name IN ('web_anon', 'dashboard_reader') THEN 0 ELSE 2000 END;
COMMENT ON TABLE postgrest.api_role_limits IS
  'What one HTTP request of each API role may do: change at most max_changed_rows rows (PATCH, DELETE, upsert, and what their cascades change), insert at most max_inserted_rows rows, and read at most read_budget_bytes bytes of rows. Every role granted to authenticator must be listed (a test checks); an API role missing here reads nothing.';
COMMENT ON COLUMN postgrest.api_role_limits.max_changed_rows IS
  'Most rows one request may update or delete, rows changed by ON DELETE CASCADE / SET NULL included; a request that would change more is refused and changes nothing.';
COMMENT ON COLUMN postgrest.api_role_limits.read_budget_bytes IS
  'Most bytes of table rows one request may read, each row charged its text form (what a response carries, detoasted), embedded rows and rows scanned by unindexed filters included; a request reading more is refused.';

-- ---------------------------------------------------------------------------------------------
-- One count per statement and kind of write; unfiltered DELETE and PATCH refused
-- ---------------------------------------------------------------------------------------------

-- An unfiltered DELETE or PATCH is told by the statement PostgREST 12 sends (current_query()):
-- its mutation has no WHERE (a filter, or `limit` with `order`, always adds one). The text is
-- PostgREST's, never the client's, so a client cannot make an unfiltered request look filtered;
-- test/api/abuse.test.ts checks it against a real PostgREST, so an upgrade that changes the text
-- fails there.
CREATE OR REPLACE FUNCTION postgrest.start_changed_row_count()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  allowed integer;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE')
     AND current_query() ~ '^WITH pgrst_source AS \((DELETE FROM "([^"]|"")+"\."([^"]|"")+"|UPDATE .* pgrst_body) +RETURNING ' THEN
    RAISE EXCEPTION 'This request would % every row of %.% it can see: a % needs a filter',
        CASE TG_OP WHEN 'DELETE' THEN 'delete' ELSE 'change' END, TG_TABLE_SCHEMA, TG_TABLE_NAME,
        CASE TG_OP WHEN 'DELETE' THEN 'DELETE' ELSE 'PATCH' END
      USING DETAIL = 'Nothing was changed.',
            HINT = 'Filter the request to the rows you mean (e.g. ?id=in.(1,2,3)).';
  END IF;
  SELECT CASE TG_OP WHEN 'INSERT' THEN max_inserted_rows ELSE max_changed_rows END INTO allowed
    FROM postgrest.api_role_limits WHERE role_name = current_user;
  PERFORM set_config(CASE TG_OP WHEN 'INSERT' THEN 'postgrest.inserted_rows_left' ELSE 'postgrest.changed_rows_left' END,
                     coalesce(allowed::text, ''), true);
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION postgrest.start_changed_row_count() IS
  'BEFORE INSERT, UPDATE OR DELETE statement trigger on every erp and agent table, for the statement a PostgREST request makes: refuses an unfiltered DELETE or PATCH (its mutation has no WHERE), then starts the count of rows the statement may still insert (max_inserted_rows) or change (max_changed_rows) (postgrest.api_role_limits; roles not listed there, the owner in a SECURITY DEFINER function, are not counted).';

-- Cascades run as the table's owner, so the limit is the request's role's (the `role` setting
-- PostgREST switched to), not current_user's.
CREATE OR REPLACE FUNCTION postgrest.count_changed_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  counter constant text := CASE TG_OP WHEN 'INSERT' THEN 'postgrest.inserted_rows_left' ELSE 'postgrest.changed_rows_left' END;
  rows_left integer := nullif(current_setting(counter, true), '')::integer - 1;
  allowed integer;
BEGIN
  IF rows_left < 0 THEN
    SELECT CASE TG_OP WHEN 'INSERT' THEN max_inserted_rows ELSE max_changed_rows END INTO allowed
      FROM postgrest.api_role_limits WHERE role_name = current_setting('role');
    RAISE EXCEPTION 'This request would % more than % rows of %.%, the most one % request may %',
        CASE TG_OP WHEN 'UPDATE' THEN 'change' ELSE lower(TG_OP) END, coalesce(allowed, 0), TG_TABLE_SCHEMA, TG_TABLE_NAME, current_setting('role'),
        CASE TG_OP WHEN 'INSERT' THEN 'insert' ELSE 'change' END
      USING DETAIL = CASE WHEN pg_trigger_depth() > 1
                          THEN 'Rows changed by ON DELETE CASCADE or SET NULL count too. Nothing was changed.'
                          ELSE 'Nothing was changed.' END,
            HINT = CASE TG_OP WHEN 'INSERT' THEN 'Send the rows in several requests.'
                   ELSE 'Filter the request to the rows you mean (e.g. ?id=in.(1,2,3)) and change more rows in several requests.' END;
  END IF;
  IF rows_left IS NOT NULL THEN
    PERFORM set_config(counter, rows_left::text, true);
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
COMMENT ON FUNCTION postgrest.count_changed_row() IS
  'BEFORE INSERT, UPDATE OR DELETE row trigger on every erp and agent table, for PostgREST requests only, cascades and SET NULL actions included: refuses the whole statement at the first row past the role''s max_inserted_rows or max_changed_rows.';

-- The row trigger now fires at any depth: a foreign key's action runs as a nested statement.
-- The statement trigger stays at depth 0, so a cascade does not start the count afresh.
DO $$
DECLARE
  target record;
BEGIN
  FOR target IN
    SELECT n.nspname AS schema_name, c.relname AS table_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r'
     ORDER BY 1, 2
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %I.%I', target.table_name || '_start_api_change_count', target.schema_name, target.table_name);
    EXECUTE format('DROP TRIGGER %I ON %I.%I', target.table_name || '_count_api_change', target.schema_name, target.table_name);
    EXECUTE format(
      $trigger$CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH STATEMENT
                 WHEN (pg_trigger_depth() = 0 AND coalesce(current_setting('request.method', true), '') <> '')
                 EXECUTE FUNCTION postgrest.start_changed_row_count()$trigger$,
      target.table_name || '_start_api_change_count', target.schema_name, target.table_name);
    EXECUTE format(
      $trigger$CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW
                 WHEN (coalesce(current_setting('request.method', true), '') <> '')
                 EXECUTE FUNCTION postgrest.count_changed_row()$trigger$,
      target.table_name || '_count_api_change', target.schema_name, target.table_name);

    -- What a response carries: the row's text form, every column detoasted.
    EXECUTE format('ALTER POLICY read_budget ON %I.%I USING (postgrest.charge_read(octet_length((%I.*)::text)))',
      target.schema_name, target.table_name, target.table_name);
    EXECUTE format('COMMENT ON POLICY read_budget ON %I.%I IS %L', target.schema_name, target.table_name,
      'Every row an API role reads is charged its text form (octet_length, detoasted) to the request''s read budget (postgrest.charge_read); a request past it is refused.');
  END LOOP;
END;
$$;

-- A backend needs several times a response's size to build it (the detoasted values, the
-- aggregated JSON, its copy on the way out): in the abuse suite a 3 MB response of wide values
-- took a backend to 69 MB, past the 64 MB it may use; 2 MB responses stay under it. 2 MB still
-- holds a 1,000-row page of any table but embedded memories (about 17 kB each as text).
UPDATE postgrest.api_role_limits SET read_budget_bytes = 2097152 WHERE read_budget_bytes > 2097152;

-- ---------------------------------------------------------------------------------------------
-- The sweep is a job, not an HTTP call
-- ---------------------------------------------------------------------------------------------

REVOKE EXECUTE ON FUNCTION agent.sweep_expired(integer) FROM agent_service, agent_cross_client;
COMMENT ON FUNCTION agent.sweep_expired(integer) IS
  'Removes up to batch_size (1..100000, default 1000) expired memories, the longest expired first, skipping rows other transactions hold; returns how many it removed. Call it until it returns less than batch_size (`erp agent sweep` does, as the owner): each call is a short transaction. Not callable over HTTP (019); the memory_gateway login may call it for its own sweeps.';

NOTIFY pgrst, 'reload schema';
