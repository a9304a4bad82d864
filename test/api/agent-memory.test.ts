/**
 * Agent memory (migration 009) through a real PostgREST 12.0.2, as the agent services use it:
 * remember/recall/forget/sweep_expired and memory_facts_as_of as RPC, client isolation by the
 * token's client_id claim, fact history, and `erp agent sweep`. Ages are set by the owner
 * (created_at, last_seen_at) instead of waiting.
 */
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredMemories } from '../../src/db/memory-sweep.ts';
import { erp, startErp } from '../support/cli.ts';
import { embedding } from '../support/embeddings.ts';
import { loginUrl, startApiUnderTest, type ApiUnderTest, type RequestOptions } from './harness.ts';

let t: ApiUnderTest;
beforeAll(async () => {
  t = await startApiUnderTest();
});
afterAll(async () => {
  await t?.stop();
});

const AGENT = { 'accept-profile': 'agent', 'content-profile': 'agent' };

interface Memory {
  id: number;
  content: string;
  language: string | null;
  memory_type: string;
  repeat_count: number;
  expires_at: string | null;
  last_seen_at: string | null;
}

interface Recalled {
  id: number;
  content: string;
  score: number;
  text_relevance: number;
  vector_similarity: number | null;
}

/**
 * POST /rpc/<fn> in schema agent: as an agent_service token scoped to options.clientId, or
 * without one as agent_cross_client (an unscoped agent_service token sees no client's rows).
 */
async function rpc(fn: string, body: Record<string, unknown>, options: Partial<RequestOptions> = {}) {
  return await t.request(`/rpc/${fn}`, {
    role: options.clientId ? 'agent_service' : 'agent_cross_client',
    method: 'POST',
    headers: AGENT,
    body,
    ...options,
  });
}

async function remember(
  body: Record<string, unknown>,
  options: Partial<RequestOptions> = {},
): Promise<Memory> {
  const response = await rpc('remember', body, options);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as Memory;
}

async function recall(
  body: Record<string, unknown>,
  options: Partial<RequestOptions> = {},
): Promise<Recalled[]> {
  const response = await rpc('recall', body, options);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as Recalled[];
}

/** Moves a memory into the past, as if it was remembered (and last seen) `days` ago. */
async function age(id: number, days: number): Promise<void> {
  await t.db.query(
    `UPDATE agent.memory_entries SET created_at = now() - make_interval(days => $2), last_seen_at = NULL WHERE id = $1`,
    [id, days],
  );
}

describe('remember', () => {
  it('keeps one memory per client and normalised content, counting repeats and refreshing last seen', async () => {
    const first = await remember({
      client_id: 'dedup',
      content: 'Prefers invoices in EUR',
      metadata: { a: 1 },
    });
    expect(first).toMatchObject({ repeat_count: 1, last_seen_at: null, memory_type: 'episodic' });
    const again = await remember({
      client_id: 'dedup',
      content: '  prefers   INVOICES\tin eur ',
      metadata: { b: 2 },
    });
    expect(again).toMatchObject({ id: first.id, repeat_count: 2, content: 'Prefers invoices in EUR' });
    expect(again.last_seen_at).not.toBeNull();
    expect((again as unknown as { metadata: unknown }).metadata).toEqual({ a: 1, b: 2 });

    const otherClient = await remember({ client_id: 'dedup-other', content: 'Prefers invoices in EUR' });
    expect(otherClient.id).not.toBe(first.id);
    const { rows } = await t.db.query(
      `SELECT client_id, repeat_count FROM agent.memory_entries WHERE client_id LIKE 'dedup%' ORDER BY client_id`,
    );
    expect(rows).toEqual([
      { client_id: 'dedup', repeat_count: 2 },
      { client_id: 'dedup-other', repeat_count: 1 },
    ]);
  });

  it('extends the expiry of a repeated memory, keeping the longer life', async () => {
    const first = await remember({ client_id: 'ttl', content: 'Call back about the quote', ttl_minutes: 60 });
    await t.db.query(
      `UPDATE agent.memory_entries SET created_at = now() - interval '50 minutes' WHERE id = $1`,
      [first.id],
    );
    const again = await remember({ client_id: 'ttl', content: 'call back about the quote', ttl_minutes: 30 });
    const { rows } = await t.db.query<{ minutes_left: number; ttl_minutes: number }>(
      `SELECT round(extract(epoch FROM expires_at - now()) / 60)::int AS minutes_left, ttl_minutes
         FROM agent.memory_entries WHERE id = $1`,
      [again.id],
    );
    expect(again.id).toBe(first.id);
    expect(rows).toEqual([{ minutes_left: 60, ttl_minutes: 60 }]);

    const forever = await remember({ client_id: 'ttl', content: 'Call back about the quote' });
    expect(forever).toMatchObject({ id: first.id, repeat_count: 3, expires_at: null });
  });

  it('answers with only the columns asked for', async () => {
    const response = await t.request('/rpc/remember?select=id,repeat_count', {
      role: 'agent_service',
      clientId: 'select',
      method: 'POST',
      headers: AGENT,
      body: { client_id: 'select', content: 'Short answer' },
    });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['id', 'repeat_count']);
  });

  it('refuses empty content and unknown memory types', async () => {
    const empty = await rpc('remember', { client_id: 'bad', content: ' \n ' });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/content is empty/);
    const badType = await rpc('remember', { client_id: 'bad', content: 'x', memory_type: 'dream' });
    expect(badType.status).toBe(400);
    expect(badType.body.message).toMatch(/memory_entries_memory_type_check/);
  });
});

