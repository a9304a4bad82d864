-- 022_recall_speed.sql
--
-- Recall and remember as fast as before 018, finding the same memories (issue 27; figures in
-- bench/results/agent-memory.md):
--
--   * A misspelt word is no longer corrected to a stop word. "trata" (Portuguese) was corrected
--     to "that", which most memories of an English-speaking client hold: every such recall
--     ranked tens of thousands of memories (2 s instead of 10 ms at 100,000 memories a client).
--     The words a question leaves out (stop words of English and of the client's languages,
--     agent_private.memory_is_stop_word) are now left out of the corrections as well.
--   * remember fires the vocabulary's triggers once instead of three times: it deletes an
--     expired twin only when there is one (a DELETE fires its statement trigger even when it
--     removes nothing), and the trigger function runs one statement per event instead of three.
--   * Typo correction keeps fuzzystrmatch and 018's indexes on the words' first and last two
--     letters. Measured again on this server, which has pg_trgm: over a vocabulary of 600,000
--     words (60,000 a client) a trigram GIN index on (client_id, word) took 2.1-2.5 ms a question
--     word, the two-letter indexes 0.4-0.6 ms. Neither is where a recall's time goes: ranking the
--     memories that hold the words is.
--
-- Functions only: no table is rewritten or locked for long. No BEGIN/COMMIT: the runner wraps
-- the file in a transaction; it also runs with plain psql.

SET lock_timeout = '5s';

-- ---------------------------------------------------------------------------------------------
-- Stop words, for questions and corrections alike
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION agent_private.memory_is_stop_word(word text, languages text[])
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
RETURN EXISTS (SELECT FROM unnest(coalesce(languages, '{}') || ARRAY['en']) AS s (language)
                WHERE agent_private.memory_text_config(s.language) <> 'simple'::regconfig
                  AND to_tsvector(agent_private.memory_text_config(s.language), word) = ''::tsvector);
COMMENT ON FUNCTION agent_private.memory_is_stop_word(text, text[]) IS
  'true for a word that English or one of languages (ISO 639-1 codes) calls a stop word ("the", "that", "die", "em"): left out of a question''s words and of their corrections, or it would match nearly every memory.';

-- As 018, the stop-word test now named.
CREATE OR REPLACE FUNCTION agent_private.memory_search_words(query text, languages text[])
RETURNS text[]
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
RETURN (
  SELECT coalesce(array_agg(DISTINCT form.lexeme ORDER BY form.lexeme), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, agent_private.memory_fold(query)))) AS w (word)
   CROSS JOIN LATERAL (
     SELECT w.word
     UNION
     SELECT unnest(tsvector_to_array(to_tsvector(agent_private.memory_text_config(l.language), w.word)))
       FROM unnest(languages) AS l (language)) AS form (lexeme)
   WHERE NOT agent_private.memory_is_stop_word(w.word, languages)
);

