/**
 * The roles of migrations/003_api_roles.sql as the catalog shows them, and the two internal
 * services' direct logins doing exactly their work and nothing more.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS_ROLE,
  API_ROLES,
  AUTHENTICATOR_ROLE,
  JWT_ROLES,
  SERVICE_LOGIN_ROLES,
  type LoginRole,
} from '../../src/api/roles.ts';
import { withClient } from '../../src/db/client.ts';
import { TEMPLATE_DATABASE } from '../support/cluster.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ensureTestLoginPasswords, loginUrl } from './harness.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await ensureTestLoginPasswords(db);
});
afterAll(async () => {
  await db?.drop();
});

describe('the roles in the catalog', () => {
  it('authenticator logs in, inherits nothing and holds exactly the API roles', async () => {
    const { rows } = await db.query(
      `SELECT rolcanlogin, rolinherit, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = $1`,
      [AUTHENTICATOR_ROLE],
    );
    expect(rows).toEqual([
      {
        rolcanlogin: true,
        rolinherit: false,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolbypassrls: false,
        rolreplication: false,
      },
    ]);
    const members = await db.query<{ rolname: string }>(
      `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
        WHERE r.rolname = $1 ORDER BY 1`,
      [AUTHENTICATOR_ROLE],
    );
    expect(members.rows.map((row) => row.rolname)).toEqual([...API_ROLES].sort());
  });

  it('the API roles cannot log in and the service roles can; none is privileged', async () => {
    const { rows } = await db.query<{ rolname: string; rolcanlogin: boolean; privileged: boolean }>(
      `SELECT rolname, rolcanlogin, rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls OR rolreplication AS privileged
         FROM pg_roles WHERE rolname = ANY ($1) ORDER BY 1`,
      [[...API_ROLES, ...SERVICE_LOGIN_ROLES]],
    );
    expect(rows).toEqual(
      [
        ...API_ROLES.map((rolname) => ({ rolname, rolcanlogin: false, privileged: false })),
        ...SERVICE_LOGIN_ROLES.map((rolname) => ({ rolname, rolcanlogin: true, privileged: false })),
      ].sort((a, b) => a.rolname.localeCompare(b.rolname)),
    );
  });

  it('every role PostgREST or a service uses has a statement_timeout', async () => {
    const { rows } = await db.query<{ rolname: string; timeout: string | null }>(
      `SELECT r.rolname, (SELECT split_part(c, '=', 2) FROM unnest(s.setconfig) AS c WHERE c LIKE 'statement_timeout=%') AS timeout
         FROM pg_roles r LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
        WHERE r.rolname = ANY ($1) ORDER BY 1`,
      [[...API_ROLES, ...SERVICE_LOGIN_ROLES]],
    );
    expect(Object.fromEntries(rows.map((row) => [row.rolname, row.timeout]))).toEqual({
      web_anon: '1s',
      erp_editor: '5s',
      dashboard_reader: '5s',
      agent_service: '5s',
      agent_cross_client: '5s',
      agent_config_editor: '5s',
      planner_api: '15s',
      memory_gateway: '15s',
    });
  });

  it('the JWT roles the CLI offers are the ones the migration grants to authenticator', async () => {
    const { rows } = await db.query<{ rolname: string }>(
      `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
        WHERE r.rolname = $1 AND g.rolname <> $2 ORDER BY 1`,
      [AUTHENTICATOR_ROLE, ANONYMOUS_ROLE],
    );
    expect(rows.map((row) => row.rolname)).toEqual(Object.keys(JWT_ROLES).sort());
  });

  it('no API or service role can use the pipeline schema, or create anything in public (which is empty)', async () => {
    const { rows } = await db.query(
      `SELECT r.role, n.nspname FROM unnest($1::text[]) AS r (role) CROSS JOIN pg_namespace n
        WHERE (n.nspname = 'pipeline' AND has_schema_privilege(r.role, n.oid, 'USAGE'))
           OR (n.nspname IN ('pipeline', 'public') AND has_schema_privilege(r.role, n.oid, 'CREATE'))`,
      [[...API_ROLES, ...SERVICE_LOGIN_ROLES, AUTHENTICATOR_ROLE]],
    );
    expect(rows).toEqual([]);
    const publicObjects = await db.query(
      `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`,
    );
    expect(publicObjects.rows).toEqual([]);
  });

  it('PUBLIC may execute no function in erp, agent or postgrest, now or later', async () => {
    const executable = `SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('erp', 'agent', 'postgrest') AND has_function_privilege('public', p.oid, 'EXECUTE')`;
    expect((await db.query(executable)).rows).toEqual([]);
    await db.query(`CREATE FUNCTION erp.added_later() RETURNS integer LANGUAGE sql AS 'SELECT 1'`);
    expect((await db.query(executable)).rows).toEqual([]);
  });

  it('every agent table with a client_id column is client-scoped: one client per token, or every client for the cross-client role and the services', async () => {
    const { rows } = await db.query<{ table: string; rls: boolean; policies: string[] }>(
      `SELECT c.relname AS table, c.relrowsecurity AS rls, ARRAY(SELECT polname::text FROM pg_policy WHERE polrelid = c.oid ORDER BY 1) AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'agent' AND c.relkind = 'r'
          AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped)
        ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows)
      expect(row, row.table).toEqual({
        table: row.table,
        rls: true,
        policies: ['every_client', 'one_client', 'read_budget'],
      });
  });

  it('every erp and agent table charges API reads to the read budget and counts API changes', async () => {
    const { rows } = await db.query<{ table: string; rls: boolean; budget: boolean; triggers: string[] }>(
      `SELECT c.oid::regclass::text AS table, c.relrowsecurity AS rls,
              EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'read_budget' AND NOT p.polpermissive) AS budget,
              ARRAY(SELECT p.proname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                     WHERE t.tgrelid = c.oid AND p.pronamespace = 'postgrest'::regnamespace ORDER BY 1) AS triggers
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(38);
    for (const row of rows)
      expect(row, row.table).toEqual({
        table: row.table,
        rls: true,
        budget: true,
        triggers: ['count_changed_row', 'start_changed_row_count'],
      });
  });

  it('every API role runs with work_mem 2MB and without memoized joins, as on the droplet', async () => {
    const { rows } = await db.query<{ rolname: string; settings: string[] }>(
      `SELECT r.rolname, ARRAY(SELECT c FROM unnest(s.setconfig) AS c WHERE c ~ '^(work_mem|enable_memoize)=' ORDER BY 1) AS settings
         FROM pg_roles r JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
        WHERE r.rolname = ANY ($1) ORDER BY 1`,
      [[...API_ROLES]],
    );
    expect(rows).toEqual(
      [...API_ROLES]
        .sort()
        .map((rolname) => ({ rolname, settings: ['enable_memoize=off', 'work_mem=2048'] })),
    );
  });

  it('every role PostgREST may switch to has limits, and none may create temporary tables', async () => {
    // The migrated database itself: CREATE DATABASE ... TEMPLATE does not copy database privileges.
    const { rows } = await db.query<{ role: string; limited: boolean; temp: boolean }>(
      `SELECT r.rolname AS role, EXISTS (SELECT FROM postgrest.api_role_limits l WHERE l.role_name = r.rolname) AS limited,
              has_database_privilege(r.oid, $1, 'TEMP') AS temp
         FROM pg_roles r WHERE pg_has_role('authenticator', r.oid, 'MEMBER') AND r.rolname <> 'authenticator' ORDER BY 1`,
      [TEMPLATE_DATABASE],
    );
    expect(rows).toEqual([...API_ROLES].sort().map((role) => ({ role, limited: true, temp: false })));
  });
});

describe('the direct service logins', () => {
  const as = <T>(role: LoginRole, work: (client: pg.Client) => Promise<T>): Promise<T> =>
    withClient(loginUrl(role, db.name), work);
  const refusal = (role: LoginRole, sql: string) =>
    as(role, (client) => client.query(sql)).then(
      () => 'allowed',
      (error: Error) => error.message,
    );

  it('planner_api reads and writes plans, sessions and tasks, in one transaction if it likes', async () => {
    await as('planner_api', async (client) => {
      await client.query('BEGIN');
      const plan = await client.query(
        `INSERT INTO agent.plans (client_id, plan_title) VALUES ('acme', 'Q3 plan') RETURNING id`,
      );
      await client.query(
        `INSERT INTO agent.sessions (client_id, session_type, subject_type, subject_id) VALUES ('acme', 'planning', 'plan', $1)`,
        [String(plan.rows[0].id)],
      );
      const task = await client.query(`INSERT INTO erp.tasks (title) VALUES ('Plan task') RETURNING id`);
      await client.query(`UPDATE erp.tasks SET status = 'active' WHERE id = $1`, [task.rows[0].id]);
      await client.query('COMMIT');
    });
    expect((await db.query(`SELECT status FROM erp.tasks WHERE title = 'Plan task'`)).rows).toEqual([
      { status: 'active' },
    ]);
  });

  it.each([
    ['SELECT * FROM erp.people', /permission denied for table people/],
    ['SELECT * FROM agent.memory_facts', /permission denied for table memory_facts/],
    ['SELECT * FROM pipeline.runs', /permission denied for schema pipeline/],
    ['DELETE FROM erp.tasks', /permission denied for table tasks/],
    ["UPDATE erp.projects SET name = 'Renamed'", /permission denied for table projects/],
    ['TRUNCATE agent.plans', /permission denied for table plans/],
    ['CREATE TABLE agent.mine (id int)', /permission denied for schema agent/],
  ])('planner_api may not: %s', async (sql, message) => {
    expect(await refusal('planner_api', sql)).toMatch(message);
  });

  it('memory_gateway keeps memory for every client, and removes expired entries', async () => {
    await as('memory_gateway', async (client) => {
      await client.query(
        `INSERT INTO agent.memory_entries (client_id, content, ttl_minutes) VALUES ('alice', 'note', 1), ('bob', 'note', 1440)`,
      );
      await client.query(
        `INSERT INTO agent.memory_facts (client_id, fact_key, fact_value) VALUES ('alice', 'tz', 'UTC')`,
      );
      const event = await client.query(
        `INSERT INTO agent.events (client_id, event_type, message) VALUES ('alice', 'observation', 'likes tea') RETURNING id`,
      );
      await client.query(
        `INSERT INTO agent.facts (client_id, fact_type, content, source_event_id) VALUES ('alice', 'preference', 'likes tea', $1)`,
        [event.rows[0].id],
      );
      const seen = await client.query(`SELECT DISTINCT client_id FROM agent.memory_entries ORDER BY 1`);
      expect(seen.rows.map((row) => row.client_id)).toEqual(['alice', 'bob']);
    });
    // Alice's one-minute entry was written an hour ago; Bob's lasts a day.
    await db.query(
      `UPDATE agent.memory_entries SET created_at = now() - interval '1 hour' WHERE client_id = 'alice'`,
    );
    const removed = await as('memory_gateway', (client) =>
      client.query(`DELETE FROM agent.memory_entries WHERE expires_at <= now() RETURNING client_id`),
    );
    expect(removed.rows).toEqual([{ client_id: 'alice' }]);
    expect((await db.query(`SELECT client_id FROM agent.memory_entries`)).rows).toEqual([
      { client_id: 'bob' },
    ]);
  });

  it.each([
    ['SELECT * FROM erp.people', /permission denied for schema erp/],
    ['SELECT * FROM agent.plans', /permission denied for table plans/],
    ['DELETE FROM agent.facts', /permission denied for table facts/],
    ['DELETE FROM agent.events', /permission denied for table events/],
    ['SELECT * FROM pipeline.coda_lineage', /permission denied for schema pipeline/],
  ])('memory_gateway may not: %s', async (sql, message) => {
    expect(await refusal('memory_gateway', sql)).toMatch(message);
  });
});
