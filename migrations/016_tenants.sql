-- 016_tenants.sql
--
-- Tenants that cannot touch each other (issue 23, points 1-3; docs/API.md, "Who owns which
-- agent table" and "Functions callable over HTTP"):
--
--   * Every agent table is either a client's or shared configuration. The operations, graph and
--     block tables (sessions, events, facts, goals, reflections, step_evaluations, artifacts,
--     graph_nodes, graph_edges, blocks, block_actions) get a client_id and the fail-closed
--     policies of 008 (one_client for agent_service and dashboard_reader, every_client for
--     agent_cross_client and the service logins). A row of one client can only point at a row of
--     the same client: each link between them gets a (client_id, <link>) foreign key, checked
--     before the plain one, so another client's id fails exactly like a missing one. Rows that
--     exist already have no client (NULL): only agent_cross_client and the service logins see them
--     until an operator assigns them.
--   * Shared configuration (profiles, tools, profile_tools, context_recipes, prompt_templates) is
--     read by every agent token and written only by the new JWT role agent_config_editor.
--   * Ids are the database's: no API role may write an identity column (INSERT and UPDATE are
--     granted on the other columns only), so an explicit id is refused whether or not it exists,
--     and nobody can take the ids a sequence will hand out next.
--   * The owner-rights text search of agent.recall and the memory helpers move to schema
--     agent_private, which PostgREST does not serve; the search refuses unless the caller's token
--     carries the client it asks about (or the caller works across clients) and caps its count.
--
-- Roles are cluster-wide and this file runs once per database (the test cluster runs it in many):
-- role statements are idempotent and write only when something differs, as in 003 and 008.
-- Requires 001-010. No BEGIN/COMMIT: the runner wraps the file in a transaction.

SET lock_timeout = '5s';

-- ---------------------------------------------------------------------------------------------
-- The configuration role (cluster-wide, idempotent)
-- ---------------------------------------------------------------------------------------------

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
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agent_config_editor') THEN
    CREATE ROLE agent_config_editor NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  PERFORM pg_temp.ensure_role_comment('agent_config_editor',
    'JWT role for whoever configures the agents: reads and writes the shared agent configuration (profiles, tools, profile_tools, context_recipes, prompt_templates), nothing else.');
  IF NOT pg_has_role('authenticator', 'agent_config_editor', 'MEMBER') THEN
    GRANT agent_config_editor TO authenticator;
  END IF;
  PERFORM pg_temp.ensure_role_setting('agent_config_editor', setting, setting_value)
     FROM (VALUES ('statement_timeout', '5s'), ('work_mem', '2048'), ('enable_memoize', 'off')) AS s (setting, setting_value);
  PERFORM pg_temp.ensure_role_comment('agent_service',
    'JWT role for agent services acting for one client (the token''s client_id): reads and writes that client''s agent rows (events and facts append-only), reads the shared agent configuration and erp.');
  PERFORM pg_temp.ensure_role_comment('agent_cross_client',
    'JWT role for agent services that work across clients (operators, sweeps): reads and writes every client''s agent rows (events and facts append-only), reads the shared agent configuration and erp. Not client-scoped.');
END;
$$;

DROP FUNCTION pg_temp.ensure_role_setting(text, text, text);
DROP FUNCTION pg_temp.ensure_role_comment(text, text);

-- Its request limits, and the read budget charged to it like to every API role (008).
INSERT INTO postgrest.api_role_limits (role_name, max_changed_rows, read_budget_bytes)
VALUES ('agent_config_editor', 20, 4194304);
GRANT SELECT ON postgrest.api_role_limits TO agent_config_editor;
GRANT USAGE ON SCHEMA postgrest TO agent_config_editor;
GRANT EXECUTE ON FUNCTION postgrest.check_request(), postgrest.charge_read(integer) TO agent_config_editor;

DO $$
DECLARE
  target record;
BEGIN
  FOR target IN
    SELECT n.nspname AS schema_name, c.relname AS table_name
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE p.polname = 'read_budget' AND n.nspname IN ('erp', 'agent')
  LOOP
    EXECUTE format('ALTER POLICY read_budget ON %I.%I TO web_anon, erp_editor, dashboard_reader, agent_service, agent_cross_client, agent_config_editor',
      target.schema_name, target.table_name);
  END LOOP;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Shared configuration: everyone in agent reads it, only agent_config_editor writes it
