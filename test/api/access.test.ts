/**
 * Who may do what over HTTP, against a real PostgREST 12.0.2: tokens, the role matrix, the
 * invisible pipeline schema, row-level security on client memory, and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JWT_AUDIENCE } from '../../src/api/config.ts';
import { signToken } from '../../src/api/jwt.ts';
import { ANONYMOUS_ROLE, CROSS_CLIENT_ROLE, JWT_ROLES } from '../../src/api/roles.ts';
import { startApiUnderTest, TEST_JWT_SECRET, type ApiUnderTest } from './harness.ts';

let t: ApiUnderTest;
beforeAll(async () => {
  t = await startApiUnderTest();
});
afterAll(async () => {
  await t?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
const validClaims = (role: string) => ({ role, aud: DEFAULT_JWT_AUDIENCE, exp: now() + 300 });

async function ownerInsert(table: string, row: Record<string, unknown>): Promise<number> {
  const columns = Object.keys(row);
  const { rows } = await t.db.query<{ id: string }>(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')}) RETURNING id`,
    Object.values(row),
  );
  return Number(rows[0]!.id);
}

describe('tokens', () => {
  it('without a token, no table of either schema can be read', async () => {
    const { rows } = await t.db.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' ORDER BY 1, 2`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(38);
    for (const { schema, name } of rows) {
      const response = await t.request(`/${name}`, { headers: { 'accept-profile': schema } });
      expect(response.status, `${schema}.${name}`).toBe(401);
      expect(response.body.message).toMatch(/permission denied for schema/);
    }
  });

  it('without a token, nothing can be written', async () => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM erp.people`);
    for (const [method, path] of [
      ['POST', '/people'],
      ['PATCH', '/people?id=gt.0'],
      ['DELETE', '/people?id=gt.0'],
    ] as const) {
      const response = await t.request(path, {
        method,
        body: method === 'DELETE' ? undefined : { full_name: 'Anonymous' },
      });
      expect(response.status, method).toBe(401);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM erp.people`)).rows).toEqual(before.rows);
  });

  const refused: [string, string][] = [
    [
      'signed with another secret',
      signToken(validClaims('dashboard_reader'), 'another-secret-that-is-also-long-enough-000'),
    ],
    ['expired', signToken({ ...validClaims('dashboard_reader'), exp: now() - 3600 }, TEST_JWT_SECRET)],
    [
      'for another audience',
      signToken({ ...validClaims('dashboard_reader'), aud: 'someone-else' }, TEST_JWT_SECRET),
    ],
    ['without an audience', signToken({ role: 'dashboard_reader', exp: now() + 300 }, TEST_JWT_SECRET)],
    [
      'without an expiry',
      signToken({ role: 'dashboard_reader', aud: DEFAULT_JWT_AUDIENCE }, TEST_JWT_SECRET),
    ],
    [
      'with an empty client_id',
      signToken({ ...validClaims('agent_service'), client_id: ' ' }, TEST_JWT_SECRET),
    ],
    [
      'with a numeric client_id',
      signToken({ ...validClaims('agent_service'), client_id: 42 }, TEST_JWT_SECRET),
    ],
    [
      'unsigned (alg none)',
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(validClaims('dashboard_reader'))).toString('base64url')}.`,
    ],
    ['not a JWT', 'not-a-token'],
  ];
  it.each(refused)('a token %s is refused with 401', async (_, token) => {
    const response = await t.request('/people', { token });
    expect(response.status).toBe(401);
    expect(response.body.message).toBeTruthy();
  });

  it('a token that claims a role that does not exist is refused', async () => {
    const response = await t.request('/people', {
      token: signToken(validClaims('no_such_role'), TEST_JWT_SECRET),
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('role "no_such_role" does not exist');
  });

  it.each(['erp_admin', 'postgres', 'planner_api', 'authenticator'])(
    'a token that claims %s gets nothing',
    async (role) => {
      const response = await t.request('/people', { token: signToken(validClaims(role), TEST_JWT_SECRET) });
      expect(response.status).toBe(403);
      // authenticator may "switch" to itself, and then has no rights at all.
      expect(response.body.message).toMatch(
        role === 'authenticator' ? /permission denied for schema/ : `permission denied to set role "${role}"`,
      );
    },
  );
});

describe('the role matrix', () => {
  type Verb = 'GET' | 'POST' | 'PATCH' | 'DELETE';
  const VERBS: Verb[] = ['GET', 'POST', 'PATCH', 'DELETE'];
  const ROLES = [ANONYMOUS_ROLE, ...Object.keys(JWT_ROLES)];
  const ALL: Verb[] = VERBS;
  const READ: Verb[] = ['GET'];
  /** What each role may do per schema; everything else must be refused. */
  const ALLOWED: Record<string, Record<string, Verb[]>> = {
    web_anon: {},
    erp_editor: { erp: ALL },
    dashboard_reader: { erp: READ, agent: READ },
    agent_service: { erp: READ, agent: ALL },
    agent_cross_client: { erp: READ, agent: ALL },
    // Shared configuration only: none of the tables below (test/api/tenants.test.ts walks them all).
    agent_config_editor: {},
  };

  let sequence = 0;
  /** Per table: a new row whose first column is unique, a change, and the column the change shows in. */
  const TABLES: Record<
    string,
    {
      schema: string;
      name: string;
      fresh: () => Record<string, unknown>;
      change: Record<string, unknown>;
      column: string;
    }
  > = {
    'erp.people': {
      schema: 'erp',
      name: 'people',
      fresh: () => ({ full_name: `Person ${++sequence}` }),
      change: { notes: 'changed' },
      column: 'notes',
    },
    'erp.tasks': {
      schema: 'erp',
      name: 'tasks',
      fresh: () => ({ title: `Task ${++sequence}` }),
      change: { description: 'changed' },
      column: 'description',
    },
    'agent.sessions': {
      schema: 'agent',
      name: 'sessions',
      fresh: () => ({ trace_id: `trace-${++sequence}`, client_id: 'matrix' }),
      change: { status: 'paused' },
      column: 'status',
    },
    // Not memory_facts: that one is append-only (test/api/agent-memory.test.ts).
    'agent.memory_entries': {
      schema: 'agent',
      name: 'memory_entries',
      fresh: () => ({ content: `Memory ${++sequence}`, client_id: 'matrix' }),
      change: { memory_type: 'semantic' },
      column: 'memory_type',
    },
  };

  const cases = ROLES.flatMap((role) =>
    Object.keys(TABLES).flatMap((table) =>
      VERBS.map((verb) => ({
        role,
        table,
        verb,
        allowed: ALLOWED[role]![TABLES[table]!.schema]?.includes(verb) ?? false,
      })),
    ),
  );

  it.each(cases)('$role $verb $table: allowed=$allowed', async ({ role, table, verb, allowed }) => {
    const spec = TABLES[table]!;
    const profile = verb === 'GET' ? 'accept-profile' : 'content-profile';
    const headers = { [profile]: spec.schema, prefer: 'return=minimal' };
    const victim = await ownerInsert(table, spec.fresh());
    // The client-scoped roles act for the client the memory_facts rows belong to.
    const token =
      role === ANONYMOUS_ROLE
        ? undefined
        : t.token(role, { clientId: role === CROSS_CLIENT_ROLE ? undefined : 'matrix' });
    const request = (path: string, body?: unknown) => t.request(path, { method: verb, token, headers, body });
    const readBack = async () =>
      (await t.db.query(`SELECT ${spec.column} AS value FROM ${table} WHERE id = $1`, [victim])).rows[0]
        ?.value;
    const deniedStatus = role === ANONYMOUS_ROLE ? 401 : 403;

    if (verb === 'GET') {
      const response = await request(`/${spec.name}?id=eq.${victim}`);
      expect(response.status).toBe(allowed ? 200 : deniedStatus);
      if (allowed) expect(response.body).toHaveLength(1);
    } else if (verb === 'POST') {
      const row = spec.fresh();
      const response = await request(`/${spec.name}`, row);
      expect(response.status).toBe(allowed ? 201 : deniedStatus);
      const [column, value] = Object.entries(row)[0]!;
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [
        value,
      ]);
      expect(rows[0]!.n).toBe(allowed ? 1 : 0);
    } else if (verb === 'PATCH') {
      const before = await readBack();
      const response = await request(`/${spec.name}?id=eq.${victim}`, spec.change);
      expect(response.status).toBe(allowed ? 204 : deniedStatus);
      expect(await readBack()).toBe(allowed ? Object.values(spec.change)[0] : before);
    } else {
      const response = await request(`/${spec.name}?id=eq.${victim}`);
      expect(response.status).toBe(allowed ? 204 : deniedStatus);
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE id = $1`, [victim]);
      expect(rows[0]!.n).toBe(allowed ? 0 : 1);
    }
  });

  it.each(ROLES)('%s cannot reach the pipeline schema by any verb', async (role) => {
    for (const verb of VERBS) {
      const profile = verb === 'GET' ? 'accept-profile' : 'content-profile';
      const response = await t.request('/runs', {
        method: verb,
        token: role === ANONYMOUS_ROLE ? undefined : t.token(role),
        headers: { [profile]: 'pipeline' },
        body: verb === 'GET' || verb === 'DELETE' ? undefined : { mode: 'plan' },
      });
      expect(response.status, verb).toBe(406);
      expect(response.body.code).toBe('PGRST106');
    }
  });

  it('tables added later are visible to no role until a migration grants them', async () => {
    await t.db.query(
      `CREATE TABLE erp.added_later (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, secret text)`,
    );
    await t.db.query(`NOTIFY pgrst, 'reload schema'`);
    for (const role of Object.keys(JWT_ROLES)) {
      // 404 until the schema cache has reloaded, then the permission decides.
      await expect
        .poll(async () => (await t.request('/added_later', { role })).status, { timeout: 10_000 })
        .not.toBe(404);
      expect((await t.request('/added_later', { role })).status, role).toBe(403);
      // PostgREST answers a write to a table nobody may write with 404 rather than 403.
      const write = await t.request('/added_later', { role, method: 'POST', body: { secret: 'x' } });
      expect([403, 404], role).toContain(write.status);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM erp.added_later`)).rows[0]!.n).toBe(0);
  });
});

