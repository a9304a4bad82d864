/**
 * Requests against a real PostgREST 12.0.2: choosing the schema by header and by path prefix
 * (through the local proxy that mirrors the Traefik routers), bad input, the row cap and the
 * statement timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROWS } from '../../src/api/config.ts';
import { startApiUnderTest, type ApiUnderTest } from './harness.ts';

let t: ApiUnderTest;
beforeAll(async () => {
  t = await startApiUnderTest();
  await t.db.query(`INSERT INTO erp.people (full_name) VALUES ('Header Person')`);
  await t.db.query(`INSERT INTO agent.sessions (trace_id, client_id) VALUES ('header-session', 'acme')`);
});
afterAll(async () => {
  await t?.stop();
});

const count = async (sql: string) =>
  (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n;

describe('choosing the schema', () => {
  it('by header: erp by default, agent with Accept-Profile', async () => {
    const people = await t.request('/people?select=full_name', { role: 'dashboard_reader' });
    expect(people.body).toEqual([{ full_name: 'Header Person' }]);
    const sessions = await t.request('/sessions?select=trace_id', {
      role: 'dashboard_reader',
      clientId: 'acme',
      headers: { 'accept-profile': 'agent' },
    });
    expect(sessions.body).toEqual([{ trace_id: 'header-session' }]);
    expect((await t.request('/sessions', { role: 'dashboard_reader' })).status).toBe(404);
  });

  it('by header: writes go where Content-Profile says', async () => {
    const response = await t.request('/goals', {
      role: 'agent_service',
      clientId: 'acme',
      method: 'POST',
      headers: { 'content-profile': 'agent' },
      body: { title: 'by header', client_id: 'acme' },
    });
    expect(response.status).toBe(201);
    expect(await count(`agent.goals WHERE title = 'by header'`)).toBe(1);
  });

  it('by path prefix: /erp/... and /agent/... read their schema', async () => {
    const people = await t.request('/erp/people?select=full_name', {
      role: 'dashboard_reader',
      viaProxy: true,
    });
    expect(people.body).toEqual([{ full_name: 'Header Person' }]);
    const sessions = await t.request('/agent/sessions?select=trace_id', {
      role: 'dashboard_reader',
      clientId: 'acme',
      viaProxy: true,
    });
    expect(sessions.body).toEqual([{ trace_id: 'header-session' }]);
  });

  it('by path prefix: writes land in the prefixed schema', async () => {
    const response = await t.request('/agent/goals', {
      role: 'agent_service',
      clientId: 'acme',
      method: 'POST',
      body: { title: 'by prefix', client_id: 'acme' },
      viaProxy: true,
    });
    expect(response.status).toBe(201);
    expect(await count(`agent.goals WHERE title = 'by prefix'`)).toBe(1);
  });

  it('by path prefix: the prefix wins over a profile header the client sends', async () => {
    const response = await t.request('/erp/people?select=full_name', {
      role: 'dashboard_reader',
      viaProxy: true,
      headers: { 'accept-profile': 'agent', 'content-profile': 'agent' },
    });
    expect(response.body).toEqual([{ full_name: 'Header Person' }]);
    expect((await t.request('/erp/sessions', { role: 'dashboard_reader', viaProxy: true })).status).toBe(404);
  });

  it('by path prefix: /agent/ serves the agent OpenAPI document, and unprefixed requests pass unchanged', async () => {
    const openapi = await t.request('/agent/', { role: 'dashboard_reader', viaProxy: true });
    expect(Object.keys(openapi.body.paths)).toContain('/sessions');
    const unprefixed = await t.request('/sessions?select=trace_id', {
      role: 'dashboard_reader',
      clientId: 'acme',
      viaProxy: true,
      headers: { 'accept-profile': 'agent' },
    });
    expect(unprefixed.body).toEqual([{ trace_id: 'header-session' }]);
  });

  it('a schema that is not served is refused, by header and by prefix', async () => {
    const byHeader = await t.request('/runs', {
      role: 'dashboard_reader',
      headers: { 'accept-profile': 'pipeline' },
    });
    expect(byHeader.status).toBe(406);
    expect((await t.request('/pipeline/runs', { role: 'dashboard_reader', viaProxy: true })).status).toBe(
      404,
    );
  });
});

describe('bad input', () => {
  const post = (path: string, body: unknown) => t.request(path, { role: 'erp_editor', method: 'POST', body });

  it.each([
    [
      'an unknown status',
      '/projects',
      { name: 'Bad status', status: 'in_progress' },
      /projects_status_check/,
    ],
    ['a missing required column', '/people', { email: 'nobody@example.com' }, /"full_name"/],
    [
      'a JSON string where an object belongs',
      '/okrs',
      { objective: 'Bad shape', key_results: 'many' },
      /okrs_key_results_check/,
    ],
    ['negative hours', '/tasks', { title: 'Bad hours', estimated_hours: -2 }, /tasks_estimated_hours_check/],
    [
      'end before start',
      '/projects',
      { name: 'Bad dates', start_date: '2025-02-01', end_date: '2025-01-01' },
      /projects_end_date_check/,
    ],
    ['a column that does not exist', '/people', { full_name: 'Typo', emial: 'x@example.com' }, /'emial'/],
  ])('%s: 400 naming the column, nothing written', async (_, path, body, column) => {
    const table = `erp.${path.slice(1)}`;
    const before = await count(table);
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(`${response.body.message} ${response.body.details ?? ''}`).toMatch(column);
    expect(await count(table)).toBe(before);
  });

  // Postgres reports a failed type conversion by type and value only; PostgREST passes that on.
  it.each([
    [
      'text in a numeric column',
      '/tasks',
      { title: 'Bad type', estimated_hours: 'lots' },
      /type numeric: "lots"/,
    ],
    [
      'text in a date column',
      '/tasks',
      { title: 'Bad date', due_date: 'next week' },
      /type date: "next week"/,
    ],
  ])('%s: 400 naming the type and the value, nothing written', async (_, path, body, message) => {
    const before = await count('erp.tasks');
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
    expect(await count('erp.tasks')).toBe(before);
  });

  it('a batch with one bad row writes none of them', async () => {
    const before = await count('erp.tasks');
    const response = await post('/tasks', [{ title: 'Good' }, { title: 'Bad', status: 'maybe' }]);
    expect(response.status).toBe(400);
    expect(await count('erp.tasks')).toBe(before);
  });
});

describe('limits', () => {
  it(`returns at most ${MAX_ROWS} rows per request, whatever limit the client asks for`, async () => {
    await t.db.query(
      `INSERT INTO erp.organizations (name) SELECT 'Org ' || i FROM generate_series(1, $1) AS i`,
      [MAX_ROWS + 5],
    );
    for (const path of ['/organizations?select=id', `/organizations?select=id&limit=${MAX_ROWS * 2}`]) {
      const response = await t.request(path, { role: 'dashboard_reader' });
      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(MAX_ROWS);
    }
    const page = await t.request(`/organizations?select=id&offset=${MAX_ROWS}`, { role: 'dashboard_reader' });
    expect(page.body).toHaveLength(5);
  });

  it("cancels a statement that runs past the role's statement_timeout", async () => {
    // A slow function for this test database only, callable by web_anon (timeout 1s, the shortest).
    await t.db.query(
      `CREATE FUNCTION erp.slow_report() RETURNS integer LANGUAGE sql AS 'SELECT 1 FROM pg_sleep(10)'`,
    );
    await t.db.query(
      `GRANT USAGE ON SCHEMA erp TO web_anon; GRANT EXECUTE ON FUNCTION erp.slow_report() TO web_anon`,
    );
    await t.db.query(`NOTIFY pgrst, 'reload schema'`);
    const call = async () => {
      const started = Date.now();
      return {
        ...(await t.request('/rpc/slow_report', { method: 'POST', body: {} })),
        elapsed: Date.now() - started,
      };
    };
    // 404 until the schema cache has reloaded.
    let response = await call();
    for (const deadline = Date.now() + 10_000; response.status === 404 && Date.now() < deadline; ) {
      await sleep(50);
      response = await call();
    }
    expect(response.status).toBe(500);
    expect(response.body.message).toBe('canceling statement due to statement timeout');
    expect(response.elapsed).toBeLessThan(5_000);
  });
});
