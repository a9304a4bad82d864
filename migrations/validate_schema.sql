-- validate_schema.sql
--
-- Checks that the erp and agent schemas (migrations 001 and 002) are in place. Plain SQL, no psql
-- meta-commands: run it with `psql -v ON_ERROR_STOP=1 -f migrations/validate_schema.sql` or send
-- the whole file as one simple query (node-postgres pool.query(text)). Read-only.
--
-- Order of the checks, so that the first report names the cause:
--   1. the 38 named tables exist in their schema (a dropped table is reported as a missing table,
--      not as the foreign keys that went with it);
--   2. nothing was created in public;
--   3. every expected foreign key exists with its column(s), referenced table and ON DELETE action
--      (the three cross-schema ones included; links between client tables are (client_id, <link>),
--      020), and has an index on its columns;
--   4. every table with updated_at has its <table>_set_updated_at trigger calling
--      erp.update_updated_at_column(); the expected 28 tables have updated_at;
--   5. erp.execution_runs.variance_pct is a stored generated column;
--   6. the functions erp.update_updated_at_column(), agent.get_graph_neighbors(bigint),
--      agent.set_memory_entry_expires_at() and the trigger memory_entries_set_expires_at exist.
-- A failed step RAISEs EXCEPTION 'validate_schema: ...' naming every missing object of that step;
-- success ends with RAISE NOTICE 'validate_schema: OK: ...' and a short summary.
--
-- The table list is the named set of the data model (14 erp + 24 agent = 38), not a count: the
-- business request said "14 + 21 = 35" but named 38 tables, and all 38 are built.

DO $validate$
DECLARE
  expected_tables CONSTANT text[] := ARRAY[
    -- erp: core 6
    'erp.people', 'erp.organizations', 'erp.projects', 'erp.engagements', 'erp.tasks', 'erp.okrs',
    -- erp: pattern 8
    'erp.service_blueprints', 'erp.workflows', 'erp.process_templates', 'erp.execution_runs',
    'erp.ventures', 'erp.sprints', 'erp.offers', 'erp.deliverables',
    -- agent: memory 6
    'agent.client_profiles', 'agent.memory_entries', 'agent.memory_facts', 'agent.working_state',
    'agent.episodes', 'agent.webhook_executions',
    -- agent: operations 7
    'agent.sessions', 'agent.events', 'agent.facts', 'agent.goals', 'agent.reflections',
    'agent.step_evaluations', 'agent.artifacts',
    -- agent: config 4
    'agent.profiles', 'agent.tools', 'agent.context_recipes', 'agent.profile_tools',
    -- agent: graph / blocks 4
    'agent.graph_nodes', 'agent.graph_edges', 'agent.blocks', 'agent.block_actions',
    -- agent: planning 3
    'agent.plans', 'agent.scheduler_runs', 'agent.prompt_templates'
  ];
  -- Tables that carry updated_at (and so need <table>_set_updated_at).
  updated_at_tables CONSTANT text[] := ARRAY[
    'erp.people', 'erp.organizations', 'erp.projects', 'erp.engagements', 'erp.tasks', 'erp.okrs',
    'erp.service_blueprints', 'erp.workflows', 'erp.process_templates', 'erp.execution_runs',
    'erp.ventures', 'erp.sprints', 'erp.offers', 'erp.deliverables',
    'agent.client_profiles', 'agent.memory_facts', 'agent.working_state', 'agent.events',
    'agent.facts', 'agent.goals', 'agent.profiles', 'agent.tools', 'agent.graph_nodes',
    'agent.graph_edges', 'agent.blocks', 'agent.plans', 'agent.scheduler_runs',
    'agent.prompt_templates'
  ];
  problems text[] := '{}';
  r record;
  v_rel regclass;
  v_con record;
  n_erp int;
  n_agent int;
  n_fk int;
  n_cross int;
  n_trg int;