describe('row-level security on client memory', () => {
  beforeAll(async () => {
    for (const client of ['alice', 'bob']) {
      await ownerInsert('agent.memory_facts', {
        client_id: client,
        fact_key: 'colour',
        fact_value: `${client}'s colour`,
      });
      await ownerInsert('agent.working_state', {
        client_id: client,
        state_key: 'step',
        state_value: { step: 1 },
      });
      await ownerInsert('agent.plans', { plan_title: `${client}'s plan`, client_id: client });
    }
    // A client no token below is scoped to: only the cross-client role sees it.
    await ownerInsert('agent.plans', { plan_title: "carol's plan", client_id: 'carol' });
  });

  const agent = { 'accept-profile': 'agent', 'content-profile': 'agent' };
  const clientsSeen = async (path: string, options: { role: string; clientId?: string }) => {
    const response = await t.request(path, { ...options, headers: agent });
    expect(response.status).toBe(200);
    return [...new Set((response.body as { client_id: string | null }[]).map((row) => row.client_id))].sort();
  };

  it.each(['agent_service', 'dashboard_reader'])(
    'a %s token with client_id sees only that client',
    async (role) => {
      expect(await clientsSeen('/memory_facts?fact_key=eq.colour', { role, clientId: 'alice' })).toEqual([
        'alice',
      ]);
      expect(await clientsSeen('/working_state', { role, clientId: 'bob' })).toEqual(['bob']);
      expect(await clientsSeen('/plans', { role, clientId: 'alice' })).toEqual(['alice']);
    },
  );

  it.each(['agent_service', 'dashboard_reader'])(
    'a %s token without client_id sees no client at all',
    async (role) => {
      expect(await clientsSeen('/memory_facts?fact_key=eq.colour', { role })).toEqual([]);
      expect(await clientsSeen('/plans', { role })).toEqual([]);
    },
  );

  it('the cross-client role sees every client', async () => {
    expect(await clientsSeen('/memory_facts?fact_key=eq.colour', { role: CROSS_CLIENT_ROLE })).toEqual([
      'alice',
      'bob',
    ]);
    expect(await clientsSeen('/plans', { role: CROSS_CLIENT_ROLE })).toEqual(['alice', 'bob', 'carol']);
  });

  it("a client-scoped token cannot write, change or delete another client's memory", async () => {
    const asAlice = {
      role: 'agent_service',
      clientId: 'alice',
      headers: { ...agent, prefer: 'return=representation' },
    };
    const foreign = await t.request('/memory_facts', {
      ...asAlice,
      method: 'POST',
      body: { client_id: 'bob', fact_key: 'planted', fact_value: 'x' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toMatch(/row-level security/);

    const own = await t.request('/memory_facts', {
      ...asAlice,
      method: 'POST',
      body: { client_id: 'alice', fact_key: 'own', fact_value: 'x' },
    });
    expect(own.status).toBe(201);

    // memory_facts are append-only; working_state is the client memory that may change.
    const hijack = await t.request('/working_state?state_key=eq.step', {
      ...asAlice,
      method: 'PATCH',
      body: { client_id: 'bob' },
    });
    expect(hijack.status).toBe(403);
    expect(hijack.body.message).toMatch(/row-level security/);

    const patched = await t.request('/working_state?client_id=eq.bob', {
      ...asAlice,
      method: 'PATCH',
      body: { state_value: { step: 99 } },
    });
    const deleted = await t.request('/working_state?client_id=eq.bob', { ...asAlice, method: 'DELETE' });
    expect([patched.body, deleted.body]).toEqual([[], []]);

    const { rows } = await t.db.query(
      `SELECT client_id, state_key, state_value FROM agent.working_state WHERE client_id IN ('alice', 'bob') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { client_id: 'alice', state_key: 'step', state_value: { step: 1 } },
      { client_id: 'bob', state_key: 'step', state_value: { step: 1 } },
    ]);
  });
});

describe('the OpenAPI document', () => {
  const tablesIn = async (role: string | undefined, schema: string) => {
    const response = await t.request('/', { role, headers: { 'accept-profile': schema } });
    expect(response.status).toBe(200);
    return Object.keys(response.body.paths as Record<string, unknown>)
      .filter((path) => path !== '/' && !path.startsWith('/rpc/'))
      .map((path) => path.slice(1))
      .sort();
  };
  const readable = async (role: string, schema: string) =>
    (
      await t.db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $2 AND c.relkind = 'r' AND has_schema_privilege($1, n.oid, 'USAGE') AND has_table_privilege($1, c.oid, 'SELECT')
          ORDER BY 1`,
        [role, schema],
      )
    ).rows.map((row) => row.name);

  it('lists nothing for an anonymous caller', async () => {
    expect(await tablesIn(undefined, 'erp')).toEqual([]);
    expect(await tablesIn(undefined, 'agent')).toEqual([]);
  });

  it.each(Object.keys(JWT_ROLES))('lists for %s exactly the tables it may read, per schema', async (role) => {
    for (const schema of ['erp', 'agent'])
      expect(await tablesIn(role, schema), schema).toEqual(await readable(role, schema));
  });

  it('follows the grants: editors see no agent table, dashboards see all of them', async () => {
    expect(await tablesIn('erp_editor', 'agent')).toEqual([]);
    expect((await tablesIn('dashboard_reader', 'agent')).length).toBeGreaterThanOrEqual(24);
  });

  it('never mentions the pipeline schema', async () => {
    for (const role of Object.keys(JWT_ROLES)) {
      for (const schema of ['erp', 'agent']) {
        const response = await t.request('/', { role, headers: { 'accept-profile': schema } });
        expect(JSON.stringify(response.body)).not.toMatch(/pipeline|schema_migrations|coda_lineage/);
      }
    }
  });
});