-- ---------------------------------------------------------------------------------------------
-- recall: corrections that are not stop words
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION agent_private.recall_candidates(client_id text, query text, language text, max_candidates integer)
RETURNS TABLE (id bigint, text_relevance double precision, weight double precision)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
ROWS 100
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  languages text[];
  words text[];
  corrections text[];
  exact tsquery;
  corrected tsquery;
  either tsquery;
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
  languages := CASE WHEN agent_private.memory_language(recall_candidates.language) IS NULL
                    THEN agent_private.memory_languages(recall_candidates.client_id)
                    ELSE ARRAY[agent_private.memory_language(recall_candidates.language)] END;
  words := agent_private.memory_search_words(recall_candidates.query, languages);
  -- Each word also finds the client's words within a few edits of it (018): the five nearest,
  -- most used first, among the words that begin or end with the same two letters. A stop word is
  -- never a correction: "trata" would find "that", held by most memories of an English client,
  -- and every one of them would be ranked.
  SELECT array_agg(DISTINCT near.word) INTO corrections
    FROM unnest(words) AS asked (word)
   CROSS JOIN LATERAL (
     SELECT v.word
       FROM agent_private.memory_words v,
            LATERAL (SELECT CASE WHEN length(asked.word) >= 6 THEN 2 ELSE 1 END
                              + least(greatest(length(v.word) - length(asked.word), 0), 3) AS allowed) AS edits
      WHERE v.client_id = recall_candidates.client_id
        AND (left(v.word, 2) = left(asked.word, 2) OR right(v.word, 2) = right(asked.word, 2))
        AND v.word <> ALL (words)
        AND extensions.levenshtein_less_equal(v.word, asked.word, edits.allowed) <= edits.allowed
        AND NOT agent_private.memory_is_stop_word(v.word, languages)
      ORDER BY extensions.levenshtein(v.word, asked.word), v.memories DESC, v.word
      LIMIT 5) AS near
   WHERE agent_private.memory_word_is_correctable(asked.word);
  exact := agent_private.memory_any_word(words);
  corrected := agent_private.memory_any_word(corrections);
  -- Combined here, once: inside the query a cached plan would combine them again for every row.
  either := coalesce(exact || corrected, exact, corrected);
  IF either IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT scored.id, scored.text_relevance, scored.weight
    FROM (SELECT m.id,
                 coalesce(ts_rank_cd(m.search_document, exact, 32), 0)::double precision
                   + 0.5 * coalesce(ts_rank_cd(m.search_document, corrected, 32), 0)::double precision AS text_relevance,
                 agent_private.memory_weight(coalesce(m.last_seen_at, m.created_at), m.repeat_count) AS weight
            FROM agent.memory_entries m
           WHERE m.client_id = recall_candidates.client_id
             AND m.search_document @@ either
             AND (m.expires_at IS NULL OR m.expires_at > now())) AS scored
   ORDER BY scored.text_relevance * scored.weight DESC, scored.id DESC
   LIMIT recall_candidates.max_candidates;
END;
$$;
COMMENT ON FUNCTION agent_private.recall_candidates(text, text, text, integer) IS
  'Part of agent.recall, the word side: the ids of the client''s unexpired memories holding a word of the query (agent_private.memory_search_words, stemmed in language or else in every language of the client''s memories) or one of the five of the client''s words nearest to a query word (agent_private.memory_words: words with the same first or last two letters within 1 edit, 2 from six letters, plus up to 3 letters more at the end; never a stop word, agent_private.memory_is_stop_word), with text relevance (ts_rank_cd(document, words, 32) + 0.5 * ts_rank_cd(document, near words, 32)) and weight (agent_private.memory_weight), best first, at most max_candidates (1..1000). SECURITY DEFINER; refuses (insufficient_privilege) unless agent_private.caller_may_act_for(client_id); returns no content. Not served over HTTP.';

-- ---------------------------------------------------------------------------------------------
-- remember: the vocabulary kept in one statement per write
-- ---------------------------------------------------------------------------------------------

-- One statement per event, where 018 ran three (two to collect the changes into an array, one
-- to apply them): a trigger's statements are most of what a single remember costs. The words
-- of the rows a statement removed count -1 and of those it added +1; rows whose document did
-- not change (a repeat) cancel out. Sorted, so concurrent writers lock in one order.
CREATE OR REPLACE FUNCTION agent_private.count_memory_words()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO agent_private.memory_words AS v (client_id, word, memories)
    SELECT n.client_id, w.word, count(*)::integer
      FROM new_rows n, unnest(tsvector_to_array(n.search_document)) AS w (word)
     WHERE agent_private.memory_word_is_correctable(w.word)
     GROUP BY n.client_id, w.word
     ORDER BY n.client_id, w.word
    ON CONFLICT (client_id, word) DO UPDATE SET memories = v.memories + excluded.memories;
  ELSIF TG_OP = 'DELETE' THEN
    WITH summed AS (
      SELECT o.client_id, w.word, count(*)::integer AS removed
        FROM old_rows o, unnest(tsvector_to_array(o.search_document)) AS w (word)
       WHERE agent_private.memory_word_is_correctable(w.word)
       GROUP BY o.client_id, w.word
    ), gone AS (
      DELETE FROM agent_private.memory_words v
       USING summed s
       WHERE v.client_id = s.client_id AND v.word = s.word AND v.memories <= s.removed
    )
    UPDATE agent_private.memory_words v
       SET memories = v.memories - s.removed
      FROM summed s
     WHERE v.client_id = s.client_id AND v.word = s.word AND v.memories > s.removed;
  ELSE
    WITH summed AS (
      SELECT c.client_id, c.word, sum(c.change)::integer AS change
        FROM (SELECT o.client_id, w.word, -1 AS change
                FROM old_rows o, unnest(tsvector_to_array(o.search_document)) AS w (word)
               WHERE agent_private.memory_word_is_correctable(w.word)
              UNION ALL
              SELECT n.client_id, w.word, 1
                FROM new_rows n, unnest(tsvector_to_array(n.search_document)) AS w (word)
               WHERE agent_private.memory_word_is_correctable(w.word)) AS c
       GROUP BY c.client_id, c.word
      HAVING sum(c.change) <> 0
    ), gone AS (
      DELETE FROM agent_private.memory_words v
       USING summed s
       WHERE v.client_id = s.client_id AND v.word = s.word AND s.change < 0 AND v.memories + s.change <= 0
    ), fewer AS (
      UPDATE agent_private.memory_words v
         SET memories = v.memories + s.change
        FROM summed s
       WHERE v.client_id = s.client_id AND v.word = s.word AND s.change < 0 AND v.memories + s.change > 0
    )
    INSERT INTO agent_private.memory_words AS v (client_id, word, memories)
    SELECT s.client_id, s.word, s.change FROM summed s WHERE s.change > 0 ORDER BY s.client_id, s.word
    ON CONFLICT (client_id, word) DO UPDATE SET memories = v.memories + excluded.memories;
  END IF;
  RETURN NULL;