BEGIN
  -- 1. Tables ---------------------------------------------------------------------------------
  FOR r IN SELECT unnest(expected_tables) AS tbl LOOP
    IF NOT EXISTS (
      SELECT 1
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = split_part(r.tbl, '.', 1)
         AND c.relname = split_part(r.tbl, '.', 2)
         AND c.relkind IN ('r', 'p')
    ) THEN
      problems := problems || format('missing table %s', r.tbl);
    END IF;
  END LOOP;
  IF cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'validate_schema: %', array_to_string(problems, '; ');
  END IF;

  -- 2. Nothing in public ----------------------------------------------------------------------
  FOR r IN
    SELECT format('%s %I.%I',
                  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                                 WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                                 WHEN 'f' THEN 'foreign table' ELSE 'relation' END,
                  n.nspname, c.relname) AS what
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public'
       AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('function %s', p.oid::regprocedure)
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1
  LOOP
    problems := problems || format('unexpected %s (nothing may be created in public)', r.what);
  END LOOP;
  IF cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'validate_schema: %', array_to_string(problems, '; ');
  END IF;

  -- 3. Foreign keys: (table, constraint, column, referenced table, ON DELETE) ------------------
  FOR r IN
    SELECT *
      FROM (VALUES
        ('erp.deliverables', 'deliverables_engagement_id_fkey', 'engagement_id', 'erp.engagements', 'RESTRICT'),
        ('erp.deliverables', 'deliverables_offer_id_fkey', 'offer_id', 'erp.offers', 'RESTRICT'),
        ('erp.engagements', 'engagements_client_org_id_fkey', 'client_org_id', 'erp.organizations', 'RESTRICT'),
        ('erp.engagements', 'engagements_primary_contact_id_fkey', 'primary_contact_id', 'erp.people', 'SET NULL'),
        ('erp.engagements', 'engagements_project_id_fkey', 'project_id', 'erp.projects', 'RESTRICT'),
        ('erp.execution_runs', 'execution_runs_process_template_id_fkey', 'process_template_id', 'erp.process_templates', 'RESTRICT'),
        ('erp.offers', 'offers_service_blueprint_id_fkey', 'service_blueprint_id', 'erp.service_blueprints', 'RESTRICT'),
        ('erp.okrs', 'okrs_owner_person_id_fkey', 'owner_person_id', 'erp.people', 'SET NULL'),
        ('erp.process_templates', 'process_templates_workflow_id_fkey', 'workflow_id', 'erp.workflows', 'RESTRICT'),
        ('erp.projects', 'projects_organization_id_fkey', 'organization_id', 'erp.organizations', 'RESTRICT'),
        ('erp.projects', 'projects_owner_person_id_fkey', 'owner_person_id', 'erp.people', 'SET NULL'),
        ('erp.projects', 'projects_process_template_id_fkey', 'process_template_id', 'erp.process_templates', 'SET NULL'),
        ('erp.projects', 'projects_venture_id_fkey', 'venture_id', 'erp.ventures', 'RESTRICT'),
        ('erp.service_blueprints', 'service_blueprints_owner_person_id_fkey', 'owner_person_id', 'erp.people', 'SET NULL'),
        ('erp.tasks', 'tasks_assignee_id_fkey', 'assignee_id', 'erp.people', 'SET NULL'),
        ('erp.tasks', 'tasks_engagement_id_fkey', 'engagement_id', 'erp.engagements', 'RESTRICT'),
        ('erp.tasks', 'tasks_execution_run_id_fkey', 'execution_run_id', 'erp.execution_runs', 'SET NULL'),
        ('erp.tasks', 'tasks_project_id_fkey', 'project_id', 'erp.projects', 'RESTRICT'),
        ('erp.tasks', 'tasks_sprint_id_fkey', 'sprint_id', 'erp.sprints', 'SET NULL'),
        ('erp.ventures', 'ventures_owner_person_id_fkey', 'owner_person_id', 'erp.people', 'SET NULL'),
        ('erp.workflows', 'workflows_owner_person_id_fkey', 'owner_person_id', 'erp.people', 'SET NULL'),
        ('erp.workflows', 'workflows_service_blueprint_id_fkey', 'service_blueprint_id', 'erp.service_blueprints', 'RESTRICT'),
        ('agent.block_actions', 'block_actions_client_id_block_id_fkey', 'client_id, block_id', 'agent.blocks', 'CASCADE'),
        ('agent.blocks', 'blocks_client_id_artifact_id_fkey', 'client_id, artifact_id', 'agent.artifacts', 'SET NULL'),
        ('agent.episodes', 'episodes_client_id_session_id_fkey', 'client_id, session_id', 'agent.sessions', 'SET NULL'),
        ('agent.events', 'events_client_id_promoted_fact_id_fkey', 'client_id, promoted_fact_id', 'agent.facts', 'SET NULL'),
        ('agent.events', 'events_client_id_session_id_fkey', 'client_id, session_id', 'agent.sessions', 'RESTRICT'),
        ('agent.facts', 'facts_client_id_source_event_id_fkey', 'client_id, source_event_id', 'agent.events', 'SET NULL'),
        ('agent.goals', 'goals_client_id_parent_goal_id_fkey', 'client_id, parent_goal_id', 'agent.goals', 'RESTRICT'),
        ('agent.graph_edges', 'graph_edges_client_id_from_node_id_fkey', 'client_id, from_node_id', 'agent.graph_nodes', 'CASCADE'),
        ('agent.graph_edges', 'graph_edges_client_id_to_node_id_fkey', 'client_id, to_node_id', 'agent.graph_nodes', 'CASCADE'),
        ('agent.profile_tools', 'profile_tools_profile_id_fkey', 'profile_id', 'agent.profiles', 'CASCADE'),
        ('agent.profile_tools', 'profile_tools_tool_id_fkey', 'tool_id', 'agent.tools', 'CASCADE'),
        ('agent.profiles', 'profiles_default_context_recipe_id_fkey', 'default_context_recipe_id', 'agent.context_recipes', 'SET NULL'),
        ('agent.reflections', 'reflections_client_id_session_id_fkey', 'client_id, session_id', 'agent.sessions', 'SET NULL'),
        ('agent.scheduler_runs', 'scheduler_runs_client_id_plan_id_fkey', 'client_id, plan_id', 'agent.plans', 'RESTRICT'),
        ('agent.sessions', 'sessions_context_recipe_id_fkey', 'context_recipe_id', 'agent.context_recipes', 'SET NULL'),
        ('agent.sessions', 'sessions_profile_id_fkey', 'profile_id', 'agent.profiles', 'RESTRICT'),
        -- Cross-schema
        ('agent.sessions', 'sessions_client_person_id_fkey', 'client_person_id', 'erp.people', 'SET NULL'),
        ('agent.reflections', 'reflections_client_person_id_fkey', 'client_person_id', 'erp.people', 'SET NULL'),
        ('agent.step_evaluations', 'step_evaluations_execution_run_id_fkey', 'execution_run_id', 'erp.execution_runs', 'RESTRICT')
      ) AS fk(tbl, conname, col, reftbl, on_delete)
  LOOP
    v_rel := to_regclass(r.tbl);
    SELECT c.confrelid,
           c.confdeltype,
           (SELECT array_agg(a.attname::text ORDER BY k.ord)
              FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols
      INTO v_con
      FROM pg_constraint c
     WHERE c.conrelid = v_rel AND c.conname = r.conname AND c.contype = 'f';
    IF NOT FOUND THEN
      problems := problems || format('missing foreign key %s (%s) on %s -> %s',
                                     r.conname, r.col, r.tbl, r.reftbl);
      CONTINUE;
    END IF;
    IF v_con.cols IS DISTINCT FROM string_to_array(r.col, ', ') OR v_con.confrelid <> to_regclass(r.reftbl) THEN
      problems := problems || format('foreign key %s on %s is (%s) -> %s, expected (%s) -> %s',
                                     r.conname, r.tbl, array_to_string(v_con.cols, ', '),
                                     v_con.confrelid::regclass, r.col, r.reftbl);
    END IF;
    IF (CASE v_con.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL'
                               WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION'
                               WHEN 'd' THEN 'SET DEFAULT' END) <> r.on_delete THEN
      problems := problems || format('foreign key %s on %s is not ON DELETE %s',
                                     r.conname, r.tbl, r.on_delete);
    END IF;
  END LOOP;

  -- Every foreign key in erp/agent (expected or not) has an index led by its column(s).
  FOR r IN
    SELECT c.conname, format('%s.%s', n.nspname, cl.relname) AS tbl,
           (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
              FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols
      FROM pg_constraint c
      JOIN pg_class cl ON cl.oid = c.conrelid
      JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE c.contype = 'f' AND n.nspname IN ('erp', 'agent')
       AND NOT EXISTS (SELECT 1 FROM pg_index i
                        WHERE i.indrelid = c.conrelid
                          AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
     ORDER BY 2, 1
  LOOP
    problems := problems || format('foreign key %s on %s has no index on (%s)', r.conname, r.tbl, r.cols);
  END LOOP;

  -- 4. updated_at triggers --------------------------------------------------------------------
  FOR r IN SELECT unnest(updated_at_tables) AS tbl LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(r.tbl) AND a.attname = 'updated_at'
                      AND NOT a.attisdropped) THEN
      problems := problems || format('missing column %s.updated_at', r.tbl);
    END IF;
  END LOOP;
  FOR r IN
    SELECT c.oid AS relid, format('%s.%s', n.nspname, c.relname) AS tbl,
           c.relname || '_set_updated_at' AS trg
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at' AND NOT a.attisdropped
     WHERE n.nspname IN ('erp', 'agent') AND c.relkind IN ('r', 'p')
     ORDER BY 2
  LOOP
    IF NOT EXISTS (
      SELECT 1 FROM pg_trigger t
       WHERE t.tgrelid = r.relid
         AND t.tgname = r.trg
         AND NOT t.tgisinternal
         AND t.tgenabled <> 'D'
         AND t.tgfoid = to_regprocedure('erp.update_updated_at_column()')
         AND (t.tgtype & 1) = 1     -- FOR EACH ROW
         AND (t.tgtype & 2) = 2     -- BEFORE
         AND (t.tgtype & 16) = 16   -- UPDATE
    ) THEN
      problems := problems || format('missing trigger %s on %s (BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION erp.update_updated_at_column())',
                                     r.trg, r.tbl);
    END IF;
  END LOOP;

  -- 5. Generated column -----------------------------------------------------------------------
  IF NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = 'erp.execution_runs'::regclass
                    AND a.attname = 'variance_pct' AND NOT a.attisdropped
                    AND a.attgenerated = 's') THEN
    problems := problems || 'missing generated column erp.execution_runs.variance_pct (GENERATED ALWAYS AS (...) STORED)'::text;
  END IF;

  -- 6. Functions ------------------------------------------------------------------------------
  IF to_regprocedure('erp.update_updated_at_column()') IS NULL THEN
    problems := problems || 'missing function erp.update_updated_at_column()'::text;
  END IF;
  IF to_regprocedure('agent.get_graph_neighbors(bigint)') IS NULL THEN
    problems := problems || 'missing function agent.get_graph_neighbors(bigint)'::text;
  END IF;
  IF to_regprocedure('agent.set_memory_entry_expires_at()') IS NULL THEN
    problems := problems || 'missing function agent.set_memory_entry_expires_at()'::text;
  ELSIF NOT EXISTS (SELECT 1 FROM pg_trigger t
                     WHERE t.tgrelid = 'agent.memory_entries'::regclass
                       AND t.tgname = 'memory_entries_set_expires_at'
                       AND t.tgenabled <> 'D'
                       AND t.tgfoid = to_regprocedure('agent.set_memory_entry_expires_at()')) THEN
    problems := problems || 'missing trigger memory_entries_set_expires_at on agent.memory_entries'::text;
  END IF;

  IF cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'validate_schema: %', array_to_string(problems, '; ');
  END IF;

  -- Summary -----------------------------------------------------------------------------------
  SELECT count(*) FILTER (WHERE n.nspname = 'erp'), count(*) FILTER (WHERE n.nspname = 'agent')
    INTO n_erp, n_agent
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname IN ('erp', 'agent') AND c.relkind IN ('r', 'p');
  SELECT count(*), count(*) FILTER (WHERE rc.relnamespace <> c.connamespace)
    INTO n_fk, n_cross
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    JOIN pg_class rc ON rc.oid = c.confrelid
   WHERE c.contype = 'f' AND n.nspname IN ('erp', 'agent');
  SELECT count(*) INTO n_trg
    FROM pg_trigger t
   WHERE t.tgfoid = to_regprocedure('erp.update_updated_at_column()') AND NOT t.tgisinternal;

  RAISE NOTICE 'validate_schema: OK: erp % tables, agent % tables, % foreign keys (% cross-schema), % updated_at triggers',
    n_erp, n_agent, n_fk, n_cross, n_trg;
END
$validate$;
