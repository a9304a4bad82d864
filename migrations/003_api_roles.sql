-- 003_api_roles.sql
--
-- Roles and privileges for the HTTP API (PostgREST) and for the internal services that connect
-- directly on the private network. Who may do what (docs/API.md explains each choice):
--
--   role              login  erp                          agent                                   used by
--   authenticator     yes    -                            -                                       PostgREST's connection; only switches role
--   web_anon          no     -                            -                                       requests without a token
--   erp_editor        no     read, write                  -                                       ToolJet
--   dashboard_reader  no     read                         read                                    dashboards
--   agent_service     no     read                         read, write                             agent services over HTTP
--   planner_api       yes    tasks: read, write           plans, sessions: read, write            the planner API
--   memory_gateway    yes    -                            events, facts, memory tables: read,     the memory gateway
--                                                         write (delete only expiring memory)
--
-- No role but the owner sees `pipeline` (migration bookkeeping, Coda lineage) or `public`.
-- "write" is INSERT and UPDATE, plus DELETE for the HTTP roles; never TRUNCATE, REFERENCES or
-- TRIGGER. Tables added by later migrations are visible to nobody until that migration grants
-- them (there are no default grants), and new functions are not executable by PUBLIC.
--
-- Row-level security: agent tables that carry a client_id (memory and planning) show a token
-- that has a `client_id` claim only that client's rows, and refuse writes for another client.
-- Tokens without the claim and the direct service connections are not client-scoped.
--
-- Passwords are never set here: `erp set-role-passwords` sets them at deploy time from
-- AUTHENTICATOR_PASSWORD, PLANNER_API_PASSWORD and MEMORY_GATEWAY_PASSWORD.
--
-- Roles are cluster-wide while this file runs once per database (the test cluster runs it in
-- many), so every role statement is idempotent and writes only when something differs: two
-- databases migrating at once must not update the same shared catalog row ("tuple concurrently
-- updated"). Requires 001 and 002, and a role with CREATEROLE (erp_admin). No BEGIN/COMMIT.

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-wide, idempotent)
-- ---------------------------------------------------------------------------------------------

-- Session-local helpers (pg_temp), dropped again once the roles are in place.
CREATE FUNCTION pg_temp.ensure_role(role_name text, can_login boolean, inherits boolean, connection_limit integer, purpose text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  attributes text := format('%s %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s',
    CASE WHEN can_login THEN 'LOGIN' ELSE 'NOLOGIN' END,
    CASE WHEN inherits THEN 'INHERIT' ELSE 'NOINHERIT' END,
    connection_limit);
  existing pg_roles;
BEGIN
  SELECT * INTO existing FROM pg_roles WHERE rolname = role_name;
  IF NOT FOUND THEN
    EXECUTE format('CREATE ROLE %I %s', role_name, attributes);
  ELSIF (existing.rolcanlogin, existing.rolinherit, existing.rolsuper, existing.rolcreatedb, existing.rolcreaterole,
         existing.rolreplication, existing.rolbypassrls, existing.rolconnlimit)
        IS DISTINCT FROM (can_login, inherits, false, false, false, false, false, connection_limit) THEN
    EXECUTE format('ALTER ROLE %I %s', role_name, attributes);
  END IF;
  IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = role_name), 'pg_authid') IS DISTINCT FROM purpose THEN
    EXECUTE format('COMMENT ON ROLE %I IS %L', role_name, purpose);
  END IF;
END;
$$;

-- Cluster-wide (not per database) because PostgREST applies only those per request.
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

