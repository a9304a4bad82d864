/**
 * The API probed as an attacker and a careless client would, against a real PostgREST 12.0.2
 * with production settings (the 80 MB heap cap, db-max-rows, per-role limits of migration 008)
 * behind the local proxy that stands in for Traefik: oversized bodies, a multiplying embed alone
 * and in parallel, 200 parallel reads, unfiltered PATCH/DELETE on every writable table, history
 * rewrites, cross-client references and probes, tokens without a client; rows of 1 MB values,
 * deletes that cascade, unfiltered writes on any table, bulk inserts past the cap and bursts of
 * deletes past the rate limits (issue 23).
 *
 * Memory is measured, not guessed: the peak resident size (VmHWM) of the PostgREST process and of
 * the largest Postgres backend serving it (less the shared buffers it mapped), each checked
 * against its budget.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JWT_AUDIENCE, MAX_REQUEST_BODY_BYTES, MAX_ROWS, RATE_LIMITS } from '../../src/api/config.ts';
import { signToken } from '../../src/api/jwt.ts';
import { CROSS_CLIENT_ROLE } from '../../src/api/roles.ts';
import { PRODUCTION_PROXY_LIMITS, startSchemaProxy } from '../../src/api/schema-proxy.ts';
import { freePort } from '../../src/shared/ports.ts';
import { ALL_TABLES, create, snapshot } from '../schema/fixtures.ts';
import { startApiUnderTest, TEST_JWT_SECRET, type ApiUnderTest } from './harness.ts';

/** The container limit of postgrest-erp in compose.yaml. */
const POSTGREST_BUDGET_MB = 100;
/**
 * What one backend may take of the database's 300 MB, beyond the shared buffers: those are
 * shared_buffers' pages, which the container pays once, not per backend, and how many of them one
 * backend touches depends on what else the cluster is doing (other test files fill them too).
 */
const BACKEND_BUDGET_MB = 64;

/** The agent tables whose rows belong to a client (filled in from the catalog). */
let CLIENT_TABLES: string[] = [];
const WRITING_ROLES = ['erp_editor', 'agent_service', CROSS_CLIENT_ROLE, 'agent_config_editor'];

let t: ApiUnderTest;
const peak = { postgrestMb: 0, backendMb: 0 };

/** Peak resident size (VmHWM); with `withoutShared`, less the shared memory it has mapped (RssShmem). */
async function peakResidentMb(pid: number, { withoutShared = false } = {}): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0);
  return (kb('VmHWM') - (withoutShared ? kb('RssShmem') : 0)) / 1024;
}