describe('recall', () => {
  it('ranks a relevant old memory above an irrelevant new one', async () => {
    const old = await remember({ client_id: 'rank-a', content: 'The client pays invoices by bank transfer' });
    await age(old.id, 400);
    const irrelevant = await remember({ client_id: 'rank-a', content: 'Lunch was pasta with friends' });
    const found = await recall({ client_id: 'rank-a', query: 'how does the client pay invoices?' });
    expect(found[0]!.id).toBe(old.id);
    expect(found.map((memory) => memory.id)).not.toContain(irrelevant.id);
  });

  it('ranks a new memory above an old one that is equally relevant', async () => {
    const old = await remember({ client_id: 'rank-b', content: 'Meeting moved to Monday morning' });
    await age(old.id, 20);
    const fresh = await remember({ client_id: 'rank-b', content: 'Meeting moved to Friday morning' });
    const found = await recall({ client_id: 'rank-b', query: 'meeting morning' });
    expect(found.map((memory) => memory.id)).toEqual([fresh.id, old.id]);
    expect(found[0]!.text_relevance).toBe(found[1]!.text_relevance);
  });

  it('ranks an often repeated memory above an equally relevant one said once', async () => {
    const once = await remember({ client_id: 'rank-c', content: 'Likes green tea' });
    const often = await remember({ client_id: 'rank-c', content: 'Likes black tea' });
    for (let repeat = 0; repeat < 3; repeat += 1)
      await remember({ client_id: 'rank-c', content: 'likes black tea' });
    await t.db.query(
      `UPDATE agent.memory_entries SET created_at = now() - interval '1 day', last_seen_at = NULL WHERE id IN ($1, $2)`,
      [once.id, often.id],
    );
    const found = await recall({ client_id: 'rank-c', query: 'tea' });
    expect(found.map((memory) => memory.id)).toEqual([often.id, once.id]);
  });

  it('finds words of other languages as written, and English words by their stem', async () => {
    const german = await remember({ client_id: 'lang', content: 'Die Rechnungen gehen an die Buchhaltung' });
    const english = await remember({ client_id: 'lang', content: 'She prefers invoices on paper' });
    expect((await recall({ client_id: 'lang', query: 'Rechnungen' })).map((memory) => memory.id)).toEqual([
      german.id,
    ]);
    expect(
      (await recall({ client_id: 'lang', query: 'preferred invoice' })).map((memory) => memory.id),
    ).toEqual([english.id]);
    expect(await recall({ client_id: 'lang', query: 'the an' })).toEqual([]);
  });

  it('lets a query embedding join the ranking when memories have embeddings', async () => {
    const axis = (index: number) => Array.from({ length: 1536 }, (_, i) => (i === index ? 1 : 0));
    const north = await remember({ client_id: 'vector', content: 'Office in the north', embedding: axis(0) });
    const south = await remember({ client_id: 'vector', content: 'Office in the south', embedding: axis(1) });
    const textOnly = await recall({ client_id: 'vector', query: 'office' });
    expect(textOnly.every((memory) => memory.vector_similarity === null)).toBe(true);
    for (const [target, expected] of [
      [0, [north.id, south.id]],
      [1, [south.id, north.id]],
    ] as const) {
      const found = await recall({ client_id: 'vector', query: 'office', query_embedding: axis(target) });
      expect(found.map((memory) => memory.id)).toEqual(expected);
      expect(found[0]!.vector_similarity).toBeCloseTo(1);
    }
  });

  it('leaves out expired memories, and remembering one again starts it afresh', async () => {
    const memory = await remember({ client_id: 'expiry', content: 'Door code is 4711', ttl_minutes: 5 });
    await remember({ client_id: 'expiry', content: 'door code is 4711', ttl_minutes: 5 });
    expect((await recall({ client_id: 'expiry', query: 'door code' })).map((found) => found.id)).toEqual([
      memory.id,
    ]);
    await age(memory.id, 1);
    expect(await recall({ client_id: 'expiry', query: 'door code' })).toEqual([]);
    const fresh = await remember({ client_id: 'expiry', content: 'Door code is 4711', ttl_minutes: 5 });
    expect(fresh).toMatchObject({ repeat_count: 1 });
    expect(fresh.id).not.toBe(memory.id);
  });

  it('refuses max_results outside 1..100', async () => {
    const response = await rpc('recall', { client_id: 'x', query: 'x', max_results: 1000 });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/max_results must be between 1 and 100/);
  });
});

