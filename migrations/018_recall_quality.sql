-- 018_recall_quality.sql
--
-- Recall that finds what an agent means (issue 27; docs/API.md, "Agent memory over RPC"):
--
--   * Words, forgivingly. Content is folded (accents dropped with unaccent, lower case) and
--     stemmed in the memory's own language (memory_entries.language, an ISO 639-1 code given to
--     remember or taken from the client's profile preference; `simple` when unknown). A question
--     is stemmed in the languages of the client's memories. Each question word also finds the
--     client's words within a few edits of it (fuzzystrmatch's Levenshtein distance over the
--     client's vocabulary, read through indexes on the words' first and last two letters), so
--     "invioce" finds "invoices" and "Rechnung" finds "Rechnungen" in any language.
--     Not pg_trgm: over a vocabulary of 600,000 words (60,000 per client) a trigram GIN index
--     took 15-25 ms per question word and a trigram GiST index 40 ms; the two-letter indexes take
--     about a millisecond. The price: a word misspelt at both ends is not corrected.
--   * Near-duplicates merge: the dedup key ignores case, whitespace, punctuation and hyphenation
--     (agent_private.memory_content_hash), and memories that now share a key are merged as 009
--     merged exact repeats.
--   * Hybrid ranking: with a query embedding, recall fuses the word ranking and the vector
--     ranking by reciprocal rank fusion (k = 60); the vector side reads pgvector's HNSW index when
--     this server has the extension (checked in pg_available_extensions below), and compares with
--     every embedded memory of the client by brute force otherwise.
--
-- unaccent and fuzzystrmatch are contrib, shipped by postgres:15-alpine and the embedded
-- server, and trusted (the database owner may create them); they go into schema `extensions`
-- like btree_gin (009). pgvector is not trusted: its part runs only when the extension is
-- available and this role may create it.
--
-- memory_entries gets its dedup hash and search document generated anew: a table rewrite under
-- this file's lock (a few minutes per million memories: writes run at about 6,000 rows a
-- second on the 2-core test machine). No BEGIN/COMMIT: the runner wraps the
-- file in a transaction; it also runs with plain psql.

SET lock_timeout = '5s';

CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA extensions;

-- ---------------------------------------------------------------------------------------------
-- Folding, languages, the dedup key
-- ---------------------------------------------------------------------------------------------