/** Takes the peaks so far: PostgREST's, and that of every backend PostgREST holds now. */
async function measure(): Promise<typeof peak> {
  peak.postgrestMb = Math.max(peak.postgrestMb, await peakResidentMb(t.api.postgrest.pid));
  const { rows } = await t.db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = 'authenticator'`,
  );
  for (const { pid } of rows)
    peak.backendMb = Math.max(peak.backendMb, await peakResidentMb(pid, { withoutShared: true }));
  return peak;
}

function expectWithinBudgets(measured: typeof peak): void {
  expect(measured.postgrestMb).toBeGreaterThan(0);
  expect(measured.backendMb).toBeGreaterThan(0);
  expect(measured.postgrestMb, 'PostgREST peak RSS (MB)').toBeLessThan(POSTGREST_BUDGET_MB);
  expect(measured.backendMb, 'largest backend peak RSS (MB)').toBeLessThan(BACKEND_BUDGET_MB);
}

const agent = (role: string, extra: { clientId?: string; headers?: Record<string, string> } = {}) => ({
  role,
  clientId: extra.clientId,
  headers: { 'accept-profile': 'agent', 'content-profile': 'agent', ...extra.headers },
});

beforeAll(async () => {
  // Production runs a pool of 10; the test cluster's connection limit for authenticator is shared
  // with the other test file running at the same time, so 7 here. Each backend is measured alone.
  t = await startApiUnderTest({ dbPool: 7 });
  const clientTables = await t.db.query<{ table: string }>(
    `SELECT c.oid::regclass::text AS table FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relnamespace = 'agent'::regnamespace AND c.relkind = 'r' AND a.attname = 'client_id' ORDER BY 1`,
  );
  CLIENT_TABLES = clientTables.rows.map((row) => row.table);
  expect(CLIENT_TABLES).toHaveLength(19);
  // 50 sessions of 1,000 events each: every embedded session brings back up to db-max-rows events.
  await t.db.query(
    `INSERT INTO agent.sessions (trace_id, client_id) SELECT 'abuse-' || g, 'client_a' FROM generate_series(1, 50) g`,
  );
  await t.db.query(
    `INSERT INTO agent.events (session_id, client_id, event_type, message)
     SELECT s.id, s.client_id, 'message', 'event ' || g || ' ' || repeat('x', 200)
       FROM agent.sessions s CROSS JOIN generate_series(1, 1000) g WHERE s.trace_id LIKE 'abuse-%'`,
  );
  await t.db.query('ANALYZE agent.sessions, agent.events');
});
afterAll(async () => {
  if (t) {
    console.info(
      `abuse suite peak RSS: PostgREST ${peak.postgrestMb.toFixed(1)} MB (budget ${POSTGREST_BUDGET_MB}), ` +
        `largest Postgres backend beyond shared buffers ${peak.backendMb.toFixed(1)} MB (budget ${BACKEND_BUDGET_MB})`,
    );
  }
  await t?.stop();
});

describe('request bodies', () => {
  it('a 40 MB POST without a token is answered 413 in front of PostgREST, which keeps serving', async () => {
    const response = await fetch(`${t.api.proxy.url}/erp/people`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `[${'{"full_name":"x"},'.repeat(2_300_000)}{"full_name":"x"}]`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ message: 'Request body larger than 1 MiB' });
    expect((await fetch(`${t.api.postgrest.adminUrl}/ready`)).status).toBe(200);
  });

  it('a body sent in chunks, without a length, is cut off at the limit too', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(256 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 20) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${t.api.proxy.url}/erp/people`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('erp_editor')}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('a body just under the limit is served', async () => {
    const rows = Array.from({ length: 2000 }, (_, index) => ({
      full_name: `Bulk ${index}`,
      notes: 'n'.repeat(400),
    }));
    const body = JSON.stringify(rows);
    expect(body.length).toBeLessThan(MAX_REQUEST_BODY_BYTES);
    expect(body.length).toBeGreaterThan(MAX_REQUEST_BODY_BYTES * 0.8);
    const response = await t.request('/erp/people', {
      role: 'erp_editor',
      method: 'POST',
      body: rows,
      viaProxy: true,
      headers: { prefer: 'return=minimal' },
    });
    expect(response.status).toBe(201);
    await t.db.query(`DELETE FROM erp.people WHERE full_name LIKE 'Bulk %'`);
  });
});

