-- 009_agent_memory.sql
--
-- Agent memory that behaves, in SQL, so every service gets it through the API (issue 14):
--
--   agent.remember(client_id, content, ...)      one memory per client and normalised content:
--                                                a repeat counts, refreshes last_seen_at and
--                                                extends the expiry instead of adding a row
--   agent.recall(client_id, query, ...)          full-text (English + any language) relevance
--                                                fused with recency, repeats and, optionally,
--                                                an embedding; expired memories never come back
--   agent.forget(client_id, memory_id)           removes one memory
--   agent.sweep_expired(batch_size)              removes one batch of expired memories
--   agent.memory_facts_as_of(client_id, valid_at, known_at)
--                                                what we believed at known_at about valid_at
--
-- agent.memory_facts becomes bitemporal and append-only for the API roles: every row is one
-- version of a client's fact, true from valid_from (valid time) and known from recorded_at
-- (transaction time). Changing a fact is inserting its new value; the previous version stays.
-- A version ends where a later one for the same key begins (derived, never stored), so no row
-- is ever rewritten and corrections of the past are ordinary inserts with an earlier valid_from.
--
-- SECURITY INVOKER, deliberately: the functions run with the caller's own grants and under the
-- client_scope row-level security policies of 003, so client isolation stays the policy's job.
-- A token scoped to one client that passes another client_id finds nothing to recall, forget or
-- look up (as if the rows did not exist) and cannot write (remember is refused like any write of
-- another client's row). The owner's `erp agent sweep` bypasses RLS and sweeps every client; a
-- scoped token sweeps only its own client. One exception, agent.recall_candidates (DEFINER, with
-- the policy's rule checked in it): under RLS the full-text index could not be used (see there).
--
-- Creates schema `extensions` for btree_gin (contrib, trusted: the database owner may create
-- it), which lets one GIN index hold (client_id, search_document).
--
-- Existing tables are only extended: new columns, NOT VALID constraints validated in the same
-- file, indexes. memory_entries gets a stored generated hash and text-search document (a table
-- rewrite under this file's lock; the table is small when this runs). No BEGIN/COMMIT: the
-- runner wraps the file in a transaction; it also runs with plain psql.

SET lock_timeout = '5s';

-- ---------------------------------------------------------------------------------------------
-- Memory entries: dedup by normalised content, repeats, last seen, a full-text document
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION agent.memory_content_hash(content text)
RETURNS bytea
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- convert_to is only STABLE in general (encoding conversions could change); to UTF8 from a
-- UTF8 database it is fixed, which is what IMMUTABLE promises here.
RETURN sha256(convert_to(lower(btrim(regexp_replace(content, '[[:space:]]+', ' ', 'g'))), 'UTF8'));
COMMENT ON FUNCTION agent.memory_content_hash(text) IS
  'SHA-256 of a memory''s content after normalising it: runs of whitespace become one space, leading and trailing space is dropped, letters are lower-cased. Two contents with the same hash are the same memory.';

ALTER TABLE agent.memory_entries
  ADD COLUMN content_hash bytea GENERATED ALWAYS AS (agent.memory_content_hash(content)) STORED,
  ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content) || to_tsvector('simple'::regconfig, content)) STORED,
  ADD COLUMN repeat_count integer NOT NULL DEFAULT 1,
  ADD COLUMN last_seen_at timestamptz;

ALTER TABLE agent.memory_entries
  ADD CONSTRAINT memory_entries_repeat_count_check CHECK (repeat_count >= 1) NOT VALID;
ALTER TABLE agent.memory_entries VALIDATE CONSTRAINT memory_entries_repeat_count_check;
COMMENT ON CONSTRAINT memory_entries_repeat_count_check ON agent.memory_entries IS
  'A memory has been remembered at least once.';

ALTER TABLE agent.memory_entries
  ADD CONSTRAINT memory_entries_last_seen_at_check CHECK (last_seen_at >= created_at) NOT VALID;
ALTER TABLE agent.memory_entries VALIDATE CONSTRAINT memory_entries_last_seen_at_check;
COMMENT ON CONSTRAINT memory_entries_last_seen_at_check ON agent.memory_entries IS
  'A memory cannot be seen again before it was first remembered.';

-- A repeat extends the expiry: it now runs from the last time the memory was seen.
CREATE OR REPLACE FUNCTION agent.set_memory_entry_expires_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NEW.ttl_minutes IS NULL THEN
    NEW.expires_at := NULL;
  ELSE
    NEW.expires_at := coalesce(NEW.last_seen_at, NEW.created_at) + make_interval(mins => NEW.ttl_minutes);
  END IF;
  RETURN NEW;
END;
$$;
COMMENT ON FUNCTION agent.set_memory_entry_expires_at() IS
  'BEFORE INSERT OR UPDATE trigger function of agent.memory_entries (trigger memory_entries_set_expires_at): expires_at := coalesce(last_seen_at, created_at) + ttl_minutes minutes, or NULL when ttl_minutes is NULL. A generated column cannot do this (timestamptz + interval is only STABLE).';

-- Earlier writers may have stored the same content twice: keep the oldest row of each group,
-- counting the others as repeats (last seen at the newest, with the longest TTL, none if one had
-- none: what agent.remember does with a repeat), so the unique index below can be built.
WITH ranked AS (
  SELECT id, client_id, content_hash,
         row_number() OVER w AS position,
         count(*) OVER w AS copies,
         max(created_at) OVER w AS newest,
         CASE WHEN bool_or(ttl_minutes IS NULL) OVER w THEN NULL ELSE max(ttl_minutes) OVER w END AS longest_ttl
    FROM agent.memory_entries
  WINDOW w AS (PARTITION BY client_id, content_hash ORDER BY created_at, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
), kept AS (
  UPDATE agent.memory_entries m
     SET repeat_count = ranked.copies, last_seen_at = ranked.newest, ttl_minutes = ranked.longest_ttl
    FROM ranked
   WHERE m.id = ranked.id AND ranked.position = 1 AND ranked.copies > 1
)
DELETE FROM agent.memory_entries m
 USING ranked
 WHERE m.id = ranked.id AND ranked.position > 1;

CREATE UNIQUE INDEX memory_entries_client_id_content_hash_key
  ON agent.memory_entries (client_id, content_hash);
COMMENT ON INDEX agent.memory_entries_client_id_content_hash_key IS
  'One memory per client and normalised content: agent.remember counts a repeat instead of adding a row.';

-- Every search is for one client: with btree_gin the client_id is a key of the same GIN index,
-- so a search reads only that client's matches (a GIN index on the document alone plus the
-- client_id btree made Postgres build a bitmap of all the client's memories for each query).
-- btree_gin ships with Postgres (contrib, in postgres:15-alpine) and is a trusted extension:
-- the database owner may create it. It gets a schema of its own, which no role but the owner may
-- use (public stays empty); indexes use its operator classes without any privilege.
CREATE SCHEMA IF NOT EXISTS extensions;
COMMENT ON SCHEMA extensions IS
  'Extensions the schema relies on (btree_gin, for the agent memory search index); not served over HTTP, no role but the owner may use it.';
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA extensions;
CREATE INDEX memory_entries_client_id_search_document_idx
  ON agent.memory_entries USING gin (client_id, search_document);

COMMENT ON COLUMN agent.memory_entries.expires_at IS
  'Derived, do not write: coalesce(last_seen_at, created_at) + ttl_minutes minutes, NULL when ttl_minutes is NULL. Kept by trigger memory_entries_set_expires_at on every INSERT and UPDATE (any value written here is overwritten). Readers filter with expires_at IS NULL OR expires_at > now(); agent.sweep_expired removes the rest.';
COMMENT ON COLUMN agent.memory_entries.content_hash IS
  'Generated: agent.memory_content_hash(content), SHA-256 of the content with whitespace collapsed and letters lower-cased. Unique per client (memory_entries_client_id_content_hash_key).';
COMMENT ON COLUMN agent.memory_entries.search_document IS
  'Generated full-text document: the content parsed with the english configuration (stems, no stop words) and with the simple one (every word as written, lower-cased), so words of any language are found. GIN index memory_entries_client_id_search_document_idx (with client_id); searched by agent.recall.';
COMMENT ON COLUMN agent.memory_entries.repeat_count IS
  'How many times the memory was remembered (>= 1, default 1); agent.remember adds one for each repeat.';
COMMENT ON COLUMN agent.memory_entries.last_seen_at IS
  'When the memory was last remembered again (not before created_at); NULL = only once, at created_at. Recency and expiry run from here.';
COMMENT ON TABLE agent.memory_entries IS
  'Memory items of a client (notes, messages, observations), one row per client and normalised content, optionally embedded for similarity search and optionally expiring (ttl_minutes). Written by agent.remember, searched by agent.recall, removed by agent.forget and agent.sweep_expired.';

-- ---------------------------------------------------------------------------------------------
-- remember / recall / forget / sweep_expired
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION agent.remember(
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
     AND m.content_hash = agent.memory_content_hash(remember.content)
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
COMMENT ON FUNCTION agent.remember(text, text, text, integer, jsonb, real[]) IS
  'Remembers content for a client and returns the memory row. The same content again (whitespace and case ignored) is the same memory: repeat_count grows by one, last_seen_at becomes now, the expiry runs again from now with the longer of the two TTLs (no TTL on either side: never expires), metadata is merged (the new keys win) and a new embedding replaces the old. An expired memory is not revived: it is replaced by a fresh one. SECURITY INVOKER: a token scoped to another client is refused (row-level security).';

CREATE FUNCTION agent.cosine_similarity(a real[], b real[])
RETURNS double precision
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT sum(x::double precision * y) / nullif(sqrt(sum(x::double precision * x)) * sqrt(sum(y::double precision * y)), 0)
          FROM unnest(a, b) AS pairs (x, y)
         WHERE cardinality(a) = cardinality(b));
COMMENT ON FUNCTION agent.cosine_similarity(real[], real[]) IS
  'Cosine similarity of two embeddings of the same length (-1..1); NULL when their lengths differ or either is all zeros. Brute force, for the few candidates agent.recall re-ranks (pgvector''s <=> does this with an index once installed).';

CREATE FUNCTION agent.memory_search_query(query text)
RETURNS tsquery
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- Every word of the query, stemmed (english) and as written (simple), joined by OR: recall
-- ranks partial matches instead of demanding every word. Words that english drops as stop words
-- are left out of the simple half too, or "the" would match nearly every memory. Each lexeme is
-- quoted for the tsquery parser, so nothing in the query is read as an operator.
RETURN (
  SELECT coalesce(string_agg(quote_lexeme, ' | ' ORDER BY lexeme), '')::tsquery
    FROM (SELECT DISTINCT lexeme, '''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''' AS quote_lexeme
            FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, query)
                                          || to_tsvector('simple'::regconfig, query))) AS lexeme
           WHERE to_tsvector('english'::regconfig, lexeme) <> ''::tsvector
              OR lexeme = ANY (tsvector_to_array(to_tsvector('english'::regconfig, query)))) AS words
);
COMMENT ON FUNCTION agent.memory_search_query(text) IS
  'The text-search query agent.recall uses for a question: each word stemmed in English and as written, any of them may match (OR), English stop words left out.';