-- ---------------------------------------------------------------------------------------------

REVOKE INSERT, UPDATE, DELETE ON agent.profiles, agent.tools, agent.profile_tools, agent.context_recipes,
  agent.prompt_templates FROM agent_service, agent_cross_client;
GRANT USAGE ON SCHEMA agent TO agent_config_editor;
GRANT SELECT, INSERT, UPDATE, DELETE ON agent.profiles, agent.tools, agent.profile_tools, agent.context_recipes,
  agent.prompt_templates TO agent_config_editor;

-- ---------------------------------------------------------------------------------------------
-- Every other agent table belongs to a client
-- ---------------------------------------------------------------------------------------------

DO $$
DECLARE
  client_tables constant text[] := ARRAY['sessions', 'events', 'facts', 'goals', 'reflections', 'step_evaluations',
                                         'artifacts', 'graph_nodes', 'graph_edges', 'blocks', 'block_actions'];
  table_name text;
BEGIN
  FOREACH table_name IN ARRAY client_tables LOOP
    EXECUTE format('ALTER TABLE agent.%I ADD COLUMN client_id text', table_name);
    EXECUTE format($sql$ALTER TABLE agent.%I ADD CONSTRAINT %I CHECK (client_id ~ '[^[:space:]]') NOT VALID$sql$,
      table_name, table_name || '_client_id_check');
    EXECUTE format('ALTER TABLE agent.%I VALIDATE CONSTRAINT %I', table_name, table_name || '_client_id_check');
    EXECUTE format('COMMENT ON CONSTRAINT %I ON agent.%I IS %L', table_name || '_client_id_check', table_name,
      'A client id is never empty or blank.');
    EXECUTE format('COMMENT ON COLUMN agent.%I.client_id IS %L', table_name,
      'Client the row belongs to (agent.client_profiles.client_id, by convention); NULL = no client, seen only by agent_cross_client and the service logins.');
    -- The target of the client-aware foreign keys below, and the index the policy filters by.
    EXECUTE format('ALTER TABLE agent.%I ADD CONSTRAINT %I UNIQUE (client_id, id)', table_name, table_name || '_client_id_id_key');

    EXECUTE format('DROP POLICY every_row ON agent.%I', table_name);
    EXECUTE format(
      $policy$CREATE POLICY one_client ON agent.%I TO agent_service, dashboard_reader
                 USING (client_id = (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id'))$policy$,
      table_name);
    EXECUTE format('COMMENT ON POLICY one_client ON agent.%I IS %L', table_name,
      'agent_service and dashboard_reader see and write only the rows of the client named by the token''s client_id claim; without the claim, none.');
    EXECUTE format('CREATE POLICY every_client ON agent.%I TO agent_cross_client, planner_api, memory_gateway USING (true) WITH CHECK (true)',
      table_name);
    EXECUTE format('COMMENT ON POLICY every_client ON agent.%I IS %L', table_name,
      'agent_cross_client and the direct service logins work across clients. Any other role sees no client''s rows.');
  END LOOP;
END;
$$;

-- A link between two client rows stays within one client. For each foreign key between these
-- tables a (client_id, <link>) key is added with the same ON DELETE rule (SET NULL clears only
-- the link), and the plain key is re-created after it: foreign keys are checked in the order
-- they were created, so a missing id and another client's id both fail on the client-aware key,
-- with one message (as scheduler_runs_client_id_plan_id_fkey in 008).
DO $$
DECLARE
  link record;
  client_key text;
BEGIN
  FOR link IN
    SELECT c.oid, c.conname, child.relname AS child_table, parent.relname AS parent_table, a.attname AS link_column,
           pg_get_constraintdef(c.oid) AS definition, obj_description(c.oid, 'pg_constraint') AS comment,
           CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN format('SET NULL (%I)', a.attname) ELSE 'RESTRICT' END AS on_delete
      FROM pg_constraint c
      JOIN pg_class child ON child.oid = c.conrelid
      JOIN pg_class parent ON parent.oid = c.confrelid
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
       AND child.relnamespace = 'agent'::regnamespace AND parent.relnamespace = 'agent'::regnamespace
       AND EXISTS (SELECT FROM pg_attribute x WHERE x.attrelid = c.conrelid AND x.attname = 'client_id' AND NOT x.attisdropped)
       AND EXISTS (SELECT FROM pg_constraint u WHERE u.conrelid = c.confrelid AND u.conname = parent.relname || '_client_id_id_key')
       -- scheduler_runs -> plans has its client-aware twin since 008.
       AND NOT EXISTS (SELECT FROM pg_constraint twin
                        WHERE twin.conrelid = c.conrelid AND twin.confrelid = c.confrelid AND twin.contype = 'f'
                          AND cardinality(twin.conkey) = 2 AND c.conkey[1] = ANY (twin.conkey))
     ORDER BY c.conname
  LOOP
    client_key := link.child_table || '_client_id_' || link.link_column || '_fkey';
    EXECUTE format('ALTER TABLE agent.%I ADD CONSTRAINT %I FOREIGN KEY (client_id, %I) REFERENCES agent.%I (client_id, id) ON DELETE %s NOT VALID',
      link.child_table, client_key, link.link_column, link.parent_table, link.on_delete);
    EXECUTE format('ALTER TABLE agent.%I VALIDATE CONSTRAINT %I', link.child_table, client_key);
    EXECUTE format('CREATE INDEX %I ON agent.%I (client_id, %I)',
      link.child_table || '_client_id_' || link.link_column || '_idx', link.child_table, link.link_column);
    EXECUTE format('COMMENT ON CONSTRAINT %I ON agent.%I IS %L', client_key, link.child_table,
      format('%s: as %s. A row of a client points only at a row of the same client; another client''s id fails exactly like one that does not exist.',
        'ON DELETE ' || split_part(link.on_delete, ' (', 1), link.conname));

    EXECUTE format('ALTER TABLE agent.%I DROP CONSTRAINT %I', link.child_table, link.conname);
    EXECUTE format('ALTER TABLE agent.%I ADD CONSTRAINT %I %s NOT VALID', link.child_table, link.conname, link.definition);
    EXECUTE format('ALTER TABLE agent.%I VALIDATE CONSTRAINT %I', link.child_table, link.conname);
    EXECUTE format('COMMENT ON CONSTRAINT %I ON agent.%I IS %L', link.conname, link.child_table, link.comment);
  END LOOP;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Ids are the database's: no API role writes an identity column
-- ---------------------------------------------------------------------------------------------

-- A table-wide INSERT or UPDATE of an API role becomes the same privilege on every column but
-- the identity and generated ones. Column grants already in place (memory_facts' INSERT,
-- events' and facts' one settable column) name no id and stay as they are. A column added by a
-- later migration is writable only once that migration grants it.
DO $$
DECLARE
  grant_row record;
BEGIN
  FOR grant_row IN
    SELECT n.nspname AS schema_name, c.relname AS table_name, r.rolname AS role_name, acl.privilege_type,
           (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
              FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attidentity = '' AND a.attgenerated = '') AS writable_columns
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
      JOIN pg_roles r ON r.oid = acl.grantee
     WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r'
       AND acl.privilege_type IN ('INSERT', 'UPDATE')
       AND r.rolname IN ('web_anon', 'erp_editor', 'dashboard_reader', 'agent_service', 'agent_cross_client', 'agent_config_editor')
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attidentity <> '')
     ORDER BY 1, 2, 3, 4
  LOOP
    EXECUTE format('REVOKE %s ON %I.%I FROM %I', grant_row.privilege_type, grant_row.schema_name, grant_row.table_name, grant_row.role_name);
    EXECUTE format('GRANT %s (%s) ON %I.%I TO %I', grant_row.privilege_type, grant_row.writable_columns,
      grant_row.schema_name, grant_row.table_name, grant_row.role_name);
  END LOOP;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Functions: internal helpers out of PostgREST's reach, the owner-rights search fails closed
-- ---------------------------------------------------------------------------------------------

CREATE SCHEMA agent_private;
COMMENT ON SCHEMA agent_private IS
  'Helpers of the agent functions, not served over HTTP (PostgREST serves erp and agent only): the memory text search that runs as the owner, the content hash, the search query builder and cosine similarity.';
GRANT USAGE ON SCHEMA agent_private TO agent_service, agent_cross_client, memory_gateway;

-- Moved, not re-created: memory_entries.content_hash is generated by this function.
ALTER FUNCTION agent.memory_content_hash(text) SET SCHEMA agent_private;
ALTER FUNCTION agent.memory_search_query(text) SET SCHEMA agent_private;
ALTER FUNCTION agent.cosine_similarity(real[], real[]) SET SCHEMA agent_private;
DROP FUNCTION agent.recall_candidates(text, tsquery, integer);
COMMENT ON COLUMN agent.memory_entries.content_hash IS
  'Generated: agent_private.memory_content_hash(content), SHA-256 of the content with whitespace collapsed and letters lower-cased. Unique per client (memory_entries_client_id_content_hash_key).';

-- Inside a SECURITY DEFINER function current_user is the owner; the role that called is the one
-- PostgREST switched to (the `role` setting), or the login itself on a direct connection.
CREATE FUNCTION agent_private.caller_may_act_for(client_id text)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  -- coalesce: a missing claim makes the comparison NULL, and NULL must not pass for true.
  SELECT coalesce(caller_may_act_for.client_id IS NOT NULL
                  AND (caller.role_name IN ('agent_cross_client', 'memory_gateway')
                       OR pg_has_role(caller.role_name, (SELECT nspowner FROM pg_namespace WHERE nspname = 'agent'), 'MEMBER')
                       OR caller_may_act_for.client_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id'),
                  false)
    FROM (SELECT CASE current_setting('role') WHEN 'none' THEN session_user ELSE current_setting('role') END::name AS role_name) AS caller;
END;
COMMENT ON FUNCTION agent_private.caller_may_act_for(text) IS
  'For functions that run with their owner''s rights: true when the role that called may act for client_id: its token''s client_id claim names that client, or it works across clients (agent_cross_client, memory_gateway, the owner). Fails closed: a token without the claim, or a NULL client, gets false.';

CREATE FUNCTION agent_private.recall_candidates(client_id text, terms tsquery, max_candidates integer)
RETURNS TABLE (id bigint, text_relevance double precision, weight double precision)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF NOT agent_private.caller_may_act_for(recall_candidates.client_id) THEN
    RAISE EXCEPTION 'This token does not act for client %', coalesce(recall_candidates.client_id, 'NULL')
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Recall with the client_id of your token (erp token --client-id), or with an agent_cross_client token.';
  END IF;
  IF recall_candidates.max_candidates IS NULL OR recall_candidates.max_candidates NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'max_candidates must be between 1 and 1000, not %', recall_candidates.max_candidates
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  SELECT scored.id, scored.text_relevance, scored.weight
    FROM (SELECT m.id,
                 ts_rank_cd(m.search_document, recall_candidates.terms, 32)::double precision AS text_relevance,
                 -- recency: 1 when just seen, halving every 30 days, never below 0.25;
                 -- repeats: 1 for a single mention, +0.25 per e-fold of repeats.
                 (0.25 + 0.75 * power(0.5::double precision,
                                      extract(epoch FROM now() - coalesce(m.last_seen_at, m.created_at))::double precision
                                        / (30 * 86400)))
                   * (1 + 0.25 * ln(m.repeat_count::double precision)) AS weight
            FROM agent.memory_entries m
           WHERE m.client_id = recall_candidates.client_id
             AND m.search_document @@ recall_candidates.terms
             AND (m.expires_at IS NULL OR m.expires_at > now())) AS scored
   ORDER BY scored.text_relevance * scored.weight DESC, scored.id DESC
   LIMIT recall_candidates.max_candidates;
END;
$$;
COMMENT ON FUNCTION agent_private.recall_candidates(text, tsquery, integer) IS
  'Part of agent.recall: the ids of the client''s unexpired memories matching terms, with text relevance (ts_rank_cd, normalised to 0..1) and weight (recency * repeats), best first, at most max_candidates (1..1000). SECURITY DEFINER so the full-text index is used under row-level security; refuses (insufficient_privilege) unless agent_private.caller_may_act_for(client_id), and returns no content. Not served over HTTP.';

CREATE OR REPLACE FUNCTION agent.remember(
  client_id text,
  content text,
  memory_type text DEFAULT 'episodic',
  ttl_minutes integer DEFAULT NULL,
  metadata jsonb DEFAULT '{}',
  embedding real[] DEFAULT NULL
)
RETURNS agent.memory_entries
LANGUAGE plpgsql
VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  remembered agent.memory_entries;
BEGIN
  IF remember.content IS NULL OR remember.content !~ '[^[:space:]]' THEN
    RAISE EXCEPTION 'nothing to remember: content is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- An expired memory is gone even before the sweep reaches it: the same content starts afresh.
  DELETE FROM agent.memory_entries m
   WHERE m.client_id = remember.client_id
     AND m.content_hash = agent_private.memory_content_hash(remember.content)
     AND m.expires_at <= now();
  INSERT INTO agent.memory_entries AS m (client_id, content, memory_type, ttl_minutes, metadata, embedding)
  VALUES (remember.client_id, remember.content, coalesce(remember.memory_type, 'episodic'), remember.ttl_minutes,
          coalesce(remember.metadata, '{}'), remember.embedding)
  ON CONFLICT (client_id, content_hash) DO UPDATE
     SET repeat_count = m.repeat_count + 1,
         last_seen_at = now(),
         -- The longer life wins; no TTL on either side means the memory no longer expires.
         ttl_minutes = CASE WHEN m.ttl_minutes IS NULL OR excluded.ttl_minutes IS NULL THEN NULL
                            ELSE greatest(m.ttl_minutes, excluded.ttl_minutes) END,
         metadata = m.metadata || excluded.metadata,
         embedding = coalesce(excluded.embedding, m.embedding)
  RETURNING m.* INTO remembered;
  RETURN remembered;
END;
$$;

CREATE OR REPLACE FUNCTION agent.recall(
  client_id text,
  query text,
  max_results integer DEFAULT 10,
  query_embedding real[] DEFAULT NULL
)
RETURNS TABLE (
  id bigint,
  content text,
  memory_type text,
  score double precision,
  text_relevance double precision,
  vector_similarity double precision,
  repeat_count integer,
  created_at timestamptz,
  last_seen_at timestamptz,
  expires_at timestamptz,
  metadata jsonb
)
LANGUAGE plpgsql
STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  -- Computed once here: written into the query, it would be evaluated again for every row.
  terms constant tsquery := agent_private.memory_search_query(recall.query);
BEGIN
  IF recall.max_results IS NULL OR recall.max_results NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'max_results must be between 1 and 100, not %', recall.max_results
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH scored AS (
    -- Without a query embedding the text score is final; with one, the best text candidates
    -- are re-ranked by brute-force cosine (agent_private.cosine_similarity).
    SELECT m.id, m.content, m.memory_type, m.repeat_count, m.created_at, m.last_seen_at, m.expires_at,
           m.metadata, c.text_relevance, c.weight,
           agent_private.cosine_similarity(m.embedding, recall.query_embedding) AS vector_similarity
      FROM agent_private.recall_candidates(
             recall.client_id, terms,
             CASE WHEN recall.query_embedding IS NULL THEN recall.max_results
                  ELSE greatest(recall.max_results * 10, 100) END) AS c
      -- Read as the caller: the row-level security policies apply to what is returned.
      JOIN agent.memory_entries m ON m.id = c.id
  )
  SELECT s.id, s.content, s.memory_type,
         CASE WHEN s.vector_similarity IS NULL THEN s.text_relevance
              ELSE (s.text_relevance + greatest(s.vector_similarity, 0)) / 2 END * s.weight AS score,
         s.text_relevance, s.vector_similarity, s.repeat_count, s.created_at, s.last_seen_at, s.expires_at,
         s.metadata
    FROM scored s
   ORDER BY score DESC, s.id DESC
   LIMIT recall.max_results;
END;
$$;
COMMENT ON FUNCTION agent.recall(text, text, integer, real[]) IS
  'The client''s unexpired memories that share a word with the query (agent_private.memory_search_query), best first, at most max_results (1..100). score = relevance * recency * repeats, where relevance = ts_rank_cd(search_document, query, 32) in 0..1 (with a query embedding and a stored one: the mean of that and max(0, cosine similarity)), recency = 0.25 + 0.75 * 0.5 ^ (days since last seen / 30), repeats = 1 + 0.25 * ln(repeat_count). With a query embedding the 10 * max_results (at least 100) best text matches are re-ranked by brute force; with pgvector an HNSW index would supply vector candidates of its own (docs/API.md). Refused (insufficient_privilege) for a client the token does not act for.';

REVOKE ALL ON FUNCTION agent_private.caller_may_act_for(text), agent_private.recall_candidates(text, tsquery, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_private.recall_candidates(text, tsquery, integer)
  TO agent_service, agent_cross_client, memory_gateway;

-- A running PostgREST reloads its schema cache and sees the new privileges and functions.
NOTIFY pgrst, 'reload schema';