describe('bounded responses and database work', () => {
  // One key links events to sessions since 020 (client_id, session_id): the embed needs no hint.
  const embed = '/agent/events?select=id,sessions(id,events(id,message))&limit=300';
  // The sessions and events belong to client_a: a dashboard reads them with that client's token.
  const reader = { role: 'dashboard_reader', clientId: 'client_a' };

  it('the multiplying embed over 50,000 events is refused with the read budget, within the memory budgets', async () => {
    const started = Date.now();
    const response = await t.request(embed, { ...reader, viaProxy: true });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/^This request reads more than 2048 kB of rows/);
    expect(response.body.hint).toMatch(/fewer embedded levels/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expectWithinBudgets(await measure());
  });

  it('4 of them in parallel: all refused, within the memory budgets', async () => {
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => t.request(embed, { ...reader, viaProxy: true })),
    );
    expect(responses.map((response) => response.status)).toEqual([400, 400, 400, 400]);
    expectWithinBudgets(await measure());
  });

  it('the same embed within the budget is served', async () => {
    const response = await t.request(
      '/agent/events?select=id,sessions(id,events(id))&limit=3&sessions.events.limit=5',
      {
        ...reader,
        viaProxy: true,
      },
    );
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(3);
    expect(response.body[0].sessions.events).toHaveLength(5);
  });

  it('200 parallel reads of 1,000 rows are all served, queued behind the pool, within the memory budgets', async () => {
    const { rows } = await t.db.query<{ first: string }>(`SELECT min(id) AS first FROM agent.events`);
    const first = Number(rows[0]!.first);
    // Paged by key, as docs/API.md advises: an offset reads (and is charged for) every row it skips.
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        t.request(
          `/agent/events?select=id,message&order=id&limit=${MAX_ROWS}&id=gte.${first + index * 200}`,
          {
            ...reader,
            viaProxy: true,
          },
        ),
      ),
    );
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([200]));
    expect(responses.every((response) => response.body.length === MAX_ROWS)).toBe(true);
    expectWithinBudgets(await measure());
  });

  it('a full scan no index serves is refused once it has read the budget', async () => {
    const response = await t.request('/agent/events?select=id&message=like.*nowhere*', {
      ...reader,
      viaProxy: true,
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/reads more than/);
  });

  it('planned and estimated counts are refused; an exact count counts only what the role may see', async () => {
    for (const count of ['planned', 'estimated']) {
      const response = await t.request('/agent/sessions?limit=1', {
        role: 'dashboard_reader',
        viaProxy: true,
        headers: { prefer: `count=${count}` },
      });
      expect(response.status, count).toBe(400);
      expect(response.body.message).toBe('Planned and estimated counts are not served');
    }
    // Two Prefer lines: the proxy joins them into one, so the check sees the count either way.
    for (const prefer of [
      ['count=planned', 'return=minimal'],
      ['return=minimal', 'count=planned'],
    ]) {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const request = http.request(
          `${t.api.proxy.url}/agent/sessions?limit=1`,
          { headers: { authorization: `Bearer ${t.token('dashboard_reader')}`, prefer } },
          (response) => {
            response.resume();
            resolve(response.statusCode);
          },
        );
        request.on('error', reject);
        request.end();
      });
      expect(status, prefer.join(' then ')).toBe(400);
    }
    await t.db.query(
      `INSERT INTO agent.plans (plan_title, client_id) VALUES ('counted', 'alice'), ('hidden', 'bob')`,
    );
    const exact = await t.request('/agent/plans?limit=1', {
      ...agent('dashboard_reader', { clientId: 'alice', headers: { prefer: 'count=exact' } }),
      viaProxy: true,
    });
    expect(exact.status).toBe(200);
    expect(exact.headers.get('content-range')).toMatch(/\/1$/);
  });
});

