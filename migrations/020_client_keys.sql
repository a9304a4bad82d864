-- erp:no-transaction
-- 020_client_keys.sql
--
-- No existence oracle through keys, and an agent schema distributable by client_id as written
-- (issue 23 point 3, issue 26 point 5; docs/API.md "Keys are per client", docs/SCALING.md).
--
-- A text key unique across clients (global_id, graph_nodes.node_id, artifacts' source_system +
-- external_id, ...) told a client token whether another client used a value: 409 for a taken
-- one, 201 for a free one. From 021 on every primary key, unique key and unique index of a client
-- table (the agent tables with a client_id, docs/API.md) leads with client_id, every foreign key
-- between client tables is (client_id, <link>) -> (client_id, id), and client_id is NOT NULL: the
-- same key can exist once per client, and a row can only ever point at its own client's rows.
-- test/schema/distributable.test.ts checks it on the catalog.
--
-- This file prepares without holding long locks; 021 switches the keys over:
--   * refuses to start while a client table holds rows without a client (016 left existing rows
--     so): an operator gives them their client first;
--   * NOT NULL checks on client_id, NOT VALID (021 validates them, then SET NOT NULL uses them);
--   * the new indexes, built CONCURRENTLY (hence no transaction; every statement can run again
--     after a failure half-way: unfinished builds are dropped first, finished ones kept);
--   * the client-aware foreign keys of 016 (and 008) move onto the new (client_id, id) indexes
--     (re-created NOT VALID, validated by 021), and the plain id-only twins go: with client_id NOT
--     NULL the client-aware key checks every link alone;
--   * erp.execution_runs.session_id keeps its value but loses its foreign key: a key from erp into
--     a client table cannot be expressed once agent.sessions is keyed by (client_id, id), and
--     would tie erp to the machine holding the session (docs/SCALING.md).

SET lock_timeout = '5s';

-- Rows without a client cannot take part in keys led by client_id: stop before changing anything.
DO $$
DECLARE
  client_table record;
  without_client bigint;
  orphans text[] := '{}';
BEGIN
  FOR client_table IN
    SELECT c.relname AS table_name
      FROM pg_class c
     WHERE c.relnamespace = 'agent'::regnamespace AND c.relkind = 'r'
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped)
     ORDER BY 1
  LOOP
    EXECUTE format('SELECT count(*) FROM agent.%I WHERE client_id IS NULL', client_table.table_name) INTO without_client;
    IF without_client > 0 THEN
      orphans := orphans || format('%s (%s rows)', client_table.table_name, without_client);
    END IF;
  END LOOP;
  IF cardinality(orphans) > 0 THEN
    RAISE EXCEPTION 'agent rows without a client: %', array_to_string(orphans, ', ')
      USING HINT = 'Give each its client (UPDATE agent.<table> SET client_id = ''<client>'' WHERE client_id IS NULL AND ...) or delete it, then run the migration again; nothing was changed.';
  END IF;
END;
$$;

-- A run that failed half-way may have left an index build unfinished: such an index is invalid
-- and of no use, so it goes, and the builds below (IF NOT EXISTS) redo exactly what is missing.
-- A finished one stays: once the foreign keys below stand on it, it could not be dropped anyway.
DO $$
DECLARE
  unfinished record;
BEGIN
  FOR unfinished IN
    SELECT i.indexrelid::regclass AS index_name
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'agent'::regnamespace AND NOT i.indisvalid
  LOOP
    EXECUTE format('DROP INDEX %s', unfinished.index_name);
  END LOOP;
END;
$$;

