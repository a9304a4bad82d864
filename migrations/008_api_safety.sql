-- 008_api_safety.sql
--
-- Makes the public HTTP API safe against careless and hostile clients (docs/API.md, "Limits"):
--
--   * Per-role limits in postgrest.api_role_limits: how many rows one request may change, and how
--     many bytes of rows it may read. A PATCH, DELETE or upsert changing more rows than its role
--     may is refused and changes nothing; a read (any select, embedding or filter) that reads more
--     bytes of rows than its role's budget is refused before the response grows past what
--     PostgREST (100 MB container) and one Postgres backend can hold.
--   * History is append-only for everyone but the owner: agent.events and agent.facts cannot be
--     deleted, and the only change allowed is setting a fact's end (valid_to) or an event's
--     promoted fact, once.
--   * Client isolation fails closed: agent_service and dashboard_reader tokens without a
--     client_id claim see and write no client's rows; working across clients is the separate role
--     agent_cross_client. A scheduler run can only point at a plan of its own client, and another
--     client's plan id fails exactly like an id that does not exist.
--   * Side channels: Prefer: count=planned / count=estimated are refused (they reveal table sizes
--     past row-level security); tokens living longer than 90 days are refused.
--   * API roles get no temporary tables (TEMPORARY revoked from PUBLIC on this database) and run
--     with work_mem 2MB, as on the droplet.
--
-- Roles are cluster-wide and this file runs once per database (the test cluster runs it in many):
-- role statements are idempotent and write only when something differs, as in 003.
-- Requires 001-003. No BEGIN/COMMIT.

SET lock_timeout = '5s';

-- ---------------------------------------------------------------------------------------------
-- The cross-client role and per-role settings (cluster-wide, idempotent)
-- ---------------------------------------------------------------------------------------------

-- Cluster-wide, as in 003: PostgREST applies only those per request. Writes only when missing.
CREATE FUNCTION pg_temp.ensure_role_setting(role_name text, setting text, setting_value text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT EXISTS (
    SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
     WHERE r.rolname = role_name AND s.setdatabase = 0 AND setting || '=' || setting_value = ANY (s.setconfig)
  ) THEN
    EXECUTE format('ALTER ROLE %I SET %I = %L', role_name, setting, setting_value);
  END IF;
END;
$$;

CREATE FUNCTION pg_temp.ensure_role_comment(role_name text, purpose text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = role_name), 'pg_authid') IS DISTINCT FROM purpose THEN
    EXECUTE format('COMMENT ON ROLE %I IS %L', role_name, purpose);
  END IF;
END;
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agent_cross_client') THEN
    CREATE ROLE agent_cross_client NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  PERFORM pg_temp.ensure_role_comment('agent_cross_client',
    'JWT role for agent services that work across clients (operators, sweeps): reads and writes every client''s agent rows (events and facts append-only), reads erp. Not client-scoped.');
  IF NOT pg_has_role('authenticator', 'agent_cross_client', 'MEMBER') THEN
    GRANT agent_cross_client TO authenticator;
  END IF;
  PERFORM pg_temp.ensure_role_setting('agent_cross_client', 'statement_timeout', '5s');
  -- 003's descriptions predate the client scope.
  PERFORM pg_temp.ensure_role_comment('dashboard_reader',
    'JWT role for dashboards: reads every erp and agent table (agent client rows only of the token''s client_id), writes nothing.');
  PERFORM pg_temp.ensure_role_comment('agent_service',
    'JWT role for agent services acting for one client (the token''s client_id): reads and writes the agent tables, events and facts append-only; reads erp.');
  -- work_mem is per sort or hash node; 2MB matches deploy/postgresql.conf, so a local or test
  -- cluster (default 4MB) plans and spills like the droplet. Given in kB without a unit:
  -- PostgREST 12 lower-cases role setting values, and Postgres refuses "2mb".
  -- Memoize would compute an embedded list once and repeat it under every parent row that
  -- shares it, unread and so uncharged by the read budget (below): 300 events embedding their
  -- session's 1,000 events would build 300,000 rows of JSON from 1,000 rows read.
  PERFORM pg_temp.ensure_role_setting(api_role, setting, setting_value)
     FROM unnest(ARRAY['web_anon', 'erp_editor', 'dashboard_reader', 'agent_service', 'agent_cross_client']) AS api_role,
          (VALUES ('work_mem', '2048'), ('enable_memoize', 'off')) AS s (setting, setting_value);
END;
$$;