describe('recall that finds what an agent means (migration 018)', () => {
  const contents = async (body: Record<string, unknown>, options: Partial<RequestOptions> = {}) =>
    (await recall(body, options)).map((memory) => memory.content);

  it('finds a memory by a misspelt word and by another form of the word, in its language', async () => {
    const asAcme: Partial<RequestOptions> = { clientId: 'words-acme' };
    await remember({ client_id: 'words-acme', content: 'Prefers invoices by email' }, asAcme);
    await remember({ client_id: 'words-acme', content: 'Has a dog called Rex' }, asAcme);
    await remember(
      { client_id: 'words-acme', content: 'Die Rechnungen gehen an die Buchhaltung', language: 'de' },
      asAcme,
    );
    expect((await contents({ client_id: 'words-acme', query: 'invioce preferences' }, asAcme))[0]).toBe(
      'Prefers invoices by email',
    );
    expect(await contents({ client_id: 'words-acme', query: 'Rechnung', language: 'de' }, asAcme)).toEqual([
      'Die Rechnungen gehen an die Buchhaltung',
    ]);
  });

  it("stems in the client's profile language when remember names none", async () => {
    await t.db.query(
      `INSERT INTO agent.client_profiles (client_id, preferences) VALUES ('words-porto', '{"language": "pt-BR"}')`,
    );
    const memory = await remember({ client_id: 'words-porto', content: 'Recebe as faturas por correio' });
    expect(memory).toMatchObject({ language: 'pt' });
    expect(await contents({ client_id: 'words-porto', query: 'fatura' })).toEqual([
      'Recebe as faturas por correio',
    ]);
    const bad = await rpc('remember', { client_id: 'words-porto', content: 'x', language: '12' });
    expect([bad.status, bad.body.message]).toEqual([
      400,
      expect.stringMatching(/memory_entries_language_check/),
    ]);
  });

  it('merges near-duplicates: punctuation and hyphenation too', async () => {
    const first = await remember({ client_id: 'near-dup', content: 'Prefers invoices by email' });
    await remember({ client_id: 'near-dup', content: 'Prefers invoices by e-mail' });
    const last = await remember({ client_id: 'near-dup', content: 'Prefers invoices by email.' });
    expect(last).toMatchObject({ id: first.id, repeat_count: 3, content: 'Prefers invoices by email' });
  });

  it('reads only the recalled memories as a scoped token, within its read budget, however many the client has', async () => {
    // Read through a client_id index, the client's 30,000 memories would be charged to the budget.
    await t.db.query(
      `INSERT INTO agent.memory_entries (client_id, content)
       SELECT 'many-memories', 'the word' || n || ' and word' || (n % 977) || ' of word' || (n % 131)
         FROM generate_series(1, 30000) AS n`,
    );
    await t.db.query('ANALYZE agent.memory_entries');
    const found = await recall(
      { client_id: 'many-memories', query: 'word5 word77' },
      { clientId: 'many-memories' },
    );
    expect(found).toHaveLength(10);
  });

  it('with a query embedding, ranks a paraphrase with no shared word first', async () => {
    const ceo = await remember({
      client_id: 'hybrid-rpc',
      content: 'Jane Doe runs the company since 2019',
      embedding: embedding({ 5: 1 }),
    });
    const chief = await remember({
      client_id: 'hybrid-rpc',
      content: 'The chief complaint was late delivery',
    });
    await age(chief.id, 3);
    const query = 'who is the chief executive?';
    expect((await recall({ client_id: 'hybrid-rpc', query })).map((memory) => memory.id)).toEqual([chief.id]);
    const fused = await recall({
      client_id: 'hybrid-rpc',
      query,
      query_embedding: embedding({ 5: 0.95, 6: 0.3 }),
    });
    expect(fused.map((memory) => memory.id)).toEqual([ceo.id, chief.id]);
    expect(fused[0]).toMatchObject({ text_relevance: 0 });
    expect(fused[0]!.vector_similarity).toBeGreaterThan(0.9);
  });
});