-- The text search runs as the owner. Under row-level security Postgres may not use the index
-- for the words at all: @@ is not a leakproof operator, so it is kept above the policy's filter
-- and every one of the client's memories would be read and matched (seconds for 100,000). This
-- function therefore applies the client_scope rule itself and returns only ids and text scores;
-- agent.recall then reads the memories as the caller, under the policies as usual.
CREATE FUNCTION agent.recall_candidates(client_id text, terms tsquery, max_candidates integer)
RETURNS TABLE (id bigint, text_relevance double precision, weight double precision)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  token_client_id constant text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'client_id';
BEGIN
  -- The client_scope policy of 003: a token with a client_id claim sees only that client.
  IF token_client_id IS NOT NULL AND token_client_id IS DISTINCT FROM recall_candidates.client_id THEN
    RETURN;
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
COMMENT ON FUNCTION agent.recall_candidates(text, tsquery, integer) IS
  'Part of agent.recall: the ids of the client''s unexpired memories matching terms, with text relevance (ts_rank_cd, normalised to 0..1) and weight (recency * repeats), best first, at most max_candidates. SECURITY DEFINER so the full-text index is used under row-level security; it applies the client_scope rule itself (a token scoped to another client gets nothing) and returns no content.';

CREATE FUNCTION agent.recall(
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
  terms constant tsquery := agent.memory_search_query(recall.query);
BEGIN
  IF recall.max_results IS NULL OR recall.max_results NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'max_results must be between 1 and 100, not %', recall.max_results
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH scored AS (
    -- Without a query embedding the text score is final; with one, the best text candidates
    -- are re-ranked by brute-force cosine (agent.cosine_similarity).
    SELECT m.id, m.content, m.memory_type, m.repeat_count, m.created_at, m.last_seen_at, m.expires_at,
           m.metadata, c.text_relevance, c.weight,
           agent.cosine_similarity(m.embedding, recall.query_embedding) AS vector_similarity
      FROM agent.recall_candidates(
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
  'The client''s unexpired memories that share a word with the query (agent.memory_search_query), best first, at most max_results (1..100). score = relevance * recency * repeats, where relevance = ts_rank_cd(search_document, query, 32) in 0..1 (with a query embedding and a stored one: the mean of that and max(0, cosine similarity)), recency = 0.25 + 0.75 * 0.5 ^ (days since last seen / 30), repeats = 1 + 0.25 * ln(repeat_count). With a query embedding the 10 * max_results (at least 100) best text matches are re-ranked by brute force; with pgvector an HNSW index would supply vector candidates of its own (docs/API.md). SECURITY INVOKER: a token scoped to another client finds nothing.';

CREATE FUNCTION agent.forget(client_id text, memory_id bigint)
RETURNS integer
LANGUAGE sql
VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  WITH forgotten AS (
    DELETE FROM agent.memory_entries m
     WHERE m.id = forget.memory_id AND m.client_id = forget.client_id
    RETURNING 1
  )
  SELECT count(*)::integer FROM forgotten;
END;
COMMENT ON FUNCTION agent.forget(text, bigint) IS
  'Removes one memory of the client; returns how many it removed (1, or 0 when the client has no such memory). SECURITY INVOKER: another client''s memory, or any under a token scoped to another client, counts as missing.';

CREATE FUNCTION agent.sweep_expired(batch_size integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  removed integer;
BEGIN
  IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 100000 THEN
    RAISE EXCEPTION 'batch_size must be between 1 and 100000, not %', batch_size
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One batch per call, so each call is one short transaction; rows another transaction holds
  -- (a remember of the same content) are skipped, not waited for, and go in a later batch.
  WITH expired AS (
    SELECT m.id
      FROM agent.memory_entries m
     WHERE m.expires_at <= now()
     ORDER BY m.expires_at
     LIMIT batch_size
       FOR UPDATE SKIP LOCKED
  ), swept AS (
    DELETE FROM agent.memory_entries m
     USING expired
     WHERE m.id = expired.id
    RETURNING 1
  )
  SELECT count(*)::integer INTO removed FROM swept;
  RETURN removed;
END;
$$;
COMMENT ON FUNCTION agent.sweep_expired(integer) IS
  'Removes up to batch_size (1..100000, default 1000) expired memories, the longest expired first, skipping rows other transactions hold; returns how many it removed. Call it until it returns less than batch_size (`erp agent sweep` does): each call is a short transaction. SECURITY INVOKER: the owner sweeps every client, a client-scoped token only its own.';

-- ---------------------------------------------------------------------------------------------
-- Memory facts: versions with valid time and transaction time, append-only for the API roles
-- ---------------------------------------------------------------------------------------------

ALTER TABLE agent.memory_facts
  ADD COLUMN valid_from timestamptz,
  ADD COLUMN recorded_at timestamptz,
  ADD COLUMN retracted boolean NOT NULL DEFAULT false;

-- What was stored before was last written at updated_at: that version is true and known from
-- then (earlier values were overwritten and are lost). The backfill must not move updated_at.
ALTER TABLE agent.memory_facts DISABLE TRIGGER memory_facts_set_updated_at;
UPDATE agent.memory_facts SET valid_from = updated_at, recorded_at = updated_at;
ALTER TABLE agent.memory_facts ENABLE TRIGGER memory_facts_set_updated_at;
-- The ADD COLUMN above already holds this table's exclusive lock until the file commits.
ALTER TABLE agent.memory_facts
  ALTER COLUMN valid_from SET DEFAULT now(),
  ALTER COLUMN valid_from SET NOT NULL,
  ALTER COLUMN recorded_at SET DEFAULT now(),
  ALTER COLUMN recorded_at SET NOT NULL;

-- Versions share (client_id, fact_key); the index serves the as-of lookup instead.
ALTER TABLE agent.memory_facts DROP CONSTRAINT memory_facts_client_id_fact_key_key;
CREATE INDEX memory_facts_client_id_fact_key_idx
  ON agent.memory_facts (client_id, fact_key, valid_from DESC, recorded_at DESC);

COMMENT ON TABLE agent.memory_facts IS
  'Facts about a client (e.g. preferred_language = German) with their history: each row is one version, true from valid_from and known from recorded_at, until a later version of the same client and fact_key begins. Changing a fact is inserting its new value (append-only for the API roles); agent.memory_facts_as_of(client_id, valid_at, known_at) answers what was believed at known_at about valid_at.';
COMMENT ON COLUMN agent.memory_facts.fact_key IS
  'Fact name, e.g. preferred_language; one client has one row per version of each fact.';
COMMENT ON COLUMN agent.memory_facts.fact_value IS 'Fact value as text (for a retraction: the value that stopped being true).';
COMMENT ON COLUMN agent.memory_facts.valid_from IS
  'Valid time: from when this value is true in the world (default now()). Earlier than now for a correction of the past. The version is true until the valid_from of the next version of the same fact.';
COMMENT ON COLUMN agent.memory_facts.recorded_at IS
  'Transaction time: when the database learnt this version (default now(); the API roles cannot write it). Versions recorded after a given moment were not known then.';
COMMENT ON COLUMN agent.memory_facts.retracted IS
  'true = from valid_from the fact no longer holds at all (no value), until a later version sets one again. Default false.';

-- ---------------------------------------------------------------------------------------------
-- memory_facts_as_of
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION agent.memory_facts_as_of(client_id text, valid_at timestamptz, known_at timestamptz DEFAULT now())
RETURNS SETOF agent.memory_facts
LANGUAGE sql
STABLE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT believed.*
    FROM (SELECT DISTINCT ON (f.fact_key) f.*
            FROM agent.memory_facts f
           WHERE f.client_id = memory_facts_as_of.client_id
             AND f.valid_from <= memory_facts_as_of.valid_at
             AND f.recorded_at <= memory_facts_as_of.known_at
           ORDER BY f.fact_key, f.valid_from DESC, f.recorded_at DESC, f.id DESC) AS believed
   WHERE NOT believed.retracted
   ORDER BY believed.fact_key;
END;
COMMENT ON FUNCTION agent.memory_facts_as_of(text, timestamptz, timestamptz) IS
  'What we believed at known_at (default now) about the client''s facts at valid_at: per fact_key, among the versions recorded by known_at, the one with the latest valid_from not after valid_at (ties: the later recorded); retracted facts are left out. memory_facts_as_of(c, now()) is the current belief. SECURITY INVOKER: a token scoped to another client finds nothing.';

-- ---------------------------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------------------------

-- Append-only: the API roles add versions; only the owner may rewrite or delete history, and
-- nobody but the owner writes the transaction time.
REVOKE UPDATE, DELETE ON agent.memory_facts FROM agent_service, agent_cross_client;
REVOKE UPDATE ON agent.memory_facts FROM memory_gateway;
REVOKE INSERT ON agent.memory_facts FROM agent_service, agent_cross_client, memory_gateway;
GRANT INSERT (client_id, fact_key, fact_value, category, confidence_score, metadata, valid_from, retracted)
  ON agent.memory_facts TO agent_service, agent_cross_client, memory_gateway;

-- The memory functions run as their caller (SECURITY INVOKER), so callers need the helpers too.
GRANT EXECUTE ON FUNCTION
  agent.remember(text, text, text, integer, jsonb, real[]),
  agent.recall(text, text, integer, real[]),
  agent.recall_candidates(text, tsquery, integer),
  agent.forget(text, bigint),
  agent.sweep_expired(integer),
  agent.memory_facts_as_of(text, timestamptz, timestamptz),
  agent.memory_content_hash(text),
  agent.memory_search_query(text),
  agent.cosine_similarity(real[], real[])
  TO agent_service, agent_cross_client, memory_gateway;

-- A running PostgREST reloads its schema cache and sees the new functions.
NOTIFY pgrst, 'reload schema';