-- client_id may no longer be NULL: new rows are checked from here on, existing ones by 021.
ALTER TABLE agent.webhook_executions DROP CONSTRAINT IF EXISTS webhook_executions_client_id_not_null, ADD CONSTRAINT webhook_executions_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT webhook_executions_client_id_not_null ON agent.webhook_executions IS 'Every row belongs to a client.';
ALTER TABLE agent.plans DROP CONSTRAINT IF EXISTS plans_client_id_not_null, ADD CONSTRAINT plans_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT plans_client_id_not_null ON agent.plans IS 'Every row belongs to a client.';
ALTER TABLE agent.scheduler_runs DROP CONSTRAINT IF EXISTS scheduler_runs_client_id_not_null, ADD CONSTRAINT scheduler_runs_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT scheduler_runs_client_id_not_null ON agent.scheduler_runs IS 'Every row belongs to a client.';
ALTER TABLE agent.sessions DROP CONSTRAINT IF EXISTS sessions_client_id_not_null, ADD CONSTRAINT sessions_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT sessions_client_id_not_null ON agent.sessions IS 'Every row belongs to a client.';
ALTER TABLE agent.events DROP CONSTRAINT IF EXISTS events_client_id_not_null, ADD CONSTRAINT events_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT events_client_id_not_null ON agent.events IS 'Every row belongs to a client.';
ALTER TABLE agent.facts DROP CONSTRAINT IF EXISTS facts_client_id_not_null, ADD CONSTRAINT facts_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT facts_client_id_not_null ON agent.facts IS 'Every row belongs to a client.';
ALTER TABLE agent.goals DROP CONSTRAINT IF EXISTS goals_client_id_not_null, ADD CONSTRAINT goals_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT goals_client_id_not_null ON agent.goals IS 'Every row belongs to a client.';
ALTER TABLE agent.reflections DROP CONSTRAINT IF EXISTS reflections_client_id_not_null, ADD CONSTRAINT reflections_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT reflections_client_id_not_null ON agent.reflections IS 'Every row belongs to a client.';
ALTER TABLE agent.step_evaluations DROP CONSTRAINT IF EXISTS step_evaluations_client_id_not_null, ADD CONSTRAINT step_evaluations_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT step_evaluations_client_id_not_null ON agent.step_evaluations IS 'Every row belongs to a client.';
ALTER TABLE agent.artifacts DROP CONSTRAINT IF EXISTS artifacts_client_id_not_null, ADD CONSTRAINT artifacts_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT artifacts_client_id_not_null ON agent.artifacts IS 'Every row belongs to a client.';
ALTER TABLE agent.graph_nodes DROP CONSTRAINT IF EXISTS graph_nodes_client_id_not_null, ADD CONSTRAINT graph_nodes_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT graph_nodes_client_id_not_null ON agent.graph_nodes IS 'Every row belongs to a client.';
ALTER TABLE agent.graph_edges DROP CONSTRAINT IF EXISTS graph_edges_client_id_not_null, ADD CONSTRAINT graph_edges_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT graph_edges_client_id_not_null ON agent.graph_edges IS 'Every row belongs to a client.';
ALTER TABLE agent.blocks DROP CONSTRAINT IF EXISTS blocks_client_id_not_null, ADD CONSTRAINT blocks_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT blocks_client_id_not_null ON agent.blocks IS 'Every row belongs to a client.';
ALTER TABLE agent.block_actions DROP CONSTRAINT IF EXISTS block_actions_client_id_not_null, ADD CONSTRAINT block_actions_client_id_not_null CHECK (client_id IS NOT NULL) NOT VALID;
COMMENT ON CONSTRAINT block_actions_client_id_not_null ON agent.block_actions IS 'Every row belongs to a client.';

