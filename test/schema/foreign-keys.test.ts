/**
 * Foreign keys: the expected set with its ON DELETE policy, and the behaviour of each one:
 * RESTRICT refuses to delete a referenced parent (error names the constraint), SET NULL keeps the
 * child and clears the link, CASCADE removes exactly the dependent rows. Every FK refuses a
 * dangling reference and has an index on its column. A link between two client tables is
 * (client_id, <link>) -> (client_id, id): another client's row is refused like a missing one.
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
  /** The key's columns in key order, comma-separated; the link is the last one. */
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

/** A link between client tables (migration 020): (client_id, column) -> (client_id, id). */
const clientFk = (table: string, column: string, references: string, onDelete: OnDelete): ForeignKey => ({
  constraint: `${table.split('.')[1]}_client_id_${column}_fkey`,
  table,
  column: `client_id,${column}`,
  references,
  onDelete,
});

const linkOf = (key: ForeignKey) => key.column.split(',').at(-1)!;

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
  // cross-schema: from a client table to erp, never into a client table (020)
  fk('agent.sessions', 'client_person_id', 'erp.people', 'SET NULL'),
  fk('agent.reflections', 'client_person_id', 'erp.people', 'SET NULL'),
  fk('agent.step_evaluations', 'execution_run_id', 'erp.execution_runs', 'RESTRICT'),
  // agent: shared configuration, and client rows pointing at it
  fk('agent.sessions', 'profile_id', 'agent.profiles', 'RESTRICT'),
  fk('agent.sessions', 'context_recipe_id', 'agent.context_recipes', 'SET NULL'),
  fk('agent.profiles', 'default_context_recipe_id', 'agent.context_recipes', 'SET NULL'),
  fk('agent.profile_tools', 'profile_id', 'agent.profiles', 'CASCADE'),
  fk('agent.profile_tools', 'tool_id', 'agent.tools', 'CASCADE'),
  // agent: a client's row points only at rows of the same client
  clientFk('agent.episodes', 'session_id', 'agent.sessions', 'SET NULL'),
  clientFk('agent.events', 'session_id', 'agent.sessions', 'RESTRICT'),
  clientFk('agent.events', 'promoted_fact_id', 'agent.facts', 'SET NULL'),
  clientFk('agent.facts', 'source_event_id', 'agent.events', 'SET NULL'),
  clientFk('agent.goals', 'parent_goal_id', 'agent.goals', 'RESTRICT'),
  clientFk('agent.reflections', 'session_id', 'agent.sessions', 'SET NULL'),
  clientFk('agent.graph_edges', 'from_node_id', 'agent.graph_nodes', 'CASCADE'),
  clientFk('agent.graph_edges', 'to_node_id', 'agent.graph_nodes', 'CASCADE'),
  clientFk('agent.blocks', 'artifact_id', 'agent.artifacts', 'SET NULL'),
  clientFk('agent.block_actions', 'block_id', 'agent.blocks', 'CASCADE'),
  clientFk('agent.scheduler_runs', 'plan_id', 'agent.plans', 'RESTRICT'),
];

/** What a parent row needs to be referred to by a child of this key: the child's client. */
async function parentValues(key: ForeignKey): Promise<Row> {
  return key.column.startsWith('client_id,') ? { client_id: (await baseRow(sql, key.table)).client_id } : {};
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
              (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                 FROM unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS column,
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
    expect(FOREIGN_KEYS.filter((f) => f.table.split('.')[0] !== f.references.split('.')[0])).toHaveLength(3);
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

describe.each(FOREIGN_KEYS)('$constraint ($table.$column -> $references, ON DELETE $onDelete)', (key) => {
  const link = linkOf(key);
  it('refuses a reference to a missing row', async () => {
    const error = await pgError(create(sql, key.table, { [link]: 987_654_321 }));
    expect(error.code).toBe('23503');
    expect(error.constraint).toBe(key.constraint);
    expect(error.message).toContain(key.constraint);
  });

  if (key.column.startsWith('client_id,')) {
    it("refuses a link to another client's row exactly as a missing one; the same client's is taken", async () => {
      const theirs = await create(sql, key.references, { client_id: 'client_b' });
      const error = await pgError(create(sql, key.table, { client_id: 'client_a', [link]: theirs.id }));
      expect([error.code, error.constraint]).toEqual(['23503', key.constraint]);
      const child = await create(sql, key.table, { client_id: 'client_b', [link]: theirs.id });
      expect(child[link]).toBe(theirs.id);
    });
  }

  if (key.onDelete === 'RESTRICT') {
    it('refuses to delete a referenced parent, naming the constraint; both rows stay', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const child = await create(sql, key.table, { [link]: parent.id });
      const error = await pgError(deleteRow(key.references, parent.id));
      expect(error.code).toBe('23503');
      expect(error.constraint).toBe(key.constraint);
      expect(error.message).toContain(key.constraint);
      expect(await exists(key.references, parent)).toBe(true);
      expect((await selectRow(sql, key.table, keyOf(key.table, child)))?.[link]).toBe(parent.id);
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
      const child = await create(sql, key.table, { [link]: parent.id });
      const other = await create(sql, key.references, await parentValues(key));
      const unrelated = await create(sql, key.table, { [link]: other.id });
      expect((await deleteRow(key.references, parent.id)).rowCount).toBe(1);
      const after = await selectRow(sql, key.table, keyOf(key.table, child));
      expect(after).toBeDefined();
      expect(after?.[link]).toBeNull();
      expect((await selectRow(sql, key.table, keyOf(key.table, unrelated)))?.[link]).toBe(other.id);
    });
  }

  if (key.onDelete === 'CASCADE') {
    it('deleting the parent removes exactly its dependent rows', async () => {
      const parent = await create(sql, key.references, await parentValues(key));
      const children = [
        await create(sql, key.table, { [link]: parent.id }),
        await create(sql, key.table, { [link]: parent.id }),
      ];
      const other = await create(sql, key.references, await parentValues(key));
      const unrelated = await create(sql, key.table, { [link]: other.id });
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
