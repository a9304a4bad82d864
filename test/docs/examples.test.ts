/**
 * The code examples of docs/SERVICE_DATABASE_INTEGRATION.md, run against a real database: the
 * TypeScript ones always, the Python ones where asyncpg is importable (Debian: python3-asyncpg).
 * Each command runs as the role the doc's table tells that service to connect as, never as the
 * owner, so a missing grant (or a doc naming the wrong role) fails here.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  factsLearntInSession,
  planWithTasks,
  projectsOfPerson,
  sessionsAboutProject,
} from '../../docs/examples/typescript/portfolio-queries.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ensureTestLoginPasswords, loginUrl } from '../api/harness.ts';
import { SERVICE_LOGIN_ROLES } from '../../src/api/roles.ts';

const run = promisify(execFile);
const TYPESCRIPT_EXAMPLE = path.resolve('docs/examples/typescript/portfolio-queries.ts');
const PYTHON_EXAMPLE = path.resolve('docs/examples/python/portfolio_queries.py');

type ServiceRole = (typeof SERVICE_LOGIN_ROLES)[number];
const EXAMPLE_COMMANDS = [
  'projects-of-person',
  'sessions-about-project',
  'facts-learnt-in-session',
  'plan-with-tasks',
] as const;
type ExampleCommand = (typeof EXAMPLE_COMMANDS)[number];

/** The doc's table: `| \`command ARGS\` | question | service, \`role\` |`. */
const documentedRoles = new Map(
  [
    ...readFileSync('docs/SERVICE_DATABASE_INTEGRATION.md', 'utf8').matchAll(
      /^\| `([a-z-]+)[^`]*` \| [^|]+ \| [^|]*`([a-z_]+)` \|$/gm,
    ),
  ].map((match) => [match[1]!, match[2]!]),
);
const roleFor = (command: ExampleCommand) => documentedRoles.get(command) as ServiceRole;
const urlFor = (command: ExampleCommand) => loginUrl(roleFor(command), db.name);
/** The service login that the doc does not name for a command: it must be refused. */
const otherRole = (command: ExampleCommand) => SERVICE_LOGIN_ROLES.find((role) => role !== roleFor(command))!;

const python = [process.env.PYTHON, 'python3', '/usr/bin/python3'].find(
  (candidate) => candidate && spawnSync(candidate, ['-c', 'import asyncpg']).status === 0,
);
if (!python)
  console.warn(
    'NOTICE: no python3 with asyncpg (apt-get install python3-asyncpg); the Python example tests are skipped.',
  );

let db: TestDatabase;
const ids: Record<string, number> = {};

async function insert(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ id: string }>(`${sql} RETURNING id`, params);
  return Number(rows[0]!.id);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureTestLoginPasswords(db);
  ids.alice = await insert(`INSERT INTO erp.people (full_name) VALUES ($1)`, ['Alice Example']);
  ids.bob = await insert(`INSERT INTO erp.people (full_name) VALUES ($1)`, ['Bob Example']);
  ids.website = await insert(
    `INSERT INTO erp.projects (name, global_id, owner_person_id) VALUES ($1, $2, $3)`,
    ['Website relaunch', 'project_web', ids.alice],
  );
  ids.books = await insert(`INSERT INTO erp.projects (name, owner_person_id) VALUES ($1, $2)`, [
    'Bookkeeping',
    ids.bob,
  ]);
  ids.other = await insert(`INSERT INTO erp.projects (name) VALUES ($1)`, ['Unrelated']);
  await insert(`INSERT INTO erp.tasks (title, project_id, assignee_id) VALUES ($1, $2, $3)`, [
    'Reconcile',
    ids.books,
    ids.alice,
  ]);
  ids.byId = await insert(
    `INSERT INTO agent.sessions (client_id, subject_type, subject_id) VALUES ('acme', 'project', $1)`,
    [String(ids.website)],
  );
  ids.byGlobalId = await insert(
    `INSERT INTO agent.sessions (client_id, subject_type, subject_id) VALUES ('acme', 'project', 'project_web')`,
    [],
  );
  ids.elsewhere = await insert(
    `INSERT INTO agent.sessions (client_id, subject_type, subject_id) VALUES ('acme', 'project', $1)`,
    [String(ids.other)],
  );
  const derivedFrom = await insert(
    `INSERT INTO agent.events (client_id, session_id, event_type) VALUES ('acme', $1, 'message')`,
    [ids.byId],
  );
  ids.derivedFact = await insert(
    `INSERT INTO agent.facts (client_id, fact_type, content, source_event_id) VALUES ('acme', 'preference', $1, $2)`,
    ['Prefers email', derivedFrom],
  );
  ids.promotedFact = await insert(
    `INSERT INTO agent.facts (client_id, fact_type, content) VALUES ('acme', 'decision', $1)`,
    ['Launch in May'],
  );
  await insert(
    `INSERT INTO agent.events (client_id, session_id, event_type, promoted_fact_id) VALUES ('acme', $1, 'decision', $2)`,
    [ids.byId, ids.promotedFact],
  );
  const unrelatedEvent = await insert(
    `INSERT INTO agent.events (client_id, session_id, event_type) VALUES ('acme', $1, 'message')`,
    [ids.elsewhere],
  );
  await insert(
    `INSERT INTO agent.facts (client_id, fact_type, content, source_event_id) VALUES ('acme', 'observation', $1, $2)`,
    ['Elsewhere', unrelatedEvent],
  );
});
afterAll(async () => {
  await db?.drop();
});

/** bigint ids are strings in node-postgres and ints in asyncpg. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, item) =>
    key.endsWith('id') || key === 'task_ids' ? (Array.isArray(item) ? item.map(Number) : Number(item)) : item,
  );
}

const expected = () => ({
  projectsOfAlice: [
    { id: ids.books, name: 'Bookkeeping', status: 'planned', is_owner: false },
    { id: ids.website, name: 'Website relaunch', status: 'planned', is_owner: true },
  ],
  sessionsAboutWebsite: [ids.byId, ids.byGlobalId],
  factsOfSession: [ids.derivedFact, ids.promotedFact],
});

describe('the documented roles', () => {
  it('name one service login per example command', () => {
    expect([...documentedRoles.keys()]).toEqual([...EXAMPLE_COMMANDS]);
    for (const command of EXAMPLE_COMMANDS) expect(SERVICE_LOGIN_ROLES, command).toContain(roleFor(command));
  });
});

describe('the TypeScript example (node-postgres)', () => {
  async function asRole<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
    const pool = createPool(url);
    try {
      return await work(pool);
    } finally {
      await pool.end();
    }
  }

  it('answers the three example questions, each as the role the doc names', async () => {
    const projects = await asRole(urlFor('projects-of-person'), (pool) => projectsOfPerson(pool, ids.alice!));
    expect(normalise(projects)).toEqual(expected().projectsOfAlice);
    const sessions = await asRole(urlFor('sessions-about-project'), (pool) =>
      sessionsAboutProject(pool, ids.website!),
    );
    expect(sessions.map((session) => Number(session.id))).toEqual(expected().sessionsAboutWebsite);
    const facts = await asRole(urlFor('facts-learnt-in-session'), (pool) =>
      factsLearntInSession(pool, ids.byId!),
    );
    expect(facts.map((fact) => Number(fact.id))).toEqual(expected().factsOfSession);
  });

  it('is refused to the other service: each role reaches only what its service needs', async () => {
    const as = (command: ExampleCommand) => loginUrl(otherRole(command), db.name);
    await expect(asRole(as('projects-of-person'), (pool) => projectsOfPerson(pool, 1))).rejects.toThrow(
      /permission denied for schema erp/,
    );
    await expect(
      asRole(as('facts-learnt-in-session'), (pool) => factsLearntInSession(pool, ids.byId!)),
    ).rejects.toThrow(/permission denied for table (facts|events)/);
  });

  it('writes a plan and its tasks in one transaction as the documented role, or nothing at all', async () => {
    await asRole(urlFor('plan-with-tasks'), async (pool) => {
      const written = await planWithTasks(pool, ids.website!, 'acme', 'Launch plan', [
        'Draft copy',
        'Review copy',
      ]);
      const { rows } = await db.query(
        `SELECT title FROM erp.tasks WHERE id = ANY ($1::bigint[]) ORDER BY id`,
        [written.task_ids],
      );
      expect(rows.map((row) => row.title)).toEqual(['Draft copy', 'Review copy']);

      const before = await db.query(`SELECT count(*)::int AS plans FROM agent.plans`);
      await expect(planWithTasks(pool, 987_654, 'acme', 'Doomed plan', ['Orphan task'])).rejects.toThrow(
        /tasks_project_id_fkey/,
      );
      expect((await db.query(`SELECT count(*)::int AS plans FROM agent.plans`)).rows).toEqual(before.rows);
    });
  });

  it('runs as a script', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', TYPESCRIPT_EXAMPLE, 'projects-of-person', String(ids.alice)],
      { env: { ...process.env, DATABASE_URL: urlFor('projects-of-person') } },
    );
    expect(normalise(JSON.parse(stdout))).toEqual(expected().projectsOfAlice);
  });
});

describe.skipIf(!python)('the Python example (asyncpg)', () => {
  const runPython = async (command: ExampleCommand, ...args: string[]) => {
    const { stdout } = await run(python!, [PYTHON_EXAMPLE, command, ...args], {
      env: { ...process.env, DATABASE_URL: urlFor(command) },
    });
    return normalise(JSON.parse(stdout));
  };

  it('answers the three example questions like the TypeScript one, each as the documented role', async () => {
    expect(await runPython('projects-of-person', String(ids.alice))).toEqual(expected().projectsOfAlice);
    const sessions = (await runPython('sessions-about-project', String(ids.website))) as { id: number }[];
    expect(sessions.map((session) => session.id)).toEqual(expected().sessionsAboutWebsite);
    const facts = (await runPython('facts-learnt-in-session', String(ids.byId))) as { id: number }[];
    expect(facts.map((fact) => fact.id)).toEqual(expected().factsOfSession);
  });

  it('writes a plan and its tasks in one transaction as the documented role', async () => {
    const written = (await runPython(
      'plan-with-tasks',
      String(ids.website),
      'acme',
      'Python plan',
      'One',
      'Two',
    )) as {
      plan_id: number;
      task_ids: number[];
    };
    const { rows } = await db.query(
      `SELECT title, description FROM erp.tasks WHERE id = ANY ($1::bigint[]) ORDER BY id`,
      [written.task_ids],
    );
    expect(rows).toEqual([
      { title: 'One', description: `From plan ${written.plan_id}` },
      { title: 'Two', description: `From plan ${written.plan_id}` },
    ]);
  });
});