-- unaccent() is only STABLE (its rules file could change); with the dictionary named, as here,
-- its result for a text is fixed, which is what IMMUTABLE promises for the generated column.
-- A standard SQL body binds its names when created, so no search_path is pinned: a function with
-- a SET clause is called with a settings save and restore per row (five times slower inserts).
CREATE FUNCTION agent_private.memory_fold(content text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
RETURN lower(extensions.unaccent('extensions.unaccent'::regdictionary, content));
COMMENT ON FUNCTION agent_private.memory_fold(text) IS
  'A memory''s or question''s text as searched: accents dropped (unaccent: "Prüfung" -> "prufung", "ação" -> "acao") and letters lower-cased.';

CREATE FUNCTION agent_private.memory_text_config(language text)
RETURNS regconfig
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
RETURN CASE language
  WHEN 'ar' THEN 'arabic'::regconfig WHEN 'hy' THEN 'armenian'::regconfig
  WHEN 'eu' THEN 'basque'::regconfig WHEN 'ca' THEN 'catalan'::regconfig
  WHEN 'da' THEN 'danish'::regconfig WHEN 'nl' THEN 'dutch'::regconfig
  WHEN 'en' THEN 'english'::regconfig WHEN 'fi' THEN 'finnish'::regconfig
  WHEN 'fr' THEN 'french'::regconfig WHEN 'de' THEN 'german'::regconfig
  WHEN 'el' THEN 'greek'::regconfig WHEN 'hi' THEN 'hindi'::regconfig
  WHEN 'hu' THEN 'hungarian'::regconfig WHEN 'id' THEN 'indonesian'::regconfig
  WHEN 'ga' THEN 'irish'::regconfig WHEN 'it' THEN 'italian'::regconfig
  WHEN 'lt' THEN 'lithuanian'::regconfig WHEN 'ne' THEN 'nepali'::regconfig
  WHEN 'no' THEN 'norwegian'::regconfig WHEN 'nb' THEN 'norwegian'::regconfig
  WHEN 'nn' THEN 'norwegian'::regconfig WHEN 'pt' THEN 'portuguese'::regconfig
  WHEN 'ro' THEN 'romanian'::regconfig WHEN 'ru' THEN 'russian'::regconfig
  WHEN 'sr' THEN 'serbian'::regconfig WHEN 'es' THEN 'spanish'::regconfig
  WHEN 'sv' THEN 'swedish'::regconfig WHEN 'ta' THEN 'tamil'::regconfig
  WHEN 'tr' THEN 'turkish'::regconfig WHEN 'yi' THEN 'yiddish'::regconfig
  ELSE 'simple'::regconfig
END;
COMMENT ON FUNCTION agent_private.memory_text_config(text) IS
  'The text-search configuration that stems a language given as an ISO 639-1 code (de -> german, pt -> portuguese, en -> english, and every other language Postgres has a stemmer for); simple (words as written) for NULL and for languages without a stemmer.';

-- Accepts what agents send ("de", "pt-BR", "en_GB", "DE"): the primary subtag, lower-cased.
CREATE FUNCTION agent_private.memory_language(language text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
RETURN nullif(lower(split_part(replace(btrim(language), '_', '-'), '-', 1)), '');
COMMENT ON FUNCTION agent_private.memory_language(text) IS
  'A language tag as stored in memory_entries.language: its primary subtag, lower-cased ("pt-BR" -> "pt", "EN_gb" -> "en"); NULL for an empty one.';

ALTER TABLE agent.memory_entries ADD COLUMN language text;
ALTER TABLE agent.memory_entries
  ADD CONSTRAINT memory_entries_language_check CHECK (language ~ '^[a-z]{2,3}$') NOT VALID;
ALTER TABLE agent.memory_entries VALIDATE CONSTRAINT memory_entries_language_check;
COMMENT ON CONSTRAINT memory_entries_language_check ON agent.memory_entries IS
  'A memory''s language is a two- or three-letter ISO 639 code in lower case, such as de or pt.';

-- Roles that write memory_entries column by column (016) may write the language as they write
-- the content; roles with the table-wide privilege have it already.
DO $$
DECLARE
  writer record;
BEGIN
  FOR writer IN
    SELECT r.rolname AS role_name, p.privilege AS privilege_type
      FROM pg_roles r CROSS JOIN (VALUES ('INSERT'), ('UPDATE')) AS p (privilege)
     WHERE has_column_privilege(r.oid, 'agent.memory_entries'::regclass, 'content', p.privilege)
       AND NOT has_table_privilege(r.oid, 'agent.memory_entries'::regclass, p.privilege)
     ORDER BY 1, 2
  LOOP
    EXECUTE format('GRANT %s (language) ON agent.memory_entries TO %I', writer.privilege_type, writer.role_name);
  END LOOP;
END;
$$;

-- Memories written so far are in the language their client's profile prefers, if it names one.
UPDATE agent.memory_entries m
   SET language = agent_private.memory_language(p.preferences ->> 'language')
  FROM agent.client_profiles p
 WHERE p.client_id = m.client_id
   AND agent_private.memory_language(p.preferences ->> 'language') ~ '^[a-z]{2,3}$';

-- The generated columns depend on the functions they call: drop them (their indexes go with
-- them), change the key, and generate both anew in one rewrite.
ALTER TABLE agent.memory_entries DROP COLUMN content_hash, DROP COLUMN search_document;

-- Hyphens, apostrophes and other punctuation are left out, and so is whitespace, so "e-mail",
-- "e mail" and "email" are one key; a punctuation mark between two digits stays, so "1.5" and
-- "15" are not. Named characters instead of [:punct:] alone: in the C locale the class holds
-- ASCII only, and letters of any script must stay in the key.
CREATE OR REPLACE FUNCTION agent_private.memory_content_hash(content text)
RETURNS bytea
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
RETURN sha256(convert_to(
  regexp_replace(lower(normalize(content, NFC)),
                 '(?<![0-9])[[:space:][:punct:]‐‑‒–—―…‘’‚‛“”„«»‹›·¡¿­]+|[[:space:][:punct:]‐‑‒–—―…‘’‚‛“”„«»‹›·¡¿­]+(?![0-9])',
                 '', 'g'),
  'UTF8'));
COMMENT ON FUNCTION agent_private.memory_content_hash(text) IS
  'SHA-256 of a memory''s dedup key: the content in Unicode NFC, lower-cased, with whitespace, punctuation, hyphens, dashes, quotes and apostrophes left out, except a mark between two digits ("1.5" stays apart from "15"). "Prefers invoices by email", "prefers invoices by e-mail" and "Prefers invoices by email." have one key: they are one memory.';

ALTER TABLE agent.memory_entries
  ADD COLUMN content_hash bytea GENERATED ALWAYS AS (agent_private.memory_content_hash(content)) STORED,
  ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    to_tsvector(agent_private.memory_text_config(language), agent_private.memory_fold(content))
    || to_tsvector('simple'::regconfig, agent_private.memory_fold(content))) STORED;

-- Memories that were different before and are one now: keep the oldest of each group with the
-- counts of all (as 009 did for exact repeats), last seen at the latest sighting, the longest
-- TTL (none if one had none), the metadata merged (newer keys win) and the newest embedding.
WITH ranked AS (
  SELECT id,
         row_number() OVER w AS position,
         count(*) OVER w AS copies,
         sum(repeat_count) OVER w AS repeats,
         max(coalesce(last_seen_at, created_at)) OVER w AS last_seen,
         CASE WHEN bool_or(ttl_minutes IS NULL) OVER w THEN NULL ELSE max(ttl_minutes) OVER w END AS longest_ttl
    FROM agent.memory_entries
  WINDOW w AS (PARTITION BY client_id, content_hash ORDER BY created_at, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
), merged AS (
  SELECT m.client_id, m.content_hash,
         jsonb_object_agg(kv.key, kv.value ORDER BY m.created_at, m.id) FILTER (WHERE kv.key IS NOT NULL) AS metadata
    FROM agent.memory_entries m
    LEFT JOIN LATERAL jsonb_each(m.metadata) AS kv ON true
   GROUP BY m.client_id, m.content_hash
  HAVING count(DISTINCT m.id) > 1
), kept AS (
  UPDATE agent.memory_entries m
     SET repeat_count = ranked.repeats, last_seen_at = ranked.last_seen, ttl_minutes = ranked.longest_ttl,
         metadata = coalesce(merged.metadata, '{}'),
         embedding = (SELECT e.embedding FROM agent.memory_entries e
                       WHERE e.client_id = m.client_id AND e.content_hash = m.content_hash AND e.embedding IS NOT NULL
                       ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
    FROM ranked, merged
   WHERE m.id = ranked.id AND ranked.position = 1 AND ranked.copies > 1
     AND merged.client_id = m.client_id AND merged.content_hash = m.content_hash
)
DELETE FROM agent.memory_entries m
 USING ranked
 WHERE m.id = ranked.id AND ranked.position > 1;

CREATE UNIQUE INDEX memory_entries_client_id_content_hash_key
  ON agent.memory_entries (client_id, content_hash);
COMMENT ON INDEX agent.memory_entries_client_id_content_hash_key IS
  'One memory per client and dedup key (agent_private.memory_content_hash): agent.remember counts a repeat or a near-duplicate instead of adding a row.';
CREATE INDEX memory_entries_client_id_search_document_idx
  ON agent.memory_entries USING gin (client_id, search_document);
-- recall stems a question in each language the client's memories use: a few probes of this index.
CREATE INDEX memory_entries_client_id_language_idx ON agent.memory_entries (client_id, language);

COMMENT ON COLUMN agent.memory_entries.language IS
  'The memory''s language, an ISO 639-1 code (de, pt, en, ...): its words are stemmed in it. Given to agent.remember, or the client''s profile preference (client_profiles.preferences.language); NULL = unknown, words are kept as written (simple).';
COMMENT ON COLUMN agent.memory_entries.content_hash IS
  'Generated: agent_private.memory_content_hash(content), SHA-256 of the content with case, whitespace, punctuation and hyphenation left out. Unique per client (memory_entries_client_id_content_hash_key).';
COMMENT ON COLUMN agent.memory_entries.search_document IS
  'Generated full-text document of the folded content (agent_private.memory_fold: accents dropped, lower case): stemmed in the memory''s language (agent_private.memory_text_config(language)) and every word as written (simple). GIN index memory_entries_client_id_search_document_idx (with client_id); searched by agent.recall.';

-- ---------------------------------------------------------------------------------------------
-- The client's vocabulary, for correcting misspelt question words
-- ---------------------------------------------------------------------------------------------

CREATE TABLE agent_private.memory_words (
  client_id text NOT NULL,
  word      text NOT NULL,
  memories  integer NOT NULL,
  CONSTRAINT memory_words_pkey PRIMARY KEY (client_id, word),
  CONSTRAINT memory_words_memories_check CHECK (memories > 0)
);
COMMENT ON TABLE agent_private.memory_words IS
  'Derived, kept by the triggers of agent.memory_entries: each client''s words of four letters or more without digits (the lexemes of search_document) and in how many of its memories each occurs. A word leaves with the last memory holding it (agent.forget forgets its words too). A question word that is not here is corrected to the nearest words here (agent_private.recall_candidates).';
COMMENT ON COLUMN agent_private.memory_words.word IS 'A lexeme of the client''s search documents: folded, stemmed or as written.';
COMMENT ON COLUMN agent_private.memory_words.memories IS 'How many of the client''s memories hold the word (> 0).';
COMMENT ON CONSTRAINT memory_words_memories_check ON agent_private.memory_words IS
  'A word is kept only while a memory holds it.';
-- The candidates for a question word: the client's words that begin or end with the same two
-- letters as it does (another form of a word keeps its start; a typo spares one end or the other).
CREATE INDEX memory_words_client_id_word_start_idx
  ON agent_private.memory_words (client_id, left(word, 2));
CREATE INDEX memory_words_client_id_word_end_idx
  ON agent_private.memory_words (client_id, right(word, 2));

-- Numbers, codes and short words are never corrected ("4711" must not find "4712").
CREATE FUNCTION agent_private.memory_word_is_correctable(word text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
RETURN length(word) >= 4 AND word !~ '[0-9]';
COMMENT ON FUNCTION agent_private.memory_word_is_correctable(text) IS
  'true for words that take part in typo correction: four characters or more, no digit.';

-- Signed counts of the words of the rows a statement removed (-1) and added (+1); rows whose
-- document did not change (a repeat) cancel out. Sorted, so concurrent writers lock in one order.
CREATE FUNCTION agent_private.count_memory_words()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- (client_id, word, signed change): the row type of memory_words, memories holding the change.
  changes agent_private.memory_words[] := '{}';
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT changes || coalesce(array_agg(ROW(o.client_id, w.word, -1)::agent_private.memory_words), '{}')
      INTO changes
      FROM old_rows o, unnest(tsvector_to_array(o.search_document)) AS w (word)
     WHERE agent_private.memory_word_is_correctable(w.word);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT changes || coalesce(array_agg(ROW(n.client_id, w.word, 1)::agent_private.memory_words), '{}')
      INTO changes
      FROM new_rows n, unnest(tsvector_to_array(n.search_document)) AS w (word)
     WHERE agent_private.memory_word_is_correctable(w.word);
  END IF;
  WITH summed AS (
    SELECT c.client_id, c.word, sum(c.memories)::integer AS change
      FROM unnest(changes) AS c
     GROUP BY c.client_id, c.word
    HAVING sum(c.memories) <> 0
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
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION agent_private.count_memory_words() IS
  'Statement trigger function of agent.memory_entries: keeps agent_private.memory_words (the client''s words and how many memories hold each) in step with every insert, update and delete.';

-- Transition tables need one trigger per event.
CREATE TRIGGER memory_entries_count_words_insert AFTER INSERT ON agent.memory_entries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_private.count_memory_words();
CREATE TRIGGER memory_entries_count_words_update AFTER UPDATE ON agent.memory_entries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_private.count_memory_words();
CREATE TRIGGER memory_entries_count_words_delete AFTER DELETE ON agent.memory_entries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_private.count_memory_words();

INSERT INTO agent_private.memory_words (client_id, word, memories)
SELECT m.client_id, w.word, count(*)
  FROM agent.memory_entries m, unnest(tsvector_to_array(m.search_document)) AS w (word)
 WHERE agent_private.memory_word_is_correctable(w.word)
 GROUP BY m.client_id, w.word;

-- ---------------------------------------------------------------------------------------------
-- The question: exact words, corrected words
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION agent_private.memory_search_words(query text, languages text[])
RETURNS text[]
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
-- Each word folded, as written and stemmed in each language. A word that English or one of the
-- languages calls a stop word is left out in every form, or "the" and "die" would match nearly
-- every memory.
RETURN (
  SELECT coalesce(array_agg(DISTINCT form.lexeme ORDER BY form.lexeme), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, agent_private.memory_fold(query)))) AS w (word)
   CROSS JOIN LATERAL (
     SELECT w.word
     UNION
     SELECT unnest(tsvector_to_array(to_tsvector(agent_private.memory_text_config(l.language), w.word)))
       FROM unnest(languages) AS l (language)) AS form (lexeme)
   WHERE NOT EXISTS (SELECT FROM unnest(coalesce(languages, '{}') || ARRAY['en']) AS s (language)
                      WHERE agent_private.memory_text_config(s.language) <> 'simple'::regconfig
                        AND to_tsvector(agent_private.memory_text_config(s.language), w.word) = ''::tsvector)
);
COMMENT ON FUNCTION agent_private.memory_search_words(text, text[]) IS
  'The lexemes agent.recall looks for in a question: folded (agent_private.memory_fold), stemmed in each of languages (ISO 639-1 codes) and as written, stop words of English and of those languages left out.';

-- Quoted for the tsquery parser, so nothing in a question is read as an operator; NULL, not an
-- empty query (which Postgres warns about), when there is no word.
CREATE FUNCTION agent_private.memory_any_word(words text[])
RETURNS tsquery
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT string_agg('''' || replace(replace(w.word, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
          FROM unnest(words) AS w (word));
COMMENT ON FUNCTION agent_private.memory_any_word(text[]) IS
  'A text-search query matching any of words (OR), each quoted as a lexeme; NULL for no words.';

CREATE FUNCTION agent_private.memory_weight(last_seen_at timestamptz, repeat_count integer)
RETURNS double precision
LANGUAGE sql
STABLE PARALLEL SAFE
-- recency: 1 when just seen, halving every 30 days, never below 0.25;
-- repeats: 1 for a single mention, +0.25 per e-fold of repeats.
RETURN (0.25 + 0.75 * power(0.5::double precision,
                            extract(epoch FROM now() - last_seen_at)::double precision / (30 * 86400)))
       * (1 + 0.25 * ln(repeat_count::double precision));
COMMENT ON FUNCTION agent_private.memory_weight(timestamptz, integer) IS
  'recency * repeats of a memory: (0.25 + 0.75 * 0.5 ^ (days since last_seen_at / 30)) * (1 + 0.25 * ln(repeat_count)).';

-- The client's languages by a loose scan of memory_entries_client_id_language_idx: one probe per
-- language instead of reading every memory.
CREATE FUNCTION agent_private.memory_languages(client_id text)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  WITH RECURSIVE used (language) AS (
    SELECT min(m.language) FROM agent.memory_entries m WHERE m.client_id = memory_languages.client_id
    UNION ALL
    SELECT (SELECT min(m.language) FROM agent.memory_entries m
             WHERE m.client_id = memory_languages.client_id AND m.language > used.language)
      FROM used WHERE used.language IS NOT NULL
  )
  SELECT coalesce(array_agg(used.language), '{}') FROM used WHERE used.language IS NOT NULL;
END;
COMMENT ON FUNCTION agent_private.memory_languages(text) IS
  'The languages of the client''s memories (memory_entries.language), found with a few index probes.';

DROP FUNCTION agent.recall(text, text, integer, real[]);
DROP FUNCTION agent_private.recall_candidates(text, tsquery, integer);
DROP FUNCTION agent_private.memory_search_query(text);

-- Runs as the owner for the reasons of 009 and 016 (the index is not used under row-level
-- security, the vocabulary is the client's); the client check of 016 comes first.
CREATE FUNCTION agent_private.recall_candidates(client_id text, query text, language text, max_candidates integer)
RETURNS TABLE (id bigint, text_relevance double precision, weight double precision)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
ROWS 100
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  words text[];
  corrections text[];
  exact tsquery;
  corrected tsquery;
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
  words := agent_private.memory_search_words(
    recall_candidates.query,
    CASE WHEN agent_private.memory_language(recall_candidates.language) IS NULL
         THEN agent_private.memory_languages(recall_candidates.client_id)
         ELSE ARRAY[agent_private.memory_language(recall_candidates.language)] END);
  -- Each word also finds the client's words within a few edits of it: at most one (two from six
  -- letters) plus up to three letters more at the end, so a misspelling ("invioce") and another
  -- form of the word ("Rechnungen", "faturas") are found in memories of any language. The five
  -- nearest, most used first, among the words that begin or end with the same two letters.
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
      ORDER BY extensions.levenshtein(v.word, asked.word), v.memories DESC, v.word
      LIMIT 5) AS near
   WHERE agent_private.memory_word_is_correctable(asked.word);
  exact := agent_private.memory_any_word(words);
  corrected := agent_private.memory_any_word(corrections);
  IF exact IS NULL AND corrected IS NULL THEN
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
             AND m.search_document @@ coalesce(exact || corrected, exact, corrected)
             AND (m.expires_at IS NULL OR m.expires_at > now())) AS scored
   ORDER BY scored.text_relevance * scored.weight DESC, scored.id DESC
   LIMIT recall_candidates.max_candidates;
END;
$$;
COMMENT ON FUNCTION agent_private.recall_candidates(text, text, text, integer) IS
  'Part of agent.recall, the word side: the ids of the client''s unexpired memories holding a word of the query (agent_private.memory_search_words, stemmed in language or else in every language of the client''s memories) or one of the five of the client''s words nearest to a query word (agent_private.memory_words: words with the same first or last two letters within 1 edit, 2 from six letters, plus up to 3 letters more at the end), with text relevance (ts_rank_cd(document, words, 32) + 0.5 * ts_rank_cd(document, near words, 32)) and weight (agent_private.memory_weight), best first, at most max_candidates (1..1000). SECURITY DEFINER; refuses (insufficient_privilege) unless agent_private.caller_may_act_for(client_id); returns no content. Not served over HTTP.';

-- Brute force: every embedded unexpired memory of the client is compared. Replaced below by the
-- HNSW search when pgvector is there.
CREATE FUNCTION agent_private.recall_vector_candidates(client_id text, query_embedding real[], max_candidates integer)
RETURNS TABLE (id bigint, vector_similarity double precision, weight double precision)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
ROWS 100
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF NOT agent_private.caller_may_act_for(recall_vector_candidates.client_id) THEN
    RAISE EXCEPTION 'This token does not act for client %', coalesce(recall_vector_candidates.client_id, 'NULL')
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF recall_vector_candidates.max_candidates IS NULL OR recall_vector_candidates.max_candidates NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'max_candidates must be between 1 and 1000, not %', recall_vector_candidates.max_candidates
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  SELECT near.id, near.vector_similarity, near.weight
    FROM (SELECT m.id,
                 agent_private.cosine_similarity(m.embedding, recall_vector_candidates.query_embedding) AS vector_similarity,
                 agent_private.memory_weight(coalesce(m.last_seen_at, m.created_at), m.repeat_count) AS weight
            FROM agent.memory_entries m
           WHERE m.client_id = recall_vector_candidates.client_id
             AND m.embedding IS NOT NULL
             AND (m.expires_at IS NULL OR m.expires_at > now())) AS near
   WHERE near.vector_similarity > 0
   ORDER BY near.vector_similarity DESC, near.id DESC
   LIMIT recall_vector_candidates.max_candidates;
END;
$$;
COMMENT ON FUNCTION agent_private.recall_vector_candidates(text, real[], integer) IS
  'Part of agent.recall, the vector side: the ids of the client''s unexpired memories nearest to query_embedding (cosine similarity above 0), with that similarity and their weight, nearest first, at most max_candidates (1..1000). Brute force (agent_private.cosine_similarity over every embedded memory of the client) unless migration 018 found pgvector, then the HNSW index memory_entries_embedding_vector_idx. SECURITY DEFINER with the client check of recall_candidates. Not served over HTTP.';

-- With pgvector on this server, the embeddings get a vector twin and an HNSW index, and the
-- vector side reads that index. pgvector is not a trusted extension: without the right to
-- create it the brute force above stays, and the file still applies.
DO $$
DECLARE
  version text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'vector') THEN
    RAISE NOTICE 'pgvector is not available: recall compares embeddings by brute force';
    RETURN;
  END IF;
  BEGIN
    CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pgvector is available but this role may not create it: recall compares embeddings by brute force';
    RETURN;
  END;
  SELECT extversion INTO version FROM pg_extension WHERE extname = 'vector';
  ALTER TABLE agent.memory_entries
    ADD COLUMN embedding_vector extensions.vector(1536) GENERATED ALWAYS AS (embedding::extensions.vector(1536)) STORED;
  COMMENT ON COLUMN agent.memory_entries.embedding_vector IS
    'Generated: embedding as a pgvector vector, for the HNSW index memory_entries_embedding_vector_idx (agent.recall''s vector side).';
  CREATE INDEX memory_entries_embedding_vector_idx
    ON agent.memory_entries USING hnsw (embedding_vector extensions.vector_cosine_ops);
  -- From pgvector 0.8 an HNSW scan keeps going until enough rows pass the client filter.
  EXECUTE format($function$
    CREATE OR REPLACE FUNCTION agent_private.recall_vector_candidates(client_id text, query_embedding real[], max_candidates integer)
    RETURNS TABLE (id bigint, vector_similarity double precision, weight double precision)
    LANGUAGE plpgsql
    STABLE SECURITY DEFINER
    ROWS 100
    SET search_path = pg_catalog, pg_temp
    SET hnsw.ef_search = 1000
    %s
    AS $body$
    #variable_conflict use_column
    BEGIN
      IF NOT agent_private.caller_may_act_for(recall_vector_candidates.client_id) THEN
        RAISE EXCEPTION 'This token does not act for client %%', coalesce(recall_vector_candidates.client_id, 'NULL')
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF recall_vector_candidates.max_candidates IS NULL OR recall_vector_candidates.max_candidates NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_candidates must be between 1 and 1000, not %%', recall_vector_candidates.max_candidates
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      RETURN QUERY
      SELECT near.id, near.vector_similarity, near.weight
        FROM (SELECT m.id,
                     1 - (m.embedding_vector OPERATOR(extensions.<=>) recall_vector_candidates.query_embedding::extensions.vector(1536))
                       AS vector_similarity,
                     agent_private.memory_weight(coalesce(m.last_seen_at, m.created_at), m.repeat_count) AS weight
                FROM agent.memory_entries m
               WHERE m.client_id = recall_vector_candidates.client_id
                 AND m.embedding_vector IS NOT NULL
                 AND (m.expires_at IS NULL OR m.expires_at > now())
               ORDER BY m.embedding_vector OPERATOR(extensions.<=>) recall_vector_candidates.query_embedding::extensions.vector(1536)
               LIMIT recall_vector_candidates.max_candidates) AS near
       WHERE near.vector_similarity > 0
       ORDER BY near.vector_similarity DESC, near.id DESC;
    END;
    $body$
  $function$, CASE WHEN string_to_array(version, '.')::int[] >= ARRAY[0, 8] THEN 'SET hnsw.iterative_scan = relaxed_order' ELSE '' END);
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- remember / recall
-- ---------------------------------------------------------------------------------------------

DROP FUNCTION agent.remember(text, text, text, integer, jsonb, real[]);
CREATE FUNCTION agent.remember(
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
BEGIN
  IF remember.content IS NULL OR remember.content !~ '[^[:space:]]' THEN
    RAISE EXCEPTION 'nothing to remember: content is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- An expired memory is gone even before the sweep reaches it: the same content starts afresh.
  DELETE FROM agent.memory_entries m
   WHERE m.client_id = remember.client_id
     AND m.content_hash = agent_private.memory_content_hash(remember.content)
     AND m.expires_at <= now();
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
COMMENT ON FUNCTION agent.remember(text, text, text, integer, jsonb, real[], text) IS
  'Remembers content for a client and returns the memory row. The same content again, or a near-duplicate (case, whitespace, punctuation and hyphenation ignored: agent_private.memory_content_hash), is the same memory: it keeps its first wording and created_at, repeat_count grows by one, last_seen_at becomes now, the expiry runs again from now with the longer of the two TTLs (no TTL on either side: never expires), metadata is merged (the new keys win), a new embedding or language replaces the old. language: ISO 639-1 code its words are stemmed in ("de", "pt-BR"); default the client''s profile preference, else unknown (words as written). An expired memory is not revived: it is replaced by a fresh one. SECURITY INVOKER: a token scoped to another client is refused (row-level security).';

CREATE FUNCTION agent.recall(
  client_id text,
  query text,
  max_results integer DEFAULT 10,
  query_embedding real[] DEFAULT NULL,
  language text DEFAULT NULL
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
  -- Each side ranks this many; with an embedding both sides have to reach beyond the results.
  candidates constant integer := CASE WHEN recall.query_embedding IS NULL THEN recall.max_results
                                      ELSE least(greatest(recall.max_results * 10, 100), 1000) END;
  -- Reciprocal rank fusion's constant: the weight of rank r on a side is 1 / (60 + r).
  fusion_k constant double precision := 60;
BEGIN
  IF recall.max_results IS NULL OR recall.max_results NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'max_results must be between 1 and 100, not %', recall.max_results
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH by_words AS (
    SELECT c.id, c.text_relevance, c.weight, rank() OVER (ORDER BY c.text_relevance DESC) AS word_rank
      FROM agent_private.recall_candidates(recall.client_id, recall.query, recall.language, candidates) AS c
  ), by_vector AS (
    SELECT c.id, c.weight, rank() OVER (ORDER BY c.vector_similarity DESC) AS vector_rank
      FROM agent_private.recall_vector_candidates(recall.client_id, recall.query_embedding, candidates) AS c
     WHERE recall.query_embedding IS NOT NULL
  ), fused AS (
    SELECT coalesce(w.id, v.id) AS id,
           coalesce(w.text_relevance, 0) AS text_relevance,
           coalesce(w.weight, v.weight) AS weight,
           CASE WHEN recall.query_embedding IS NULL THEN w.text_relevance
                ELSE coalesce(1 / (fusion_k + w.word_rank), 0) + coalesce(1 / (fusion_k + v.vector_rank), 0) END AS relevance
      FROM by_words w
      FULL JOIN by_vector v ON v.id = w.id
  )
  SELECT m.id, m.content, m.memory_type, f.relevance * f.weight AS score, f.text_relevance,
         agent_private.cosine_similarity(m.embedding, recall.query_embedding) AS vector_similarity,
         m.repeat_count, m.created_at, m.last_seen_at, m.expires_at, m.metadata
    FROM fused f
    -- Read as the caller: the row-level security policies apply to what is returned. The ids
    -- as an array make the primary key the only fitting index: through the client_id indexes
    -- the policies' read budget would be charged for every memory of the client.
    JOIN agent.memory_entries m ON m.id = f.id
   WHERE m.id = ANY (ARRAY(SELECT fused.id FROM fused))
   ORDER BY score DESC, m.id DESC
   LIMIT recall.max_results;
END;
$$;
COMMENT ON FUNCTION agent.recall(text, text, integer, real[], text) IS
  'The client''s unexpired memories that hold a word of the query (folded, stemmed in language or the languages of the client''s memories, misspelt words corrected to the client''s own: agent_private.recall_candidates) or, given query_embedding, are near it (agent_private.recall_vector_candidates), best first, at most max_results (1..100). score = relevance * recency * repeats. Without an embedding relevance = text_relevance = ts_rank_cd of the words + half that of the corrections; with one, reciprocal rank fusion of the word ranking and the vector ranking (the 10 * max_results, at least 100, best of each side): 1 / (60 + word rank) + 1 / (60 + vector rank), a side a memory is not on adding 0. recency * repeats = agent_private.memory_weight. Refused (insufficient_privilege) for a client the token does not act for.';

-- ---------------------------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION
  agent_private.memory_fold(text), agent_private.memory_text_config(text), agent_private.memory_language(text),
  agent_private.memory_word_is_correctable(text), agent_private.count_memory_words(),
  agent_private.memory_search_words(text, text[]), agent_private.memory_any_word(text[]),
  agent_private.memory_weight(timestamptz, integer), agent_private.memory_languages(text),
  agent_private.recall_candidates(text, text, text, integer),
  agent_private.recall_vector_candidates(text, real[], integer)
  FROM PUBLIC;
-- The generated columns and remember call these as the writer; recall calls the two searches.
-- unaccent stays out of reach by name (no USAGE on schema extensions); memory_fold calls it.
GRANT EXECUTE ON FUNCTION
  extensions.unaccent(regdictionary, text),
  agent.remember(text, text, text, integer, jsonb, real[], text),
  agent.recall(text, text, integer, real[], text),
  agent_private.memory_fold(text),
  agent_private.memory_text_config(text),
  agent_private.memory_language(text),
  agent_private.recall_candidates(text, text, text, integer),
  agent_private.recall_vector_candidates(text, real[], integer)
  TO agent_service, agent_cross_client, memory_gateway;

-- A running PostgREST reloads its schema cache and sees the new functions.
NOTIFY pgrst, 'reload schema';
