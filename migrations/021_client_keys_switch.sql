-- 021_client_keys_switch.sql
--
-- The keys prepared by 020 take over (see its header): client_id NOT NULL on every client table,
-- primary keys (client_id, id), text keys unique per client, the client-aware foreign keys
-- validated. The checks and validations run first, while reads and writes go on; the switches
-- after them only change the catalog (the indexes exist, NOT NULL is proven by the checks), so the
-- ACCESS EXCLUSIVE locks they take last a moment.

SET lock_timeout = '5s';

ALTER TABLE agent.webhook_executions VALIDATE CONSTRAINT webhook_executions_client_id_not_null;
ALTER TABLE agent.plans VALIDATE CONSTRAINT plans_client_id_not_null;
ALTER TABLE agent.scheduler_runs VALIDATE CONSTRAINT scheduler_runs_client_id_not_null;
ALTER TABLE agent.sessions VALIDATE CONSTRAINT sessions_client_id_not_null;
ALTER TABLE agent.events VALIDATE CONSTRAINT events_client_id_not_null;
ALTER TABLE agent.facts VALIDATE CONSTRAINT facts_client_id_not_null;
ALTER TABLE agent.goals VALIDATE CONSTRAINT goals_client_id_not_null;
ALTER TABLE agent.reflections VALIDATE CONSTRAINT reflections_client_id_not_null;
ALTER TABLE agent.step_evaluations VALIDATE CONSTRAINT step_evaluations_client_id_not_null;
ALTER TABLE agent.artifacts VALIDATE CONSTRAINT artifacts_client_id_not_null;
ALTER TABLE agent.graph_nodes VALIDATE CONSTRAINT graph_nodes_client_id_not_null;
ALTER TABLE agent.graph_edges VALIDATE CONSTRAINT graph_edges_client_id_not_null;
ALTER TABLE agent.blocks VALIDATE CONSTRAINT blocks_client_id_not_null;
ALTER TABLE agent.block_actions VALIDATE CONSTRAINT block_actions_client_id_not_null;

ALTER TABLE agent.events VALIDATE CONSTRAINT events_client_id_session_id_fkey;
ALTER TABLE agent.events VALIDATE CONSTRAINT events_client_id_promoted_fact_id_fkey;
ALTER TABLE agent.facts VALIDATE CONSTRAINT facts_client_id_source_event_id_fkey;
ALTER TABLE agent.goals VALIDATE CONSTRAINT goals_client_id_parent_goal_id_fkey;
ALTER TABLE agent.reflections VALIDATE CONSTRAINT reflections_client_id_session_id_fkey;
ALTER TABLE agent.graph_edges VALIDATE CONSTRAINT graph_edges_client_id_from_node_id_fkey;
ALTER TABLE agent.graph_edges VALIDATE CONSTRAINT graph_edges_client_id_to_node_id_fkey;
ALTER TABLE agent.blocks VALIDATE CONSTRAINT blocks_client_id_artifact_id_fkey;
ALTER TABLE agent.block_actions VALIDATE CONSTRAINT block_actions_client_id_block_id_fkey;
ALTER TABLE agent.episodes VALIDATE CONSTRAINT episodes_client_id_session_id_fkey;
ALTER TABLE agent.scheduler_runs VALIDATE CONSTRAINT scheduler_runs_client_id_plan_id_fkey;