-- The primary keys of 021: (client_id, id).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS client_profiles_client_id_id_pkey ON agent.client_profiles (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS memory_entries_client_id_id_pkey ON agent.memory_entries (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS memory_facts_client_id_id_pkey ON agent.memory_facts (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS working_state_client_id_id_pkey ON agent.working_state (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS episodes_client_id_id_pkey ON agent.episodes (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS webhook_executions_client_id_id_pkey ON agent.webhook_executions (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS plans_client_id_id_pkey ON agent.plans (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS scheduler_runs_client_id_id_pkey ON agent.scheduler_runs (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS sessions_client_id_id_pkey ON agent.sessions (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_client_id_id_pkey ON agent.events (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS facts_client_id_id_pkey ON agent.facts (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS goals_client_id_id_pkey ON agent.goals (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS reflections_client_id_id_pkey ON agent.reflections (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS step_evaluations_client_id_id_pkey ON agent.step_evaluations (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS artifacts_client_id_id_pkey ON agent.artifacts (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS graph_nodes_client_id_id_pkey ON agent.graph_nodes (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS graph_edges_client_id_id_pkey ON agent.graph_edges (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS blocks_client_id_id_pkey ON agent.blocks (client_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS block_actions_client_id_id_pkey ON agent.block_actions (client_id, id);

-- Lookups by id alone (the cross-client role, the service logins, agent.get_graph_neighbors,
-- joins on an id) keep an index once the primary key leads with client_id; not unique, so no
-- key across clients. Likewise graph_edges' outgoing edges, which the old unique key served.
CREATE INDEX CONCURRENTLY IF NOT EXISTS client_profiles_id_idx ON agent.client_profiles (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS memory_entries_id_idx ON agent.memory_entries (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS memory_facts_id_idx ON agent.memory_facts (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS working_state_id_idx ON agent.working_state (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS episodes_id_idx ON agent.episodes (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_executions_id_idx ON agent.webhook_executions (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS plans_id_idx ON agent.plans (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS scheduler_runs_id_idx ON agent.scheduler_runs (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_id_idx ON agent.sessions (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_id_idx ON agent.events (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS facts_id_idx ON agent.facts (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS goals_id_idx ON agent.goals (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS reflections_id_idx ON agent.reflections (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS step_evaluations_id_idx ON agent.step_evaluations (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS artifacts_id_idx ON agent.artifacts (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS graph_nodes_id_idx ON agent.graph_nodes (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS graph_edges_id_idx ON agent.graph_edges (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS blocks_id_idx ON agent.blocks (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS block_actions_id_idx ON agent.block_actions (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS graph_edges_from_node_id_idx ON agent.graph_edges (from_node_id);

-- Text keys unique per client instead of across clients (constraints from 021 on).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS sessions_client_id_global_id_key ON agent.sessions (client_id, global_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS facts_client_id_global_id_key ON agent.facts (client_id, global_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS goals_client_id_global_id_key ON agent.goals (client_id, global_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS artifacts_client_id_global_id_key ON agent.artifacts (client_id, global_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS artifacts_client_id_source_system_external_id_key ON agent.artifacts (client_id, source_system, external_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS blocks_client_id_global_id_key ON agent.blocks (client_id, global_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS graph_nodes_client_id_node_id_key ON agent.graph_nodes (client_id, node_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS graph_edges_client_id_from_node_id_to_node_id_edge_type_key ON agent.graph_edges (client_id, from_node_id, to_node_id, edge_type);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS block_actions_client_id_block_id_is_default_key ON agent.block_actions (client_id, block_id) WHERE is_default;
COMMENT ON INDEX agent.block_actions_client_id_block_id_is_default_key IS 'At most one default action per block (is_default = true).';
DROP INDEX CONCURRENTLY IF EXISTS agent.block_actions_block_id_is_default_key;

-- The client-aware foreign keys move onto the new (client_id, id) indexes: each key bound to a
-- <table>_client_id_id_key constraint is dropped and re-created NOT VALID (same name, rule and
-- comment), then those constraints go. One statement, so one transaction: no link goes unchecked
-- in between. Found in the catalog, so a rerun after success finds nothing left to move.
DO $$
DECLARE
  link record;
  old_key record;
  moved jsonb := '[]';
BEGIN
  FOR link IN
    SELECT c.conrelid::regclass AS child, c.conname, pg_get_constraintdef(c.oid) AS definition,
           obj_description(c.oid, 'pg_constraint') AS comment
      FROM pg_constraint c
      JOIN pg_constraint k ON k.conindid = c.conindid AND k.conrelid = c.confrelid AND k.contype = 'u'
     WHERE c.contype = 'f' AND c.confrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'agent'::regnamespace)
       AND k.conname = (SELECT relname FROM pg_class WHERE oid = c.confrelid) || '_client_id_id_key'
     ORDER BY 1, 2
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', link.child, link.conname);
    moved := moved || jsonb_build_object('child', link.child::text, 'name', link.conname, 'definition', link.definition,
                                         'comment', link.comment);
  END LOOP;
  FOR old_key IN
    SELECT k.conrelid::regclass AS parent, k.conname
      FROM pg_constraint k JOIN pg_class p ON p.oid = k.conrelid
     WHERE p.relnamespace = 'agent'::regnamespace AND k.contype = 'u' AND k.conname = p.relname || '_client_id_id_key'
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', old_key.parent, old_key.conname);
  END LOOP;
  FOR link IN SELECT * FROM jsonb_to_recordset(moved) AS m (child text, name text, definition text, comment text) LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', link.child, link.name, link.definition);
    EXECUTE format('COMMENT ON CONSTRAINT %I ON %s IS %L', link.name, link.child, link.comment);
  END LOOP;
END;
$$;

-- The plain id-only twins, checked after the client-aware keys since 016 (and 008): with
-- client_id NOT NULL the client-aware key alone refuses a missing id and another client's id.
ALTER TABLE agent.events DROP CONSTRAINT IF EXISTS events_session_id_fkey;
ALTER TABLE agent.events DROP CONSTRAINT IF EXISTS events_promoted_fact_id_fkey;
ALTER TABLE agent.facts DROP CONSTRAINT IF EXISTS facts_source_event_id_fkey;
ALTER TABLE agent.goals DROP CONSTRAINT IF EXISTS goals_parent_goal_id_fkey;
ALTER TABLE agent.reflections DROP CONSTRAINT IF EXISTS reflections_session_id_fkey;
ALTER TABLE agent.graph_edges DROP CONSTRAINT IF EXISTS graph_edges_from_node_id_fkey;
ALTER TABLE agent.graph_edges DROP CONSTRAINT IF EXISTS graph_edges_to_node_id_fkey;
ALTER TABLE agent.blocks DROP CONSTRAINT IF EXISTS blocks_artifact_id_fkey;
ALTER TABLE agent.block_actions DROP CONSTRAINT IF EXISTS block_actions_block_id_fkey;
ALTER TABLE agent.episodes DROP CONSTRAINT IF EXISTS episodes_session_id_fkey;
ALTER TABLE agent.scheduler_runs DROP CONSTRAINT IF EXISTS scheduler_runs_plan_id_fkey;

ALTER TABLE erp.execution_runs DROP CONSTRAINT IF EXISTS execution_runs_session_id_fkey;
COMMENT ON COLUMN erp.execution_runs.session_id IS
  'The agent session that ran this (agent.sessions.id), NULL if none. No foreign key since 020: agent.sessions is keyed per client (client_id, id) and may live on other machines (docs/SCALING.md); a deleted session leaves the id behind.';