CREATE FUNCTION pg_temp.ensure_membership(granted_role text, member_role text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT EXISTS (
    SELECT FROM pg_auth_members m
      JOIN pg_roles g ON g.oid = m.roleid
      JOIN pg_roles r ON r.oid = m.member
     WHERE g.rolname = granted_role AND r.rolname = member_role
  ) THEN
    EXECUTE format('GRANT %I TO %I', granted_role, member_role);
  END IF;
END;
$$;

DO $$
BEGIN
  -- Connection limits keep the sum under max_connections = 25 (deploy/postgresql.conf):
  -- PostgREST's pool of 10 plus its LISTEN connection, and a small pool per service.
  PERFORM pg_temp.ensure_role('authenticator', true, false, 12,
    'PostgREST logs in as this role and, per request, switches to the role of the JWT (web_anon without one). NOINHERIT: it has no privileges of its own.');
  PERFORM pg_temp.ensure_role('web_anon', false, true, -1,
    'HTTP requests without a token. Can read nothing.');
  PERFORM pg_temp.ensure_role('erp_editor', false, true, -1,
    'JWT role for ToolJet-style editing: reads and writes every erp table. No access to agent.');
  PERFORM pg_temp.ensure_role('dashboard_reader', false, true, -1,
    'JWT role for dashboards: reads every erp and agent table, writes nothing.');
  PERFORM pg_temp.ensure_role('agent_service', false, true, -1,
    'JWT role for agent services over HTTP: reads and writes every agent table, reads erp.');
  PERFORM pg_temp.ensure_role('planner_api', true, true, 4,
    'Login of the planner API (direct connection): reads and writes agent.plans, agent.sessions and erp.tasks, nothing else.');
  PERFORM pg_temp.ensure_role('memory_gateway', true, true, 4,
    'Login of the memory gateway (direct connection): reads and writes agent.events, agent.facts and the agent memory tables, nothing else.');

  PERFORM pg_temp.ensure_membership(api_role, 'authenticator')
     FROM unnest(ARRAY['web_anon', 'erp_editor', 'dashboard_reader', 'agent_service']) AS api_role;

  -- One heavy request must not hold the 300 MB database: PostgREST applies these per request.
  PERFORM pg_temp.ensure_role_setting('web_anon', 'statement_timeout', '1s');
  PERFORM pg_temp.ensure_role_setting(api_role, 'statement_timeout', '5s')
     FROM unnest(ARRAY['erp_editor', 'dashboard_reader', 'agent_service']) AS api_role;
  PERFORM pg_temp.ensure_role_setting(service_role, setting, setting_value)
     FROM unnest(ARRAY['planner_api', 'memory_gateway']) AS service_role,
          (VALUES ('statement_timeout', '15s'), ('idle_in_transaction_session_timeout', '60s')) AS s (setting, setting_value);
END;
$$;

-- The runner applies later files on the same connection; leave no helper behind to collide with.
DROP FUNCTION pg_temp.ensure_role(text, boolean, boolean, integer, text);
DROP FUNCTION pg_temp.ensure_role_setting(text, text, text);
DROP FUNCTION pg_temp.ensure_membership(text, text);

-- ---------------------------------------------------------------------------------------------
-- The pre-request check (schema postgrest: used by PostgREST, never exposed by it)
-- ---------------------------------------------------------------------------------------------

CREATE SCHEMA postgrest;
COMMENT ON SCHEMA postgrest IS
  'Support for the HTTP layer, not served by it: the check PostgREST runs before every request (db-pre-request).';

CREATE FUNCTION postgrest.check_request()
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
BEGIN
  -- No token: the request runs as web_anon, which can read nothing. (The claims cannot tell:
  -- PostgREST fills in {"role": "web_anon"} then, exactly what a token could say.)
  IF nullif(current_setting('request.headers', true), '')::jsonb ->> 'authorization' IS NULL THEN
    RETURN;
  END IF;
  -- PostgREST 12 checks aud and exp only when they are present.
  IF NOT claims ? 'aud' THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT has no aud claim', HINT = 'Mint tokens with `erp token`: they carry aud and exp.';
  END IF;
  IF NOT claims ? 'exp' THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT has no exp claim', HINT = 'Tokens must expire; mint them with `erp token --expires`.';
  END IF;
  IF claims ? 'client_id' AND (jsonb_typeof(claims -> 'client_id') <> 'string' OR btrim(claims ->> 'client_id') = '') THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT claim client_id must be a non-empty string';
  END IF;
END;
$$;
COMMENT ON FUNCTION postgrest.check_request() IS
  'PostgREST db-pre-request: refuses (HTTP 401) a token without aud or exp, which PostgREST 12 accepts, and a client_id claim that is not a non-empty string.';

-- ---------------------------------------------------------------------------------------------
-- Privileges (this database)
-- ---------------------------------------------------------------------------------------------

-- Functions are executable by PUBLIC unless revoked; trigger functions need no EXECUTE to fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA erp, agent, postgrest FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA postgrest TO web_anon, erp_editor, dashboard_reader, agent_service;
GRANT EXECUTE ON FUNCTION postgrest.check_request() TO web_anon, erp_editor, dashboard_reader, agent_service;

-- Identity columns draw from their sequence without this grant; it covers explicit nextval().
GRANT USAGE ON SCHEMA erp TO erp_editor, dashboard_reader, agent_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA erp TO erp_editor;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA erp TO erp_editor;
GRANT SELECT ON ALL TABLES IN SCHEMA erp TO dashboard_reader, agent_service;

GRANT USAGE ON SCHEMA agent TO dashboard_reader, agent_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA agent TO agent_service;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA agent TO agent_service;
GRANT SELECT ON ALL TABLES IN SCHEMA agent TO dashboard_reader;
GRANT EXECUTE ON FUNCTION agent.get_graph_neighbors(bigint) TO dashboard_reader, agent_service;

-- Direct service logins: only the tables each service works on.
GRANT USAGE ON SCHEMA erp, agent TO planner_api;
GRANT SELECT, INSERT, UPDATE ON erp.tasks, agent.plans, agent.sessions TO planner_api;
GRANT USAGE ON SEQUENCE erp.tasks_id_seq, agent.plans_id_seq, agent.sessions_id_seq TO planner_api;

GRANT USAGE ON SCHEMA agent TO memory_gateway;
GRANT SELECT, INSERT, UPDATE ON agent.events, agent.facts, agent.client_profiles, agent.memory_entries,
  agent.memory_facts, agent.working_state, agent.episodes, agent.webhook_executions TO memory_gateway;
-- Expired memory entries and obsolete working state are removed; history (events, facts) is not.
GRANT DELETE ON agent.memory_entries, agent.working_state TO memory_gateway;
GRANT USAGE ON SEQUENCE agent.events_id_seq, agent.facts_id_seq, agent.client_profiles_id_seq,
  agent.memory_entries_id_seq, agent.memory_facts_id_seq, agent.working_state_id_seq, agent.episodes_id_seq,
  agent.webhook_executions_id_seq TO memory_gateway;

-- ---------------------------------------------------------------------------------------------
-- Row-level security: one client's memory is not another's
-- ---------------------------------------------------------------------------------------------

-- request.jwt.claims is set by PostgREST for the request only (empty afterwards on a pooled
-- connection, absent on a direct connection): no client_id claim means not client-scoped. The
-- owner bypasses these policies (they are not FORCEd), so migrations and the Coda load are
-- unaffected. Rows with a NULL client_id belong to no client and are hidden from scoped tokens.
DO $$
DECLARE
  client_table text;
BEGIN
  FOREACH client_table IN ARRAY ARRAY['client_profiles', 'memory_entries', 'memory_facts', 'working_state', 'episodes',
                                      'webhook_executions', 'plans', 'scheduler_runs'] LOOP
    EXECUTE format('ALTER TABLE agent.%I ENABLE ROW LEVEL SECURITY', client_table);
    EXECUTE format(
      $policy$CREATE POLICY client_scope ON agent.%I
                 USING (client_id = (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id')
                        OR (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id') IS NULL)$policy$,
      client_table);
    EXECUTE format(
      'COMMENT ON POLICY client_scope ON agent.%I IS %L', client_table,
      'A token with a client_id claim sees and writes only that client''s rows; without the claim (and on direct service connections) every row.');
  END LOOP;
END;
$$;

-- A running PostgREST reloads its schema cache and sees the new privileges.
NOTIFY pgrst, 'reload schema';