-- The runner applies later files on the same connection; leave no helper behind to collide with.
DROP FUNCTION pg_temp.ensure_role_setting(text, text, text);
DROP FUNCTION pg_temp.ensure_role_comment(text, text);

-- No temporary tables for anyone but the owner (who keeps every privilege on its database).
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Per-role limits
-- ---------------------------------------------------------------------------------------------

COMMENT ON SCHEMA postgrest IS
  'Support for the HTTP layer, not served by it: the check PostgREST runs before every request (db-pre-request), the per-role request limits and the functions that enforce them.';

CREATE TABLE postgrest.api_role_limits (
  role_name          name NOT NULL,
  max_changed_rows   integer NOT NULL,
  read_budget_bytes  bigint NOT NULL,
  CONSTRAINT api_role_limits_pkey PRIMARY KEY (role_name),
  CONSTRAINT api_role_limits_max_changed_rows_check CHECK (max_changed_rows >= 0),
  CONSTRAINT api_role_limits_read_budget_bytes_check CHECK (read_budget_bytes > 0)
);
COMMENT ON TABLE postgrest.api_role_limits IS
  'What one HTTP request of each API role may do: change at most max_changed_rows rows (PATCH, DELETE, upsert) and read at most read_budget_bytes bytes of rows. Every role granted to authenticator must be listed (a test checks); an API role missing here reads nothing.';
COMMENT ON COLUMN postgrest.api_role_limits.role_name IS 'The API role (a JWT role or web_anon).';
COMMENT ON COLUMN postgrest.api_role_limits.max_changed_rows IS
  'Most rows one request may update or delete; a request that would change more is refused and changes nothing.';
COMMENT ON COLUMN postgrest.api_role_limits.read_budget_bytes IS
  'Most bytes of table rows one request may read (embedded rows and rows scanned by unindexed filters included); a request reading more is refused.';
COMMENT ON CONSTRAINT api_role_limits_max_changed_rows_check ON postgrest.api_role_limits IS
  'The number of rows a request may change cannot be negative.';
COMMENT ON CONSTRAINT api_role_limits_read_budget_bytes_check ON postgrest.api_role_limits IS
  'A read budget must be a positive number of bytes.';

-- 4 MB of rows is about 13,000 events or 1,000-row pages of any table with room to spare; the
-- JSON built from it stays far below PostgREST's 80 MB heap and a backend's 64 MB budget.
INSERT INTO postgrest.api_role_limits (role_name, max_changed_rows, read_budget_bytes) VALUES
  ('web_anon', 0, 65536),
  ('erp_editor', 20, 4194304),
  ('dashboard_reader', 0, 4194304),
  ('agent_service', 20, 4194304),
  ('agent_cross_client', 20, 4194304);

GRANT SELECT ON postgrest.api_role_limits TO web_anon, erp_editor, dashboard_reader, agent_service, agent_cross_client;

-- ---------------------------------------------------------------------------------------------
-- No mass writes: a per-statement count of changed rows, for requests through PostgREST
-- ---------------------------------------------------------------------------------------------

-- Runs before each UPDATE/DELETE statement a PostgREST request makes (request.method is set only
-- there): notes how many rows the statement may still change. Cascades (pg_trigger_depth() > 0)
-- follow the schema's ON DELETE rules and are not counted. A role not in api_role_limits is not
-- counted: that is the owner running a SECURITY DEFINER function called over /rpc/, whose writes
-- are the function's design, not a client's filter (a test checks every API role is listed).
CREATE FUNCTION postgrest.start_changed_row_count()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  allowed integer;
BEGIN
  SELECT max_changed_rows INTO allowed FROM postgrest.api_role_limits WHERE role_name = current_user;
  PERFORM set_config('postgrest.changed_rows_left', coalesce(allowed::text, ''), true);
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION postgrest.start_changed_row_count() IS
  'BEFORE UPDATE OR DELETE statement trigger on every erp and agent table, for PostgREST requests only: starts the count of rows the statement may still change (postgrest.api_role_limits.max_changed_rows; roles not listed there are not counted).';

CREATE FUNCTION postgrest.count_changed_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  rows_left integer := nullif(current_setting('postgrest.changed_rows_left', true), '')::integer - 1;
  allowed integer;
