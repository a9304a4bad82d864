/**
 * Foreign keys: the expected set with its ON DELETE policy, and the behaviour of each one:
 * RESTRICT refuses to delete a referenced parent (error names the constraint), SET NULL keeps the
 * child and clears the link, CASCADE removes exactly the dependent rows. Every FK refuses a
 * dangling reference and has an index on its column.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  baseRow,
  create,
  dropDatabase,
  keyOf,
  openSession,
  pgError,
  qualified,
  type Row,
  selectRow,
} from './fixtures.ts';

type OnDelete = 'RESTRICT' | 'SET NULL' | 'CASCADE';

interface ForeignKey {
  constraint: string;
  table: string;
  column: string;
  references: string;
  onDelete: OnDelete;
}

const fk = (table: string, column: string, references: string, onDelete: OnDelete): ForeignKey => ({
  constraint: `${table.split('.')[1]}_${column}_fkey`,
  table,
  column,
  references,
  onDelete,
});

const FOREIGN_KEYS: ForeignKey[] = [
  // erp
  fk('erp.projects', 'owner_person_id', 'erp.people', 'SET NULL'),
  fk('erp.projects', 'organization_id', 'erp.organizations', 'RESTRICT'),
  fk('erp.projects', 'venture_id', 'erp.ventures', 'RESTRICT'),
  fk('erp.projects', 'process_template_id', 'erp.process_templates', 'SET NULL'),
  fk('erp.engagements', 'client_org_id', 'erp.organizations', 'RESTRICT'),
  fk('erp.engagements', 'primary_contact_id', 'erp.people', 'SET NULL'),
  fk('erp.engagements', 'project_id', 'erp.projects', 'RESTRICT'),
  fk('erp.tasks', 'project_id', 'erp.projects', 'RESTRICT'),
  fk('erp.tasks', 'engagement_id', 'erp.engagements', 'RESTRICT'),
  fk('erp.tasks', 'assignee_id', 'erp.people', 'SET NULL'),
  fk('erp.tasks', 'sprint_id', 'erp.sprints', 'SET NULL'),
  fk('erp.tasks', 'execution_run_id', 'erp.execution_runs', 'SET NULL'),
  fk('erp.okrs', 'owner_person_id', 'erp.people', 'SET NULL'),
  fk('erp.service_blueprints', 'owner_person_id', 'erp.people', 'SET NULL'),
  fk('erp.workflows', 'service_blueprint_id', 'erp.service_blueprints', 'RESTRICT'),
  fk('erp.workflows', 'owner_person_id', 'erp.people', 'SET NULL'),
  fk('erp.process_templates', 'workflow_id', 'erp.workflows', 'RESTRICT'),
  fk('erp.execution_runs', 'process_template_id', 'erp.process_templates', 'RESTRICT'),
  fk('erp.ventures', 'owner_person_id', 'erp.people', 'SET NULL'),
  fk('erp.offers', 'service_blueprint_id', 'erp.service_blueprints', 'RESTRICT'),
  fk('erp.deliverables', 'engagement_id', 'erp.engagements', 'RESTRICT'),
  fk('erp.deliverables', 'offer_id', 'erp.offers', 'RESTRICT'),
  // cross-schema
  fk('erp.execution_runs', 'session_id', 'agent.sessions', 'SET NULL'),
  fk('agent.sessions', 'client_person_id', 'erp.people', 'SET NULL'),
  fk('agent.reflections', 'client_person_id', 'erp.people', 'SET NULL'),
  fk('agent.step_evaluations', 'execution_run_id', 'erp.execution_runs', 'RESTRICT'),
  // agent
  fk('agent.episodes', 'session_id', 'agent.sessions', 'SET NULL'),
  fk('agent.sessions', 'profile_id', 'agent.profiles', 'RESTRICT'),
  fk('agent.sessions', 'context_recipe_id', 'agent.context_recipes', 'SET NULL'),
  fk('agent.events', 'session_id', 'agent.sessions', 'RESTRICT'),
  fk('agent.events', 'promoted_fact_id', 'agent.facts', 'SET NULL'),
  fk('agent.facts', 'source_event_id', 'agent.events', 'SET NULL'),
  fk('agent.goals', 'parent_goal_id', 'agent.goals', 'RESTRICT'),
  fk('agent.reflections', 'session_id', 'agent.sessions', 'SET NULL'),
  fk('agent.profiles', 'default_context_recipe_id', 'agent.context_recipes', 'SET NULL'),
  fk('agent.profile_tools', 'profile_id', 'agent.profiles', 'CASCADE'),
  fk('agent.profile_tools', 'tool_id', 'agent.tools', 'CASCADE'),
  fk('agent.graph_edges', 'from_node_id', 'agent.graph_nodes', 'CASCADE'),
  fk('agent.graph_edges', 'to_node_id', 'agent.graph_nodes', 'CASCADE'),
  fk('agent.blocks', 'artifact_id', 'agent.artifacts', 'SET NULL'),
  fk('agent.block_actions', 'block_id', 'agent.blocks', 'CASCADE'),
  fk('agent.scheduler_runs', 'plan_id', 'agent.plans', 'RESTRICT'),
  // A run's plan belongs to the run's client (migration 008).
  {
    constraint: 'scheduler_runs_client_id_plan_id_fkey',
    table: 'agent.scheduler_runs',
    column: 'plan_id,client_id',
    references: 'agent.plans',
    onDelete: 'RESTRICT',
  },
  // A client's row points only at rows of the same client (migration 016).
  ...[
    fk('agent.episodes', 'session_id', 'agent.sessions', 'SET NULL'),
    fk('agent.events', 'session_id', 'agent.sessions', 'RESTRICT'),
    fk('agent.events', 'promoted_fact_id', 'agent.facts', 'SET NULL'),
    fk('agent.facts', 'source_event_id', 'agent.events', 'SET NULL'),
    fk('agent.goals', 'parent_goal_id', 'agent.goals', 'RESTRICT'),
    fk('agent.reflections', 'session_id', 'agent.sessions', 'SET NULL'),
    fk('agent.graph_edges', 'from_node_id', 'agent.graph_nodes', 'CASCADE'),
    fk('agent.graph_edges', 'to_node_id', 'agent.graph_nodes', 'CASCADE'),
    fk('agent.blocks', 'artifact_id', 'agent.artifacts', 'SET NULL'),
    fk('agent.block_actions', 'block_id', 'agent.blocks', 'CASCADE'),
  ].map(clientAware),
];

/**
 * The (client_id, column) twin of a key between client tables, checked before the plain one. Its
 * columns are listed in table order: episodes had its client_id before its session_id.
 */