-- SET NOT NULL finds the validated check and skips the scan; the check is then redundant.
ALTER TABLE agent.webhook_executions ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.webhook_executions DROP CONSTRAINT webhook_executions_client_id_not_null;
ALTER TABLE agent.plans ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.plans DROP CONSTRAINT plans_client_id_not_null;
ALTER TABLE agent.scheduler_runs ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.scheduler_runs DROP CONSTRAINT scheduler_runs_client_id_not_null;
ALTER TABLE agent.sessions ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.sessions DROP CONSTRAINT sessions_client_id_not_null;
ALTER TABLE agent.events ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.events DROP CONSTRAINT events_client_id_not_null;
ALTER TABLE agent.facts ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.facts DROP CONSTRAINT facts_client_id_not_null;
ALTER TABLE agent.goals ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.goals DROP CONSTRAINT goals_client_id_not_null;
ALTER TABLE agent.reflections ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.reflections DROP CONSTRAINT reflections_client_id_not_null;
ALTER TABLE agent.step_evaluations ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.step_evaluations DROP CONSTRAINT step_evaluations_client_id_not_null;
ALTER TABLE agent.artifacts ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.artifacts DROP CONSTRAINT artifacts_client_id_not_null;
ALTER TABLE agent.graph_nodes ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.graph_nodes DROP CONSTRAINT graph_nodes_client_id_not_null;
ALTER TABLE agent.graph_edges ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.graph_edges DROP CONSTRAINT graph_edges_client_id_not_null;
ALTER TABLE agent.blocks ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.blocks DROP CONSTRAINT blocks_client_id_not_null;
ALTER TABLE agent.block_actions ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE agent.block_actions DROP CONSTRAINT block_actions_client_id_not_null;

-- Primary keys (client_id, id): the index built by 020 becomes the key and takes its name.
ALTER TABLE agent.client_profiles DROP CONSTRAINT client_profiles_pkey, ADD CONSTRAINT client_profiles_pkey PRIMARY KEY USING INDEX client_profiles_client_id_id_pkey;
ALTER TABLE agent.memory_entries DROP CONSTRAINT memory_entries_pkey, ADD CONSTRAINT memory_entries_pkey PRIMARY KEY USING INDEX memory_entries_client_id_id_pkey;
ALTER TABLE agent.memory_facts DROP CONSTRAINT memory_facts_pkey, ADD CONSTRAINT memory_facts_pkey PRIMARY KEY USING INDEX memory_facts_client_id_id_pkey;
ALTER TABLE agent.working_state DROP CONSTRAINT working_state_pkey, ADD CONSTRAINT working_state_pkey PRIMARY KEY USING INDEX working_state_client_id_id_pkey;
ALTER TABLE agent.episodes DROP CONSTRAINT episodes_pkey, ADD CONSTRAINT episodes_pkey PRIMARY KEY USING INDEX episodes_client_id_id_pkey;
ALTER TABLE agent.webhook_executions DROP CONSTRAINT webhook_executions_pkey, ADD CONSTRAINT webhook_executions_pkey PRIMARY KEY USING INDEX webhook_executions_client_id_id_pkey;
ALTER TABLE agent.plans DROP CONSTRAINT plans_pkey, ADD CONSTRAINT plans_pkey PRIMARY KEY USING INDEX plans_client_id_id_pkey;
ALTER TABLE agent.scheduler_runs DROP CONSTRAINT scheduler_runs_pkey, ADD CONSTRAINT scheduler_runs_pkey PRIMARY KEY USING INDEX scheduler_runs_client_id_id_pkey;
ALTER TABLE agent.sessions DROP CONSTRAINT sessions_pkey, ADD CONSTRAINT sessions_pkey PRIMARY KEY USING INDEX sessions_client_id_id_pkey;
ALTER TABLE agent.events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_client_id_id_pkey;
ALTER TABLE agent.facts DROP CONSTRAINT facts_pkey, ADD CONSTRAINT facts_pkey PRIMARY KEY USING INDEX facts_client_id_id_pkey;
ALTER TABLE agent.goals DROP CONSTRAINT goals_pkey, ADD CONSTRAINT goals_pkey PRIMARY KEY USING INDEX goals_client_id_id_pkey;
ALTER TABLE agent.reflections DROP CONSTRAINT reflections_pkey, ADD CONSTRAINT reflections_pkey PRIMARY KEY USING INDEX reflections_client_id_id_pkey;
ALTER TABLE agent.step_evaluations DROP CONSTRAINT step_evaluations_pkey, ADD CONSTRAINT step_evaluations_pkey PRIMARY KEY USING INDEX step_evaluations_client_id_id_pkey;
ALTER TABLE agent.artifacts DROP CONSTRAINT artifacts_pkey, ADD CONSTRAINT artifacts_pkey PRIMARY KEY USING INDEX artifacts_client_id_id_pkey;
ALTER TABLE agent.graph_nodes DROP CONSTRAINT graph_nodes_pkey, ADD CONSTRAINT graph_nodes_pkey PRIMARY KEY USING INDEX graph_nodes_client_id_id_pkey;
ALTER TABLE agent.graph_edges DROP CONSTRAINT graph_edges_pkey, ADD CONSTRAINT graph_edges_pkey PRIMARY KEY USING INDEX graph_edges_client_id_id_pkey;
ALTER TABLE agent.blocks DROP CONSTRAINT blocks_pkey, ADD CONSTRAINT blocks_pkey PRIMARY KEY USING INDEX blocks_client_id_id_pkey;
ALTER TABLE agent.block_actions DROP CONSTRAINT block_actions_pkey, ADD CONSTRAINT block_actions_pkey PRIMARY KEY USING INDEX block_actions_client_id_id_pkey;