describe('forget and sweep_expired', () => {
  it('forget removes one memory of the client and says how many it removed', async () => {
    const memory = await remember({ client_id: 'forget', content: 'Temporary note' });
    expect((await rpc('forget', { client_id: 'forget', memory_id: memory.id })).body).toBe(1);
    expect((await rpc('forget', { client_id: 'forget', memory_id: memory.id })).body).toBe(0);
  });

  it('sweep removes expired memories in batches and leaves the unexpired', async () => {
    const ids: Record<string, number[]> = { expired: [], living: [], permanent: [] };
    for (let index = 0; index < 5; index += 1)
      ids.expired!.push(
        (await remember({ client_id: 'sweep', content: `expired ${index}`, ttl_minutes: 10 })).id,
      );
    for (let index = 0; index < 3; index += 1)
      ids.living!.push(
        (await remember({ client_id: 'sweep', content: `living ${index}`, ttl_minutes: 10 })).id,
      );
    ids.permanent!.push((await remember({ client_id: 'sweep', content: 'permanent' })).id);
    for (const id of ids.expired!) await age(id, 1);

    // A job as the owner (019): 5 expired in batches of 2, the short third batch ends it.
    expect(await sweepExpiredMemories(t.db.url, { batchSize: 2 })).toEqual({ removed: 5, batches: 3 });
    const { rows } = await t.db.query<{ id: string }>(
      `SELECT id FROM agent.memory_entries WHERE client_id = 'sweep' ORDER BY id`,
    );
    expect(rows.map((row) => Number(row.id))).toEqual([...ids.living!, ...ids.permanent!]);
  });

  it('`erp agent sweep` sweeps until nothing expired is left', async () => {
    for (let index = 0; index < 3; index += 1) {
      const memory = await remember({ client_id: 'cli-sweep', content: `stale ${index}`, ttl_minutes: 1 });
      await age(memory.id, 1);
    }
    const kept = await remember({ client_id: 'cli-sweep', content: 'still fresh', ttl_minutes: 60 });
    const result = await erp(['agent', 'sweep', '--batch-size', '2'], { DATABASE_URL: t.db.url });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Removed 3 expired memories in 2 batches$/m);
    const { rows } = await t.db.query(`SELECT id FROM agent.memory_entries WHERE client_id = 'cli-sweep'`);
    expect(rows.map((row) => Number(row.id))).toEqual([kept.id]);
    expect((await erp(['agent', 'sweep'], { DATABASE_URL: t.db.url })).stdout).toMatch(/No expired memories/);
  });
  it('`erp agent sweep --every` sweeps at once, then waits, and stops on SIGTERM', async () => {
    const { child: sweeper } = startErp(['agent', 'sweep', '--every', '60'], { DATABASE_URL: t.db.url });
    let output = '';
    sweeper.stdout.setEncoding('utf8');
    const firstSweep = new Promise<void>((resolve) =>
      sweeper.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('\n')) resolve();
      }),
    );
    const exited = once(sweeper, 'exit');
    await firstSweep;
    expect(output).toMatch(/expired memor/);
    sweeper.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