function clientAware(key: ForeignKey): ForeignKey {
  const table = key.table.split('.')[1];
  const column = table === 'episodes' ? `client_id,${key.column}` : `${key.column},client_id`;
  return { ...key, constraint: `${table}_client_id_${key.column}_fkey`, column };
}

/** The twin of a single-column key, if it has one. */
const twinOf = (key: ForeignKey) =>
  FOREIGN_KEYS.find((other) => other.constraint === clientAware(key).constraint);

/**
 * What a parent row needs to be referred to by a child of this key: a child whose base row
 * belongs to a client (episodes) may only point at a parent of the same client.
 */
async function parentValues(key: ForeignKey): Promise<Row> {
  const clientId = twinOf(key) ? (await baseRow(sql, key.table)).client_id : undefined;
  return clientId === undefined ? {} : { client_id: clientId };
}

let db: TestDatabase;
/** The file's one connection (see openSession). */
let sql: pg.PoolClient;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = await openSession(db);
});

afterAll(async () => {
  await dropDatabase(db, sql);
});

async function deleteRow(table: string, id: unknown) {
  return await sql.query(`DELETE FROM ${qualified(table)} WHERE id = $1`, [id]);
}

async function exists(table: string, row: Record<string, unknown>): Promise<boolean> {
  return (await selectRow(sql, table, keyOf(table, row))) !== undefined;
}