-- Text keys unique per client.
ALTER TABLE agent.sessions DROP CONSTRAINT sessions_global_id_key, ADD CONSTRAINT sessions_client_id_global_id_key UNIQUE USING INDEX sessions_client_id_global_id_key;
ALTER TABLE agent.facts DROP CONSTRAINT facts_global_id_key, ADD CONSTRAINT facts_client_id_global_id_key UNIQUE USING INDEX facts_client_id_global_id_key;
ALTER TABLE agent.goals DROP CONSTRAINT goals_global_id_key, ADD CONSTRAINT goals_client_id_global_id_key UNIQUE USING INDEX goals_client_id_global_id_key;
ALTER TABLE agent.artifacts DROP CONSTRAINT artifacts_global_id_key, ADD CONSTRAINT artifacts_client_id_global_id_key UNIQUE USING INDEX artifacts_client_id_global_id_key;
ALTER TABLE agent.artifacts DROP CONSTRAINT artifacts_source_system_external_id_key, ADD CONSTRAINT artifacts_client_id_source_system_external_id_key UNIQUE USING INDEX artifacts_client_id_source_system_external_id_key;
ALTER TABLE agent.blocks DROP CONSTRAINT blocks_global_id_key, ADD CONSTRAINT blocks_client_id_global_id_key UNIQUE USING INDEX blocks_client_id_global_id_key;
ALTER TABLE agent.graph_nodes DROP CONSTRAINT graph_nodes_node_id_key, ADD CONSTRAINT graph_nodes_client_id_node_id_key UNIQUE USING INDEX graph_nodes_client_id_node_id_key;
ALTER TABLE agent.graph_edges DROP CONSTRAINT graph_edges_from_node_id_to_node_id_edge_type_key, ADD CONSTRAINT graph_edges_client_id_from_node_id_to_node_id_edge_type_key UNIQUE USING INDEX graph_edges_client_id_from_node_id_to_node_id_edge_type_key;
-- What the columns say about their keys.
DO $$
DECLARE
  table_name text;
BEGIN
  FOREACH table_name IN ARRAY ARRAY['sessions', 'facts', 'goals', 'artifacts', 'blocks'] LOOP
    EXECUTE format('COMMENT ON COLUMN agent.%I.global_id IS %L', table_name,
      'Stable human-readable identifier, unique per client when present (another client may use the same one); never empty or blank.');
  END LOOP;
  FOREACH table_name IN ARRAY ARRAY['webhook_executions', 'plans', 'scheduler_runs', 'sessions', 'events', 'facts', 'goals',
                                    'reflections', 'step_evaluations', 'artifacts', 'graph_nodes', 'graph_edges', 'blocks',
                                    'block_actions'] LOOP
    EXECUTE format('COMMENT ON COLUMN agent.%I.client_id IS %L', table_name,
      'Client the row belongs to (agent.client_profiles.client_id, by convention); never NULL. Leads every key of the table: ids and text keys are unique per client.');
  END LOOP;
END;
$$;
COMMENT ON COLUMN agent.graph_nodes.node_id IS
  'External key of the node, unique per client, e.g. the entity''s global_id (project_2024q4_eng) or ''erp.projects:42''; never empty or blank.';
COMMENT ON COLUMN agent.artifacts.external_id IS
  'Id of the artifact in its source system (file id, URL ...); unique per client and source_system when present.';

-- A running PostgREST reloads its schema cache and sees the new keys.
NOTIFY pgrst, 'reload schema';