describe('rows holding 1 MB values', () => {
  // 1 MB of repetitive text is stored compressed in about 12 kB: charged by stored size, 70 of
  // them passed the read budget and took PostgREST past its 100 MB. Charged as sent, 2 fit.
  const MB = 1_000_000;
  let first = 0;
  const read = (limit: number) =>
    t.request(`/erp/tasks?select=description&order=id&id=gte.${first}&limit=${limit}`, {
      role: 'dashboard_reader',
      viaProxy: true,
    });

  beforeAll(async () => {
    const { rows } = await t.db.query<{ first: string }>(
      `WITH planted AS (
         INSERT INTO erp.tasks (title, description) SELECT 'Wide ' || g, repeat('a', $1) FROM generate_series(1, 70) g
         RETURNING id)
       SELECT min(id) AS first FROM planted`,
      [MB],
    );
    first = Number(rows[0]!.first);
    const stored = await t.db.query<{ bytes: number }>(
      `SELECT max(pg_column_size(description))::int AS bytes FROM erp.tasks WHERE id >= $1`,
      [first],
    );
    expect(stored.rows[0]!.bytes).toBeLessThan(50_000);
  });
  afterAll(async () => {
    await t.db.query(`DELETE FROM erp.tasks WHERE title LIKE 'Wide %'`);
  });

  it('one read of 30 is refused with the read budget, within the memory budgets', async () => {
    const response = await read(30);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/^This request reads more than 2048 kB of rows/);
    expectWithinBudgets(await measure());
  });

  it('4 parallel reads of 10 are refused, within the memory budgets', async () => {
    const responses = await Promise.all(Array.from({ length: 4 }, () => read(10)));
    expect(responses.map((response) => response.status)).toEqual([400, 400, 400, 400]);
    expectWithinBudgets(await measure());
  });

  it('4 parallel reads of 2 (2 MB each, what the budget allows) are served, within the memory budgets', async () => {
    const responses = await Promise.all(Array.from({ length: 4 }, () => read(2)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    for (const response of responses) {
      expect(response.body).toHaveLength(2);
      expect(response.body[1].description).toHaveLength(MB);
    }
    expect((await read(3)).status).toBe(400);
    expectWithinBudgets(await measure());
  });
});

describe('no mass writes', () => {
  const people = async () =>
    (
      await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM erp.people WHERE full_name LIKE 'Mass %'`,
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    await t.db.query(`INSERT INTO erp.people (full_name) SELECT 'Mass ' || g FROM generate_series(1, 21) g`);
  });

  it('a DELETE or PATCH of 21 people by erp_editor (limit 20) is refused and changes nothing', async () => {
    const before = await snapshot(t.db, 'erp.people');
    const deleted = await t.request('/erp/people?full_name=like.Mass*', {
      role: 'erp_editor',
      method: 'DELETE',
      viaProxy: true,
    });
    expect(deleted.status).toBe(400);
    expect(deleted.body).toMatchObject({
      message:
        'This request would delete more than 20 rows of erp.people, the most one erp_editor request may change',
      details: 'Nothing was changed.',
    });
    const patched = await t.request('/erp/people?full_name=like.Mass*', {
      role: 'erp_editor',
      method: 'PATCH',
      body: { notes: 'overwritten' },
      viaProxy: true,
    });
    expect(patched.status).toBe(400);
    expect(patched.body.message).toMatch(/would change more than 20 rows of erp\.people/);
    expect(await snapshot(t.db, 'erp.people')).toEqual(before);
  });

  it('20 rows in one request are allowed', async () => {
    const response = await t.request('/erp/people?full_name=like.Mass*&order=id&limit=20', {
      role: 'erp_editor',
      method: 'PATCH',
      body: { notes: 'twenty' },
      viaProxy: true,
    });
    expect(response.status).toBe(204);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM erp.people WHERE notes = 'twenty'`);
    expect(rows[0]!.n).toBe(20);
    expect(await people()).toBe(21);
  });

  it('a DELETE of one person whose removal would clear 20 tasks counts the tasks, and changes nothing', async () => {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO erp.people (full_name) VALUES ('Cascade owner') RETURNING id`,
    );
    const person = rows[0]!.id;
    await t.db.query(
      `INSERT INTO erp.tasks (title, assignee_id) SELECT 'Cascaded ' || g, $1 FROM generate_series(1, 20) g`,
      [person],
    );
    const before = await snapshot(t.db, 'erp.tasks');
    const deleted = await t.request(`/erp/people?id=eq.${person}`, {
      role: 'erp_editor',
      method: 'DELETE',
      viaProxy: true,
    });
    expect(deleted.status).toBe(400);
    expect(deleted.body).toMatchObject({
      message:
        'This request would change more than 20 rows of erp.tasks, the most one erp_editor request may change',
      details: 'Rows changed by ON DELETE CASCADE or SET NULL count too. Nothing was changed.',
    });
    expect(await snapshot(t.db, 'erp.tasks')).toEqual(before);
    const assigned = await t.db.query(`SELECT count(*)::int AS n FROM erp.tasks WHERE assignee_id = $1`, [
      person,
    ]);
    expect(assigned.rows[0]!.n).toBe(20);

    // 19 tasks and the person: 20 rows, allowed.
    await t.db.query(
      `DELETE FROM erp.tasks WHERE id = (SELECT max(id) FROM erp.tasks WHERE assignee_id = $1)`,
      [person],
    );
    const allowed = await t.request(`/erp/people?id=eq.${person}`, {
      role: 'erp_editor',
      method: 'DELETE',
      viaProxy: true,
    });
    expect(allowed.status).toBe(204);
    await t.db.query(`DELETE FROM erp.tasks WHERE title LIKE 'Cascaded %'`);
  });

  it('a bulk POST of 2,001 rows is refused and inserts nothing; 2,000 are allowed', async () => {
    const rows = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ full_name: `Bulk cap ${index}` }));
    const refused = await t.request('/erp/people', {
      role: 'erp_editor',
      method: 'POST',
      body: rows(2001),
      viaProxy: true,
      headers: { prefer: 'return=minimal' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      message:
        'This request would insert more than 2000 rows of erp.people, the most one erp_editor request may insert',
      details: 'Nothing was changed.',
    });
    const count = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM erp.people WHERE full_name LIKE 'Bulk cap %'`))
        .rows[0]!.n;
    expect(await count()).toBe(0);
    const allowed = await t.request('/erp/people', {
      role: 'erp_editor',
      method: 'POST',
      body: rows(2000),
      viaProxy: true,
      headers: { prefer: 'return=minimal' },
    });
    expect(allowed.status).toBe(201);
    expect(await count()).toBe(2000);
    await t.db.query(`DELETE FROM erp.people WHERE full_name LIKE 'Bulk cap %'`);
  });

  it('unfiltered PATCH and DELETE are refused on every table, for every role that may write it, however few rows it has', async () => {
    {
      // A row in every table, and one of client_a in every client table (the scoped tokens' client).
      for (const table of ALL_TABLES) {
        const isClientTable = CLIENT_TABLES.includes(table);
        const { rows } = await t.db.query(
          `SELECT FROM ${table} ${isClientTable ? `WHERE client_id = 'client_a'` : ''} LIMIT 1`,
        );
        if (!rows.length) await create(t.db, table, isClientTable ? { client_id: 'client_a' } : {});
      }
      const snapshots = () => Promise.all(ALL_TABLES.map((table) => snapshot(t.db, table)));
      const before = await snapshots();
      let checked = 0;
      for (const role of WRITING_ROLES) {
        for (const table of ALL_TABLES) {
          const [schema, name] = table.split('.') as [string, string];
          const { rows } = await t.db.query<{
            may_update: boolean;
            may_delete: boolean;
            column: string | null;
          }>(
            `SELECT has_any_column_privilege($1, $2::regclass, 'UPDATE') AS may_update,
                    has_table_privilege($1, $2::regclass, 'DELETE') AS may_delete,
                    (SELECT a.attname FROM pg_attribute a
                      WHERE a.attrelid = $2::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'
                        AND has_column_privilege($1, $2::regclass, a.attname, 'UPDATE')
                        AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND a.attnum = ANY (i.indkey))
                      ORDER BY a.attnum LIMIT 1) AS column`,
            [role, table],
          );
          const { may_update: mayUpdate, may_delete: mayDelete, column } = rows[0]!;
          const clientId =
            role !== CROSS_CLIENT_ROLE && CLIENT_TABLES.includes(table) ? 'client_a' : undefined;
          if (mayUpdate && column) {
            const current = await t.db.query(`SELECT to_jsonb(t) -> $1 AS value FROM ${table} t LIMIT 1`, [
              column,
            ]);
            const response = await t.request(`/${schema}/${name}`, {
              role,
              clientId,
              method: 'PATCH',
              body: { [column]: current.rows[0]!.value },
              viaProxy: true,
            });
            expect(response.status, `${role} PATCH ${table}`).toBe(400);
            expect(response.body.message, `${role} PATCH ${table}`).toBe(
              `This request would change every row of ${table} it can see: a PATCH needs a filter`,
            );
            checked += 1;
          }
          if (mayDelete) {
            const response = await t.request(`/${schema}/${name}`, {
              role,
              clientId,
              method: 'DELETE',
              viaProxy: true,
            });
            expect(response.status, `${role} DELETE ${table}`).toBe(400);
            expect(response.body.message, `${role} DELETE ${table}`).toBe(
              `This request would delete every row of ${table} it can see: a DELETE needs a filter`,
            );
            checked += 1;
          }
        }
      }
      expect(await snapshots()).toEqual(before);
      // erp_editor: 14 tables x 2 verbs; the two agent roles: the 19 client tables, events and facts
      // without DELETE, memory_facts (append-only versions, 009) without UPDATE and DELETE;
      // agent_config_editor: the 5 configuration tables (016).
      expect(checked).toBe(14 * 2 + 2 * (19 * 2 - 2 - 2) + 5 * 2);
    }
  });

  it('an unfiltered DELETE of a table the token sees no row of is refused all the same', async () => {
    const response = await t.request('/plans', {
      ...agent('agent_service', { clientId: 'nobody-here' }),
      method: 'DELETE',
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe(
      'This request would delete every row of agent.plans it can see: a DELETE needs a filter',
    );
  });
});