describe('the foreign key set', () => {
  it('is exactly the expected one, with its columns, referenced tables and ON DELETE actions', async () => {
    const { rows } = await sql.query<ForeignKey>(
      `SELECT c.conname AS constraint,
              n.nspname || '.' || t.relname AS table,
              (SELECT string_agg(a.attname, ',') FROM pg_attribute a
                WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) AS column,
              rn.nspname || '.' || r.relname AS references,
              CASE c.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'c' THEN 'CASCADE'
                                 WHEN 'a' THEN 'NO ACTION' WHEN 'd' THEN 'SET DEFAULT' END AS "onDelete"
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE c.contype = 'f' AND n.nspname IN ('erp', 'agent')`,
    );
    const sort = (list: ForeignKey[]) => [...list].sort((a, b) => a.constraint.localeCompare(b.constraint));
    expect(sort(rows)).toEqual(sort(FOREIGN_KEYS));
    expect(FOREIGN_KEYS.filter((f) => f.table.split('.')[0] !== f.references.split('.')[0])).toHaveLength(4);
  });

  it('every foreign key records its ON DELETE choice in a comment', async () => {
    const { rows } = await sql.query<{ conname: string; comment: string | null; action: string }>(
      `SELECT c.conname, obj_description(c.oid, 'pg_constraint') AS comment,
              CASE c.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'c' THEN 'CASCADE' END AS action
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname IN ('erp', 'agent')`,
    );
    const bad = rows.filter((r) => !r.comment?.includes(`ON DELETE ${r.action}:`)).map((r) => r.conname);
    expect(bad).toEqual([]);
  });

  it('every foreign key has an index led by its column', async () => {
    const { rows } = await sql.query<{ conname: string }>(
      `SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname IN ('erp', 'agent')
          AND NOT EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indrelid = c.conrelid
                             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)`,
    );
    expect(rows.map((r) => r.conname)).toEqual([]);
  });
});

describe('scheduler_runs_client_id_plan_id_fkey (a run and its plan have one client)', () => {
  it("refuses a run pointing at another client's plan, naming the constraint", async () => {
    const plan = await create(sql, 'agent.plans', { client_id: 'client_b' });
    const error = await pgError(
      create(sql, 'agent.scheduler_runs', { client_id: 'client_a', plan_id: plan.id }),
    );
    expect(error.code).toBe('23503');
    expect(error.constraint).toBe('scheduler_runs_client_id_plan_id_fkey');
    await create(sql, 'agent.scheduler_runs', { client_id: 'client_b', plan_id: plan.id });
  });
});

const singleColumnKeys = FOREIGN_KEYS.filter((key) => !key.column.includes(','));
describe.each(singleColumnKeys)('$constraint ($table.$column -> $references, ON DELETE $onDelete)', (key) => {
  it('refuses a reference to a missing row', async () => {
    const error = await pgError(create(sql, key.table, { [key.column]: 987_654_321 }));
    // A child of a client is refused by the client-aware twin, checked first.
    const refusing = Object.keys(await parentValues(key)).length ? twinOf(key)! : key;
    expect(error.code).toBe('23503');
    expect(error.constraint).toBe(refusing.constraint);
    expect(error.message).toContain(refusing.constraint);
  });

  if (key.onDelete === 'RESTRICT') {
    it('refuses to delete a referenced parent, naming the constraint; both rows stay', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const child = await create(sql, key.table, { [key.column]: parent.id });
      const error = await pgError(deleteRow(key.references, parent.id));
      expect(error.code).toBe('23503');
      expect(error.constraint).toBe(key.constraint);
      expect(error.message).toContain(key.constraint);
      expect(await exists(key.references, parent)).toBe(true);
      expect((await selectRow(sql, key.table, keyOf(key.table, child)))?.[key.column]).toBe(parent.id);
    });

    it('allows deleting a parent nothing refers to', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const result = await deleteRow(key.references, parent.id);
      expect(result.rowCount).toBe(1);
    });
  }

  if (key.onDelete === 'SET NULL') {
    it('deleting the parent keeps the child and sets the link to NULL', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const child = await create(sql, key.table, { [key.column]: parent.id });
      const other = await create(sql, key.references, await parentValues(key));
      const unrelated = await create(sql, key.table, { [key.column]: other.id });
      expect((await deleteRow(key.references, parent.id)).rowCount).toBe(1);
      const after = await selectRow(sql, key.table, keyOf(key.table, child));
      expect(after).toBeDefined();
      expect(after?.[key.column]).toBeNull();
      expect((await selectRow(sql, key.table, keyOf(key.table, unrelated)))?.[key.column]).toBe(other.id);
    });
  }

  if (key.onDelete === 'CASCADE') {
    it('deleting the parent removes exactly its dependent rows', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const children = [
        await create(sql, key.table, { [key.column]: parent.id }),
        await create(sql, key.table, { [key.column]: parent.id }),
      ];
      const other = await create(sql, key.references, await parentValues(key));
      const unrelated = await create(sql, key.table, { [key.column]: other.id });
      const before = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualified(key.table)}`);
      expect((await deleteRow(key.references, parent.id)).rowCount).toBe(1);
      for (const child of children) expect(await exists(key.table, child)).toBe(false);
      expect(await exists(key.table, unrelated)).toBe(true);
      expect(await exists(key.references, other)).toBe(true);
      const after = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualified(key.table)}`);
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n - children.length);
    });
  }
});