END;
$$;

-- As 018, except that the expired twin is looked for before it is deleted.
CREATE OR REPLACE FUNCTION agent.remember(
  client_id text,
  content text,
  memory_type text DEFAULT 'episodic',
  ttl_minutes integer DEFAULT NULL,
  metadata jsonb DEFAULT '{}',
  embedding real[] DEFAULT NULL,
  language text DEFAULT NULL
)
RETURNS agent.memory_entries
LANGUAGE plpgsql
VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  remembered agent.memory_entries;
  -- The memory's language, else the one the client's profile prefers (read as the caller).
  memory_language constant text := coalesce(
    agent_private.memory_language(remember.language),
    (SELECT agent_private.memory_language(p.preferences ->> 'language')
       FROM agent.client_profiles p WHERE p.client_id = remember.client_id));
  dedup_key constant bytea := agent_private.memory_content_hash(remember.content);
BEGIN
  IF remember.content IS NULL OR remember.content !~ '[^[:space:]]' THEN
    RAISE EXCEPTION 'nothing to remember: content is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- An expired memory is gone even before the sweep reaches it: the same content starts afresh.
  -- Looked for first: a DELETE runs the vocabulary's trigger even when it removes nothing.
  IF EXISTS (SELECT FROM agent.memory_entries m
              WHERE m.client_id = remember.client_id AND m.content_hash = dedup_key AND m.expires_at <= now()) THEN
    DELETE FROM agent.memory_entries m
     WHERE m.client_id = remember.client_id AND m.content_hash = dedup_key AND m.expires_at <= now();
  END IF;
  INSERT INTO agent.memory_entries AS m (client_id, content, memory_type, ttl_minutes, metadata, embedding, language)
  VALUES (remember.client_id, remember.content, coalesce(remember.memory_type, 'episodic'), remember.ttl_minutes,
          coalesce(remember.metadata, '{}'), remember.embedding, memory_language)
  ON CONFLICT (client_id, content_hash) DO UPDATE
     SET repeat_count = m.repeat_count + 1,
         last_seen_at = now(),
         -- The longer life wins; no TTL on either side means the memory no longer expires.
         ttl_minutes = CASE WHEN m.ttl_minutes IS NULL OR excluded.ttl_minutes IS NULL THEN NULL
                            ELSE greatest(m.ttl_minutes, excluded.ttl_minutes) END,
         metadata = m.metadata || excluded.metadata,
         embedding = coalesce(excluded.embedding, m.embedding),
         language = coalesce(excluded.language, m.language)
  RETURNING m.* INTO remembered;
  RETURN remembered;
END;
$$;

REVOKE ALL ON FUNCTION agent_private.memory_is_stop_word(text, text[]) FROM PUBLIC;