describe('client isolation through RPC', () => {
  const asAlice: Partial<RequestOptions> = { clientId: 'alice' };
  let bobsMemory: Memory;
  beforeAll(async () => {
    bobsMemory = await remember({ client_id: 'bob', content: "Bob's secret project codename" });
    await remember({ client_id: 'alice', content: "Alice's project codename" });
  });

  it("a client-scoped token recalls, forgets and looks up only its own client's memory", async () => {
    const own = await recall({ client_id: 'alice', query: 'project codename' }, asAlice);
    expect(own.map((memory) => memory.content)).toEqual(["Alice's project codename"]);
    // Recall for another client is refused, the same way whether or not that client has memories.
    const foreign = await rpc('recall', { client_id: 'bob', query: 'project codename' }, asAlice);
    expect(foreign).toMatchObject({
      status: 403,
      body: { message: 'This token does not act for client bob' },
    });
    const nobody = await rpc('recall', { client_id: 'nobody', query: 'project codename' }, asAlice);
    expect([nobody.status, nobody.body.message]).toEqual([403, 'This token does not act for client nobody']);
    expect((await rpc('forget', { client_id: 'bob', memory_id: bobsMemory.id }, asAlice)).body).toBe(0);
    expect((await rpc('forget', { client_id: 'alice', memory_id: bobsMemory.id }, asAlice)).body).toBe(0);
    const facts = await rpc(
      'memory_facts_as_of',
      { client_id: 'bob', valid_at: new Date().toISOString() },
      asAlice,
    );
    expect(facts).toMatchObject({ status: 200, body: [] });
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM agent.memory_entries WHERE id = $1`, [bobsMemory.id]))
        .rows,
    ).toEqual([{ n: 1 }]);
  });

  it('the text search behind recall, which runs as the owner, is not served over HTTP', async () => {
    const search = await rpc(
      'recall_candidates',
      { client_id: 'bob', terms: 'codenam', max_candidates: 10 },
      asAlice,
    );
    expect([search.status, search.body.code]).toEqual([404, 'PGRST202']);
  });

  it('a client-scoped token cannot remember for another client; no token may sweep over HTTP', async () => {
    const planted = await rpc('remember', { client_id: 'bob', content: 'planted by alice' }, asAlice);
    expect(planted.status).toBe(403);
    expect(planted.body.message).toMatch(/row-level security/);
    const bobsExpired = await remember({ client_id: 'bob', content: 'expired for bob', ttl_minutes: 1 });
    await age(bobsExpired.id, 1);
    // The sweep is a job (`erp agent sweep`), not an HTTP call (019).
    for (const caller of [asAlice, {}]) {
      const swept = await rpc('sweep_expired', { batch_size: 1000 }, caller);
      expect(swept.status).toBe(403);
      expect(swept.body.message).toMatch(/permission denied for function sweep_expired/);
    }
    expect(
      (await t.db.query(`SELECT content FROM agent.memory_entries WHERE client_id = 'bob' ORDER BY id`)).rows,
    ).toEqual([{ content: "Bob's secret project codename" }, { content: 'expired for bob' }]);
  });

  it('roles without the grant cannot call the memory functions', async () => {
    expect((await rpc('recall', { client_id: 'bob', query: 'x' }, { role: 'dashboard_reader' })).status).toBe(
      403,
    );
    expect((await rpc('remember', { client_id: 'bob', content: 'x' }, { role: 'erp_editor' })).status).toBe(
      403,
    );
    expect((await rpc('recall', { client_id: 'bob', query: 'x' }, { role: undefined })).status).toBe(401);
  });

  it('the memory gateway login calls them directly, for any client', async () => {
    const client = new pg.Client({ connectionString: loginUrl('memory_gateway', t.db.name) });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT id FROM agent.remember(client_id => 'gateway', content => 'Sent the contract', ttl_minutes => 60)`,
      );
      const found = await client.query(`SELECT id, score FROM agent.recall('gateway', 'contract')`);
      expect(found.rows.map((row) => row.id)).toEqual([rows[0].id]);
      expect((await client.query(`SELECT agent.forget('gateway', $1) AS n`, [rows[0].id])).rows).toEqual([
        { n: 1 },
      ]);
      // What other tests left expired goes first; then the one memory aged here is the sweep's.
      while ((await client.query(`SELECT agent.sweep_expired(100) AS n`)).rows[0].n > 0);
      const stale = await client.query(
        `SELECT id FROM agent.remember(client_id => 'gateway', content => 'Stale note', ttl_minutes => 1)`,
      );
      await age(stale.rows[0].id, 1);
      expect((await client.query(`SELECT agent.sweep_expired(10) AS n`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await client.end();
    }
  });
});

describe('client facts with history', () => {
  const asCarol: Partial<RequestOptions> = {
    clientId: 'carol',
    headers: { ...AGENT, prefer: 'return=representation' },
  };
  const record = async (fact: Record<string, unknown>) => {
    const response = await t.request('/memory_facts', {
      role: 'agent_service',
      method: 'POST',
      body: { client_id: 'carol', ...fact },
      ...asCarol,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  };
  /** The database's clock between two requests: later than every version recorded so far. */
  const databaseNow = async () =>
    (await t.db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;
  const believed = async (validAt: Date, knownAt?: Date) => {
    const response = await rpc(
      'memory_facts_as_of',
      {
        client_id: 'carol',
        valid_at: validAt.toISOString(),
        ...(knownAt && { known_at: knownAt.toISOString() }),
      },
      { clientId: 'carol' },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return Object.fromEntries(
      (response.body as { fact_key: string; fact_value: string }[]).map((f) => [f.fact_key, f.fact_value]),
    );
  };

  it('changing a fact keeps the previous value, and as-of answers what was believed when about when', async () => {
    await record({ fact_key: 'language', fact_value: 'English' });
    await record({ fact_key: 'city', fact_value: 'Berlin' });
    const firstKnown = await databaseNow();
    await record({ fact_key: 'language', fact_value: 'German' });
    const secondKnown = await databaseNow();

    expect(await believed(secondKnown)).toEqual({ city: 'Berlin', language: 'German' });
    expect(await believed(secondKnown, firstKnown)).toEqual({ city: 'Berlin', language: 'English' });
    expect(await believed(firstKnown)).toEqual({ city: 'Berlin', language: 'English' });
    expect(await believed(new Date('2000-01-01'))).toEqual({});

    // Learnt later: she had moved to Hamburg a year ago; then the city stopped being known at all.
    const yearAgo = new Date(firstKnown.getTime() - 365 * 86_400_000);
    await record({ fact_key: 'city', fact_value: 'Hamburg', valid_from: yearAgo.toISOString() });
    const correctionKnown = await databaseNow();
    expect(await believed(secondKnown)).toEqual({ city: 'Berlin', language: 'German' });
    expect(await believed(new Date(yearAgo.getTime() + 86_400_000))).toEqual({ city: 'Hamburg' });
    expect(await believed(new Date(yearAgo.getTime() + 86_400_000), secondKnown)).toEqual({});
    await record({ fact_key: 'city', fact_value: 'Berlin', retracted: true });
    expect(await believed(await databaseNow())).toEqual({ language: 'German' });
    expect(await believed(correctionKnown, correctionKnown)).toEqual({ city: 'Berlin', language: 'German' });

    const { rows } = await t.db.query(
      `SELECT fact_key, fact_value, retracted FROM agent.memory_facts WHERE client_id = 'carol' ORDER BY id`,
    );
    expect(rows).toHaveLength(5);
  });

  it('facts are append-only for the API roles: no change, no delete, no made-up transaction time', async () => {
    await record({ fact_key: 'tone', fact_value: 'brief' });
    const patched = await t.request('/memory_facts?fact_key=eq.tone', {
      role: 'agent_service',
      method: 'PATCH',
      body: { fact_value: 'chatty' },
      ...asCarol,
    });
    expect(patched.status).toBe(403);
    const deleted = await t.request('/memory_facts?fact_key=eq.tone', {
      role: 'agent_service',
      method: 'DELETE',
      ...asCarol,
    });
    expect(deleted.status).toBe(403);
    const backdated = await t.request('/memory_facts', {
      role: 'agent_service',
      method: 'POST',
      body: {
        client_id: 'carol',
        fact_key: 'tone',
        fact_value: 'formal',
        recorded_at: '2001-01-01T00:00:00Z',
      },
      ...asCarol,
    });
    expect(backdated.status).toBe(403);
    expect(
      (
        await t.db.query(
          `SELECT fact_value FROM agent.memory_facts WHERE client_id = 'carol' AND fact_key = 'tone'`,
        )
      ).rows,
    ).toEqual([{ fact_value: 'brief' }]);
  });
});