describe('append-only history', () => {
  it.each(['agent_service', CROSS_CLIENT_ROLE])(
    '%s can neither delete nor rewrite events and facts; it can end a fact once',
    async (role) => {
      const { rows } = await t.db.query<{ event: string; fact: string }>(
        `WITH e AS (INSERT INTO agent.events (client_id, event_type, message) VALUES ('client_a', 'decision', 'kept') RETURNING id),
              f AS (INSERT INTO agent.facts (client_id, fact_type, content) VALUES ('client_a', 'attribute', 'kept') RETURNING id)
         SELECT e.id AS event, f.id AS fact FROM e, f`,
      );
      const { event, fact } = rows[0]!;
      const as = (path: string, method: string, body?: unknown) =>
        t.request(path, {
          role,
          clientId: role === CROSS_CLIENT_ROLE ? undefined : 'client_a',
          method,
          body,
          viaProxy: true,
        });
      expect((await as(`/agent/events?id=eq.${event}`, 'DELETE')).status).toBe(403);
      expect((await as(`/agent/facts?id=eq.${fact}`, 'DELETE')).status).toBe(403);
      expect((await as(`/agent/events?id=eq.${event}`, 'PATCH', { message: 'rewritten' })).status).toBe(403);
      expect((await as(`/agent/facts?id=eq.${fact}`, 'PATCH', { content: 'rewritten' })).status).toBe(403);

      expect(
        (await as(`/agent/facts?id=eq.${fact}`, 'PATCH', { valid_to: '2030-01-01T00:00:00Z' })).status,
      ).toBe(204);
      const again = await as(`/agent/facts?id=eq.${fact}`, 'PATCH', { valid_to: '2031-01-01T00:00:00Z' });
      expect(again.status).toBe(400);
      expect(again.body.message).toBe('agent.facts.valid_to is already set and cannot be changed again');

      const kept = await t.db.query(
        `SELECT (SELECT message FROM agent.events WHERE id = $1) AS message, f.content, f.valid_to
           FROM agent.facts f WHERE f.id = $2`,
        [event, fact],
      );
      expect(kept.rows[0]).toEqual({
        message: 'kept',
        content: 'kept',
        valid_to: new Date('2030-01-01T00:00:00Z'),
      });
    },
  );
});

