/**
 * Recall that finds what an agent means (migration 018), in SQL as the memory gateway's
 * connection uses it: misspelt words, other forms of a word in the memory's language, accents,
 * near-duplicates that merge, the client's vocabulary kept in step, and word and vector ranks fused.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, embedding } from '../support/embeddings.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface Remembered {
  id: string;
  repeat_count: number;
  created_at: Date;
  last_seen_at: Date | null;
  language: string | null;
}

async function remember(
  clientId: string,
  content: string,
  options: { language?: string; embedding?: number[] } = {},
): Promise<Remembered> {
  const { rows } = await db.query<Remembered>(
    `SELECT id, repeat_count, created_at, last_seen_at, language
       FROM agent.remember(client_id => $1, content => $2, language => $3, embedding => $4::real[])`,
    [clientId, content, options.language ?? null, options.embedding ?? null],
  );
  return rows[0]!;
}

async function recall(
  clientId: string,
  query: string,
  options: { language?: string; embedding?: number[]; max?: number } = {},
): Promise<string[]> {
  const { rows } = await db.query<{ content: string }>(
    `SELECT content FROM agent.recall(client_id => $1, query => $2, max_results => $3,
                                      query_embedding => $4::real[], language => $5)`,
    [clientId, query, options.max ?? 10, options.embedding ?? null, options.language ?? null],
  );
  return rows.map((row) => row.content);
}

async function words(clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ word: string }>(
    `SELECT word FROM agent_private.memory_words WHERE client_id = $1 ORDER BY word`,
    [clientId],
  );
  return rows.map((row) => row.word);
}

describe('words, forgivingly', () => {
  beforeAll(async () => {
    for (const content of [
      'Prefers invoices by email',
      'Prefers meetings on Tuesday mornings',
      'Has a dog called Rex',
      'Door code is 4712',
    ])
      await remember('typos', content);
  });

  it('finds a memory by a misspelt word, and ranks it first', async () => {
    expect((await recall('typos', 'invioce preferences'))[0]).toBe('Prefers invoices by email');
    expect(await recall('typos', 'tuseday')).toEqual(['Prefers meetings on Tuesday mornings']);
    // A typo at the start: the word's end finds it.
    expect(await recall('typos', 'rpefers')).toEqual([
      'Prefers meetings on Tuesday mornings',
      'Prefers invoices by email',
    ]);
  });

  it('never corrects a word to a stop word, which most memories hold', async () => {
    await remember('stops', 'Read that report before Friday');
    // "thaw" is one letter from "that", an English stop word: no memory holds "thaw".
    expect(await recall('stops', 'thaw')).toEqual([]);
    expect(await recall('stops', 'reprot')).toEqual(['Read that report before Friday']);
  });

  it('corrects neither numbers nor short words', async () => {
    expect(await recall('typos', 'code 4711')).toEqual(['Door code is 4712']);
    expect(await recall('typos', '4711')).toEqual([]);
    expect(await recall('typos', 'cat')).toEqual([]);
  });

  it("stems in the memory's own language: German, Portuguese, English", async () => {
    await remember('forms', 'Die Rechnungen gehen an die Buchhaltung', { language: 'de' });
    await remember('forms', 'Cliente prefere receber as faturas em papel', { language: 'pt-BR' });
    await remember('forms', 'She paid the outstanding invoices', { language: 'en' });
    expect(await recall('forms', 'Rechnung')).toEqual(['Die Rechnungen gehen an die Buchhaltung']);
    expect(await recall('forms', 'fatura')).toEqual(['Cliente prefere receber as faturas em papel']);
    expect(await recall('forms', 'paying invoice')).toEqual(['She paid the outstanding invoices']);
    // Stop words of every language the client uses are left out, in every form.
    expect(await recall('forms', 'die the as em')).toEqual([]);
  });

  it("takes the client's profile language when remember names none, and simple when there is none", async () => {
    await db.query(
      `INSERT INTO agent.client_profiles (client_id, preferences) VALUES ('profiled', '{"language": "de-AT"}')`,
    );
    expect((await remember('profiled', 'Zahlungen kommen immer spät')).language).toBe('de');
    expect((await remember('unknown', 'Zahlungen kommen immer spät')).language).toBeNull();
    const { rows } = await db.query<{ client_id: string; document: string }>(
      `SELECT client_id, search_document::text AS document FROM agent.memory_entries
        WHERE client_id IN ('profiled', 'unknown') ORDER BY client_id`,
    );
    expect(rows).toEqual([
      {
        client_id: 'profiled',
        document: "'imm':3 'immer':7 'komm':2 'kommen':6 'spat':4,8 'zahlung':1 'zahlungen':5",
      },
      { client_id: 'unknown', document: "'immer':3,7 'kommen':2,6 'spat':4,8 'zahlungen':1,5" },
    ]);
  });

  it('folds accents on both sides', async () => {
    await remember('accents', 'Prüfung der Fátura für Café Müller', { language: 'de' });
    for (const query of ['Prufung', 'PRÜFUNG', 'fatura', 'cafe muller'])
      expect(await recall('accents', query), query).toEqual(['Prüfung der Fátura für Café Müller']);
  });

  it('finds the candidates for a misspelt word through the indexes on word starts and ends', async () => {
    // Enough memories of made-up words for the planner to prefer an index over reading them all.
    await db.query(
      `INSERT INTO agent.memory_entries (client_id, content)
       SELECT 'many', translate(md5(n::text), '0123456789', 'ghijklmnop') || ' '
                      || translate(md5((n + 1)::text), '0123456789', 'ghijklmnop')
         FROM generate_series(1, 5000) AS n`,
    );
    await db.query('ANALYZE agent.memory_entries, agent_private.memory_words');
    // Without the sequential scan a small table offers, which index the planner can use.
    const plan = async (sql: string, params: unknown[]) => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query(`EXPLAIN ${sql}`, params);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    expect(
      await plan(
        `SELECT word FROM agent_private.memory_words
          WHERE client_id = $1 AND (left(word, 2) = left($2, 2) OR right(word, 2) = right($2, 2))`,
        ['many', 'invioce'],
      ),
    ).toMatch(/memory_words_client_id_word_start_idx[\s\S]*memory_words_client_id_word_end_idx/);
  });
});

describe('near-duplicates', () => {
  it('are one memory: case, whitespace, punctuation and hyphenation ignored', async () => {
    const first = await remember('dedup', 'Prefers invoices by email');
    const variants = [
      'Prefers invoices by e-mail',
      'prefers invoices by email.',
      '  PREFERS  invoices, by e‑mail!',
      '"Prefers invoices by email"',
    ];
    let last = first;
    for (const content of variants) last = await remember('dedup', content);
    expect(last).toMatchObject({ id: first.id, repeat_count: 5, created_at: first.created_at });
    expect(last.last_seen_at!.getTime()).toBeGreaterThanOrEqual(first.created_at.getTime());
    const { rows } = await db.query(`SELECT content FROM agent.memory_entries WHERE client_id = 'dedup'`);
    expect(rows).toEqual([{ content: 'Prefers invoices by email' }]);
  });

  it('keeps apart what differs in a number, a letter or an accent', async () => {
    const ids = new Set<string>();
    for (const content of [
      'Discount 1.5%',
      'Discount 15%',
      'Discount 1,5%',
      'Meet at the cafe',
      'Meet at the café',
    ])
      ids.add((await remember('apart', content)).id);
    expect(ids.size).toBe(5);
  });
});

describe("the client's vocabulary", () => {
  it('grows and shrinks with the memories, so a forgotten memory leaves no word behind', async () => {
    const memory = await remember('vocabulary', 'Cliente prefere faturas', { language: 'pt' });
    await remember('vocabulary', 'Cliente liga sempre', { language: 'pt' });
    // Words of four letters or more: stemmed (portuguese) and as written.
    expect(await words('vocabulary')).toEqual([
      'client',
      'cliente',
      'fatur',
      'faturas',
      'liga',
      'prefer',
      'prefere',
      'sempr',
      'sempre',
    ]);
    await db.query(`SELECT agent.forget('vocabulary', $1)`, [memory.id]);
    expect(await words('vocabulary')).toEqual(['client', 'cliente', 'liga', 'sempr', 'sempre']);
    await db.query(
      `UPDATE agent.memory_entries SET content = 'Cliente liga nunca' WHERE client_id = 'vocabulary'`,
    );
    expect(await words('vocabulary')).toEqual(['client', 'cliente', 'liga', 'nunc', 'nunca']);
    expect(await recall('vocabulary', 'fatura')).toEqual([]);
  });

  it('counts a word once per memory through repeats and an expired memory remembered afresh', async () => {
    const counts = async () =>
      (
        await db.query<{ word: string; memories: number }>(
          `SELECT word, memories FROM agent_private.memory_words WHERE client_id = 'counts' ORDER BY word`,
        )
      ).rows;
    await remember('counts', 'Invoices go to Berlin');
    await remember('counts', 'invoices go to berlin.');
    const expiring = await db.query<{ id: string }>(
      `SELECT id FROM agent.remember('counts', 'Invoices wait in Hamburg', ttl_minutes => 1)`,
    );
    await db.query(
      `UPDATE agent.memory_entries SET created_at = now() - interval '1 hour', last_seen_at = NULL WHERE id = $1`,
      [expiring.rows[0]!.id],
    );
    const afresh = await remember('counts', 'Invoices wait in Hamburg');
    expect(afresh.id).not.toBe(expiring.rows[0]!.id);
    expect(await counts()).toEqual([
      { word: 'berlin', memories: 1 },
      { word: 'hamburg', memories: 1 },
      { word: 'invoices', memories: 2 },
      { word: 'wait', memories: 1 },
    ]);
  });
});

describe('hybrid ranking', () => {
  const meetings = embedding({ 3: 1 });
  const bank = embedding({ 7: 1 });
  const question = embedding({ 3: 0.9, 4: 0.3 });
  beforeAll(async () => {
    await remember('hybrid', 'Prefers meetings on Tuesday mornings', { embedding: meetings });
    const sharingWords = [
      await remember('hybrid', 'Call the bank to schedule the loan payment', { embedding: bank }),
      await remember('hybrid', 'Schedule a call before sending the contract'),
    ];
    // Seen a week ago: first by words and first by vector tie, and then recency decides.
    await db.query(
      `UPDATE agent.memory_entries SET created_at = now() - interval '7 days' WHERE id = ANY ($1::bigint[])`,
      [sharingWords.map((memory) => memory.id)],
    );
  });

  it('finds a paraphrase with no shared word by its embedding, first', async () => {
    const words = await recall('hybrid', 'when should we schedule a call?');
    expect(words).not.toContain('Prefers meetings on Tuesday mornings');
    const fused = await recall('hybrid', 'when should we schedule a call?', { embedding: question });
    expect(fused[0]).toBe('Prefers meetings on Tuesday mornings');
    expect(fused).toHaveLength(3);
  });

  it('fuses by reciprocal rank, 1 / (60 + rank) per side, times recency and repeats', async () => {
    const { rows } = await db.query<{ content: string; score: number; weight: number }>(
      `SELECT r.content, r.score,
              agent_private.memory_weight(coalesce(r.last_seen_at, r.created_at), r.repeat_count) AS weight
         FROM agent.recall('hybrid', 'bank loan', 10, $1::real[]) AS r`,
      [embedding({ 7: 1, 3: 0.5 })],
    );
    // The bank memory is first by words and by vector; the meetings memory is second by vector only.
    expect(rows.map((row) => row.content)).toEqual([
      'Call the bank to schedule the loan payment',
      'Prefers meetings on Tuesday mornings',
    ]);
    expect(rows[0]!.score).toBeCloseTo((2 / 61) * rows[0]!.weight, 9);
    expect(rows[1]!.score).toBeCloseTo((1 / 62) * rows[1]!.weight, 9);
  });

  it('the vector side orders a test set as the exact cosine does', async () => {
    const vectors = Array.from({ length: 40 }, (_, index) =>
      embedding({ [index % 10]: 1 + (index % 7), [10 + (index % 13)]: 1 + (index % 5), 30: index / 10 }),
    );
    for (const [index, vector] of vectors.entries())
      await remember('vectors', `vector memory ${index}`, { embedding: vector });
    const probe = embedding({ 2: 3, 14: 2, 30: 1 });
    const { rows } = await db.query<{ content: string }>(
      `SELECT m.content
         FROM agent_private.recall_vector_candidates('vectors', $1::real[], 10)
              WITH ORDINALITY AS c (id, vector_similarity, weight, position)
         JOIN agent.memory_entries m ON m.id = c.id
        ORDER BY c.position`,
      [probe],
    );
    const expected = vectors
      .map((vector, index) => ({
        content: `vector memory ${index}`,
        similarity: cosine(vector, probe),
        index,
      }))
      .sort((a, b) => b.similarity - a.similarity || b.index - a.index)
      .slice(0, 10)
      .map((entry) => entry.content);
    expect(rows.map((row) => row.content)).toEqual(expected);
  });

  it('the vector side checks the client like the word side', async () => {
    const client = new pg.Client({ connectionString: db.superuserUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `SELECT set_config('role', 'agent_service', true), set_config('request.jwt.claims', '{"client_id": "other"}', true)`,
      );
      await expect(
        client.query(`SELECT * FROM agent_private.recall_vector_candidates('hybrid', $1::real[], 10)`, [
          question,
        ]),
      ).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });
});
