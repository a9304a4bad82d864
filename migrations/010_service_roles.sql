-- 010_service_roles.sql
--
-- The direct service logins get what docs/SERVICE_DATABASE_INTEGRATION.md tells them to run
-- (test/docs/examples.test.ts runs every documented query as the role named there):
--
--   planner_api     the planner plans work on projects: a person's projects, the agent sessions
--                   about a project, a plan with its tasks. 003 let it write tasks, plans and
--                   sessions but not read the projects they belong to, so both project queries
--                   failed. It now reads erp.projects; it still never writes one.
--   memory_gateway  reads the facts learnt in a session (agent.events, agent.facts): 003 already
--                   grants that. The doc no longer shows it the project queries, which are the
--                   planner's; it gets nothing in erp.
--
-- Least privilege: one SELECT, on a table that exists since 001. Roles are cluster-wide, so the
-- role comment is written only when it differs (two databases migrating at once must not update
-- the same shared catalog row). No BEGIN/COMMIT: the runner wraps the file in a transaction; it
-- also runs with plain psql.

SET lock_timeout = '5s';

GRANT SELECT ON erp.projects TO planner_api;

DO $$
DECLARE
  purpose constant text :=
    'Login of the planner API (direct connection): reads and writes agent.plans, agent.sessions and erp.tasks, reads erp.projects, nothing else.';
BEGIN
  IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'planner_api'), 'pg_authid') IS DISTINCT FROM purpose THEN
    EXECUTE format('COMMENT ON ROLE planner_api IS %L', purpose);
  END IF;
END;
$$;

-- A running PostgREST reloads its schema cache (the generated access matrix reads the grants).
NOTIFY pgrst, 'reload schema';