BEGIN
  IF rows_left < 0 THEN
    SELECT max_changed_rows INTO allowed FROM postgrest.api_role_limits WHERE role_name = current_user;
    RAISE EXCEPTION 'This request would % more than % rows of %.%, the most one % request may change',
        CASE TG_OP WHEN 'DELETE' THEN 'delete' ELSE 'change' END, coalesce(allowed, 0),
        TG_TABLE_SCHEMA, TG_TABLE_NAME, current_user
      USING DETAIL = 'Nothing was changed.',
            HINT = 'Filter the request to the rows you mean (e.g. ?id=in.(1,2,3)) and change more rows in several requests.';
  END IF;
  IF rows_left IS NOT NULL THEN
    PERFORM set_config('postgrest.changed_rows_left', rows_left::text, true);
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
COMMENT ON FUNCTION postgrest.count_changed_row() IS
  'BEFORE UPDATE OR DELETE row trigger on every erp and agent table, for PostgREST requests only: refuses the whole statement at the first row past the role''s max_changed_rows.';

-- ---------------------------------------------------------------------------------------------
-- Bounded reads: a per-request budget of bytes read, charged by a row-level security policy
-- ---------------------------------------------------------------------------------------------

-- Charged for every row an API role's query reads from an erp or agent table, embedded levels
-- and rows scanned by unindexed filters included; the budget lives for the transaction, which
-- PostgREST makes one per request. Refusing at the first row past the budget keeps the backend's
-- JSON (and so PostgREST's buffered response) bounded whatever the select asks for.
CREATE FUNCTION postgrest.charge_read(row_bytes integer)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
  bytes_left bigint := nullif(current_setting('postgrest.read_bytes_left', true), '')::bigint;
  budget bigint;
BEGIN
  IF bytes_left IS NULL THEN
    SELECT read_budget_bytes INTO budget FROM postgrest.api_role_limits WHERE role_name = current_user;
    bytes_left := coalesce(budget, 0);
  END IF;
  bytes_left := bytes_left - row_bytes;
  IF bytes_left < 0 THEN
    SELECT read_budget_bytes INTO budget FROM postgrest.api_role_limits WHERE role_name = current_user;
    RAISE EXCEPTION 'This request reads more than % kB of rows, the most one % request may read',
        coalesce(budget, 0) / 1024, current_user
      USING DETAIL = 'Embedded levels multiply the rows read; so do filters and orderings no index serves.',
            HINT = 'Ask for fewer rows (limit), fewer embedded levels, or filter on indexed columns (id, foreign keys, dates).';
  END IF;
  PERFORM set_config('postgrest.read_bytes_left', bytes_left::text, true);
  RETURN true;
END;
$$;
COMMENT ON FUNCTION postgrest.charge_read(integer) IS
  'Row-level security check of every erp and agent table for the API roles (policy read_budget): charges the row''s size to the request''s read budget (postgrest.api_role_limits.read_budget_bytes) and refuses the request once it is spent.';
GRANT EXECUTE ON FUNCTION postgrest.charge_read(integer) TO web_anon, erp_editor, dashboard_reader, agent_service, agent_cross_client;

DO $$
DECLARE
  client_tables constant text[] := ARRAY['client_profiles', 'memory_entries', 'memory_facts', 'working_state', 'episodes',
                                         'webhook_executions', 'plans', 'scheduler_runs'];
  api_roles constant text := 'web_anon, erp_editor, dashboard_reader, agent_service, agent_cross_client';
  target record;
BEGIN
  FOR target IN
    SELECT n.nspname AS schema_name, c.relname AS table_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r'
     ORDER BY 1, 2
  LOOP
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', target.schema_name, target.table_name);
    IF NOT (target.schema_name = 'agent' AND target.table_name = ANY (client_tables)) THEN
      EXECUTE format('CREATE POLICY every_row ON %I.%I USING (true) WITH CHECK (true)', target.schema_name, target.table_name);
      EXECUTE format('COMMENT ON POLICY every_row ON %I.%I IS %L', target.schema_name, target.table_name,
        'Rows belong to no client: the grants alone decide who reads and writes them.');
    END IF;
    EXECUTE format('CREATE POLICY read_budget ON %I.%I AS RESTRICTIVE FOR SELECT TO %s USING (postgrest.charge_read(pg_column_size(%I.*)))',
      target.schema_name, target.table_name, api_roles, target.table_name);
    EXECUTE format('COMMENT ON POLICY read_budget ON %I.%I IS %L', target.schema_name, target.table_name,
      'Every row an API role reads is charged to the request''s read budget (postgrest.charge_read); a request past it is refused.');

    EXECUTE format(
      $trigger$CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I.%I FOR EACH STATEMENT
                 WHEN (pg_trigger_depth() = 0 AND coalesce(current_setting('request.method', true), '') <> '')
                 EXECUTE FUNCTION postgrest.start_changed_row_count()$trigger$,
      target.table_name || '_start_api_change_count', target.schema_name, target.table_name);
    EXECUTE format(
      $trigger$CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I.%I FOR EACH ROW
                 WHEN (pg_trigger_depth() = 0 AND coalesce(current_setting('request.method', true), '') <> '')
                 EXECUTE FUNCTION postgrest.count_changed_row()$trigger$,
      target.table_name || '_count_api_change', target.schema_name, target.table_name);
  END LOOP;

  -- Client isolation that fails closed: the scoped roles see a client's rows only with that
  -- client's claim; the cross-client role and the direct service logins see every client.
  FOREACH target.table_name IN ARRAY client_tables LOOP
    EXECUTE format('DROP POLICY client_scope ON agent.%I', target.table_name);
    EXECUTE format(
      $policy$CREATE POLICY one_client ON agent.%I TO agent_service, dashboard_reader
                 USING (client_id = (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id'))$policy$,
      target.table_name);
    EXECUTE format('COMMENT ON POLICY one_client ON agent.%I IS %L', target.table_name,
      'agent_service and dashboard_reader see and write only the rows of the client named by the token''s client_id claim; without the claim, none.');
    EXECUTE format('CREATE POLICY every_client ON agent.%I TO agent_cross_client, planner_api, memory_gateway USING (true) WITH CHECK (true)',
      target.table_name);
    EXECUTE format('COMMENT ON POLICY every_client ON agent.%I IS %L', target.table_name,
      'agent_cross_client and the direct service logins work across clients. Any other role sees no client''s rows.');
  END LOOP;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- The cross-client role's privileges: those of agent_service, without the client scope
-- ---------------------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA postgrest TO agent_cross_client;
GRANT EXECUTE ON FUNCTION postgrest.check_request() TO agent_cross_client;
GRANT USAGE ON SCHEMA erp, agent TO agent_cross_client;
GRANT SELECT ON ALL TABLES IN SCHEMA erp TO agent_cross_client;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA agent TO agent_cross_client;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA agent TO agent_cross_client;
GRANT EXECUTE ON FUNCTION agent.get_graph_neighbors(bigint) TO agent_cross_client;

-- ---------------------------------------------------------------------------------------------
-- Append-only history: agent.events and agent.facts
-- ---------------------------------------------------------------------------------------------

REVOKE UPDATE, DELETE ON agent.events, agent.facts FROM agent_service, agent_cross_client;
GRANT UPDATE (promoted_fact_id) ON agent.events TO agent_service, agent_cross_client;
GRANT UPDATE (valid_to) ON agent.facts TO agent_service, agent_cross_client;

CREATE FUNCTION agent.keep_history_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- The one column a writer may set, once: a fact's end, an event's promoted fact.
  settable constant text := CASE TG_TABLE_NAME WHEN 'facts' THEN 'valid_to' ELSE 'promoted_fact_id' END;
BEGIN
  -- The owner (migrations, the CLI, corrections) and the foreign keys' own actions may.
  IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'agent.% is history: rows are never deleted', TG_TABLE_NAME
      USING HINT = CASE TG_TABLE_NAME WHEN 'facts' THEN 'End a fact that no longer holds by setting its valid_to.' END;
  END IF;
  IF (to_jsonb(NEW) - settable - 'updated_at') IS DISTINCT FROM (to_jsonb(OLD) - settable - 'updated_at') THEN
    RAISE EXCEPTION 'agent.% is history: only % may be set, nothing else changed', TG_TABLE_NAME, settable;
  END IF;
  IF to_jsonb(OLD) -> settable <> 'null'::jsonb AND to_jsonb(NEW) -> settable IS DISTINCT FROM to_jsonb(OLD) -> settable THEN
    RAISE EXCEPTION 'agent.%.% is already set and cannot be changed again', TG_TABLE_NAME, settable;
  END IF;
  RETURN NEW;
END;
$$;
COMMENT ON FUNCTION agent.keep_history_append_only() IS
  'BEFORE UPDATE OR DELETE row trigger of agent.events and agent.facts: for every role but the owner, rows are never deleted and only a fact''s valid_to or an event''s promoted_fact_id may be set, once.';
CREATE TRIGGER events_keep_append_only BEFORE UPDATE OR DELETE ON agent.events
  FOR EACH ROW EXECUTE FUNCTION agent.keep_history_append_only();
CREATE TRIGGER facts_keep_append_only BEFORE UPDATE OR DELETE ON agent.facts
  FOR EACH ROW EXECUTE FUNCTION agent.keep_history_append_only();

-- ---------------------------------------------------------------------------------------------
-- A scheduler run belongs to the client of its plan
-- ---------------------------------------------------------------------------------------------

ALTER TABLE agent.plans ADD CONSTRAINT plans_client_id_id_key UNIQUE (client_id, id);
ALTER TABLE agent.scheduler_runs
  ADD CONSTRAINT scheduler_runs_client_id_plan_id_fkey FOREIGN KEY (client_id, plan_id)
    REFERENCES agent.plans (client_id, id) ON DELETE RESTRICT NOT VALID;
ALTER TABLE agent.scheduler_runs VALIDATE CONSTRAINT scheduler_runs_client_id_plan_id_fkey;
CREATE INDEX scheduler_runs_client_id_plan_id_idx ON agent.scheduler_runs (client_id, plan_id);
COMMENT ON CONSTRAINT scheduler_runs_client_id_plan_id_fkey ON agent.scheduler_runs IS
  'ON DELETE RESTRICT: as scheduler_runs_plan_id_fkey. A client''s scheduler run schedules a plan of the same client; another client''s plan id fails exactly like one that does not exist.';
-- Foreign keys are checked in the order they were created. Re-created after the client-aware key,
-- the plain one is checked second, so a missing plan and another client's plan give one error.
ALTER TABLE agent.scheduler_runs DROP CONSTRAINT scheduler_runs_plan_id_fkey;
ALTER TABLE agent.scheduler_runs
  ADD CONSTRAINT scheduler_runs_plan_id_fkey FOREIGN KEY (plan_id)
    REFERENCES agent.plans (id) ON DELETE RESTRICT NOT VALID;
ALTER TABLE agent.scheduler_runs VALIDATE CONSTRAINT scheduler_runs_plan_id_fkey;
COMMENT ON CONSTRAINT scheduler_runs_plan_id_fkey ON agent.scheduler_runs IS
  'ON DELETE RESTRICT: a plan with scheduler runs cannot be deleted; the runs record what was scheduled.';

-- ---------------------------------------------------------------------------------------------
-- The pre-request check, extended: side channels and token lifetime
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION postgrest.check_request()
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  headers jsonb := nullif(current_setting('request.headers', true), '')::jsonb;
  longest_lifetime constant interval := '90 days';
BEGIN
  -- Planned and estimated counts come from table statistics, past row-level security.
  IF headers ->> 'prefer' ~* 'count\s*=\s*(planned|estimated)' THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'Planned and estimated counts are not served',
      HINT = 'Ask for Prefer: count=exact; it counts only the rows you may see.';
  END IF;
  -- No token: the request runs as web_anon, which can read nothing. (The claims cannot tell:
  -- PostgREST fills in {"role": "web_anon"} then, exactly what a token could say.)
  IF headers ->> 'authorization' IS NULL THEN
    RETURN;
  END IF;
  -- PostgREST 12 checks aud and exp only when they are present.
  IF NOT claims ? 'aud' THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT has no aud claim', HINT = 'Mint tokens with `erp token`: they carry aud and exp.';
  END IF;
  IF NOT claims ? 'exp' THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT has no exp claim', HINT = 'Tokens must expire; mint them with `erp token --expires`.';
  END IF;
  IF jsonb_typeof(claims -> 'exp') <> 'number' OR to_timestamp((claims ->> 'exp')::double precision) > now() + longest_lifetime THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT lives too long: tokens expire within 90 days',
      HINT = 'Mint a new token with `erp token --expires 90d` or less.';
  END IF;
  IF claims ? 'client_id' AND (jsonb_typeof(claims -> 'client_id') <> 'string' OR btrim(claims ->> 'client_id') = '') THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT claim client_id must be a non-empty string';
  END IF;
END;
$$;
COMMENT ON FUNCTION postgrest.check_request() IS
  'PostgREST db-pre-request: refuses (HTTP 401) a token without aud or exp, which PostgREST 12 accepts, one expiring more than 90 days ahead, and a client_id claim that is not a non-empty string; refuses (400) planned and estimated counts.';

-- A running PostgREST reloads its schema cache and sees the new privileges.
NOTIFY pgrst, 'reload schema';