describe('client isolation', () => {
  let alicePlan: number;
  let bobPlan: number;
  beforeAll(async () => {
    const { rows } = await t.db.query<{ id: string; client_id: string }>(
      `INSERT INTO agent.plans (plan_title, client_id) VALUES ('alice plan', 'alice'), ('bob plan', 'bob') RETURNING id, client_id`,
    );
    alicePlan = Number(rows.find((row) => row.client_id === 'alice')!.id);
    bobPlan = Number(rows.find((row) => row.client_id === 'bob')!.id);
  });

  const asAlice = (extra: Record<string, string> = {}) =>
    agent('agent_service', { clientId: 'alice', headers: { prefer: 'return=representation', ...extra } });

  it("pointing at another client's plan fails exactly like pointing at a plan that does not exist", async () => {
    const attempt = (planId: number) =>
      t.request('/scheduler_runs', {
        ...asAlice(),
        method: 'POST',
        body: { client_id: 'alice', plan_id: planId },
      });
    const foreign = await attempt(bobPlan);
    const missing = await attempt(99_999_999);
    expect(foreign.status).toBe(409);
    expect(missing.status).toBe(409);
    // Row-level security also hides the key's values from the message: both read the same.
    expect(foreign.body).toEqual(missing.body);
    expect(foreign.body).toMatchObject({
      code: '23503',
      message:
        'insert or update on table "scheduler_runs" violates foreign key constraint "scheduler_runs_client_id_plan_id_fkey"',
      details: 'Key is not present in table "plans".',
    });
    expect((await attempt(alicePlan)).status).toBe(201);

    // Moving an existing run onto the other client's plan fails the same way.
    const moved = await t.request(`/scheduler_runs?plan_id=eq.${alicePlan}`, {
      ...asAlice(),
      method: 'PATCH',
      body: { plan_id: bobPlan },
    });
    expect(moved.status).toBe(409);
    expect(moved.body).toEqual(missing.body);

    // Bob can still delete his plan: nothing of Alice's points at it.
    const deleted = await t.request(`/plans?id=eq.${bobPlan}`, {
      ...agent('agent_service', { clientId: 'bob' }),
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
  });

  it("another client's row reads, changes and deletes like a row that does not exist", async () => {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO agent.plans (plan_title, client_id) VALUES ('carol plan', 'carol') RETURNING id`,
    );
    const carolPlan = rows[0]!.id;
    for (const id of [carolPlan, '99999999']) {
      expect((await t.request(`/plans?id=eq.${id}`, asAlice())).body).toEqual([]);
      expect(
        (
          await t.request(`/plans?id=eq.${id}`, {
            ...asAlice(),
            method: 'PATCH',
            body: { status: 'cancelled' },
          })
        ).body,
      ).toEqual([]);
      expect((await t.request(`/plans?id=eq.${id}`, { ...asAlice(), method: 'DELETE' })).body).toEqual([]);
    }
    expect((await t.db.query(`SELECT status FROM agent.plans WHERE id = $1`, [carolPlan])).rows).toEqual([
      { status: 'draft' },
    ]);
  });

  it.each(['agent_service', 'dashboard_reader'])(
    'a %s token without client_id sees and writes no row of any client table',
    async (role) => {
      for (const table of CLIENT_TABLES) {
        const name = table.split('.')[1]!;
        await create(t.db, table, { client_id: `seen-${role}-${name}` });
        const before = await snapshot(t.db, table);
        expect(before.rows, table).toBeGreaterThan(0);
        const options = agent(role, { headers: { prefer: 'return=representation' } });
        const read = await t.request(`/${name}`, options);
        expect([read.status, read.body], table).toEqual([200, []]);
        if (role === 'agent_service') {
          const inserted = await t.request(`/${name}`, {
            ...options,
            method: 'POST',
            body: { client_id: 'anyone' },
          });
          expect(inserted.status, table).toBe(403);
          const patched = await t.request(`/${name}`, {
            ...options,
            method: 'PATCH',
            body: { client_id: 'anyone' },
          });
          const deleted = await t.request(`/${name}`, { ...options, method: 'DELETE' });
          // History takes no change or delete from any API role (008, 009: append-only); any
          // other unfiltered write is refused before a row is looked at (019).
          const expected = ['memory_facts', 'events', 'facts'].includes(name) ? 403 : 400;
          expect([patched.status, deleted.status], table).toEqual([expected, expected]);
        }
        expect(await snapshot(t.db, table), table).toEqual(before);
      }
    },
  );
});

describe('bursts of requests', () => {
  it('50 deletes of 20 tasks in a row from one token: 40 served, then 429, at the production rate limits', async () => {
    // A proxy of its own with production's rate limits and a clock held still, so the bucket
    // does not refill while the burst is sent; the suite's proxy has none (harness.ts).
    const limited = await startSchemaProxy({
      target: t.api.postgrest.url,
      host: '127.0.0.1',
      port: await freePort(),
      limits: PRODUCTION_PROXY_LIMITS,
      clock: () => 0,
    });
    try {
      await t.db.query(`INSERT INTO erp.tasks (title) SELECT 'Burst ' || g FROM generate_series(1, 1000) g`);
      const remaining = async () =>
        (await t.db.query(`SELECT count(*)::int AS n FROM erp.tasks WHERE title LIKE 'Burst %'`)).rows[0]!.n;
      const token = t.token('erp_editor');
      const statuses: number[] = [];
      for (let index = 0; index < 50; index += 1) {
        const response = await fetch(`${limited.url}/erp/tasks?title=like.Burst*&order=id&limit=20`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${token}` },
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
      const { burst } = RATE_LIMITS.perToken;
      expect(statuses).toEqual([...Array(burst).fill(204), ...Array(50 - burst).fill(429)]);
      expect(await remaining()).toBe(1000 - burst * 20);
    } finally {
      await limited.stop();
      await t.db.query(`DELETE FROM erp.tasks WHERE title LIKE 'Burst %'`);
    }
  });
});

describe('tokens', () => {
  it('a token expiring more than 90 days ahead is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signToken(
      { role: 'dashboard_reader', aud: DEFAULT_JWT_AUDIENCE, exp: now + 91 * 86_400 },
      TEST_JWT_SECRET,
    );
    const response = await t.request('/erp/people?limit=1', { token, viaProxy: true });
    expect(response.status).toBe(401);
    expect(response.body.message).toBe('JWT lives too long: tokens expire within 90 days');
  });
});
