/**
 * Behaviour of the schema beyond constraints: updated_at triggers (move on change, not on a
 * no-op), the generated variance_pct, agent.get_graph_neighbors in both directions, the
 * memory_entries.expires_at derivation, and a few "allowed" cases next to the refusals.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  create,
  dropDatabase,
  insert,
  keyOf,
  openSession,
  pgError,
  qualified,
  type Row,
} from './fixtures.ts';

const { escapeIdentifier: quoteIdent } = pg;

/** For each table with updated_at: a column and a new value that make a real change. */
const CHANGES: Record<string, Row> = {
  'erp.people': { notes: 'changed' },
  'erp.organizations': { notes: 'changed' },
  'erp.projects': { description: 'changed' },
  'erp.engagements': { notes: 'changed' },
  'erp.tasks': { description: 'changed' },
  'erp.okrs': { venture_name: 'changed' },
  'erp.service_blueprints': { description: 'changed' },
  'erp.workflows': { description: 'changed' },
  'erp.process_templates': { name: 'changed' },
  'erp.execution_runs': { actual_hours: 5 }, // also the table with a generated column
  'erp.ventures': { description: 'changed' },
  'erp.sprints': { name: 'changed' },
  'erp.offers': { description: 'changed' },
  'erp.deliverables': { description: 'changed' },
  'agent.client_profiles': { name: 'changed' },
  'agent.memory_facts': { fact_value: 'changed' },
  'agent.working_state': { state_value: '{"step": 2}' },
  'agent.events': { message: 'changed' },
  'agent.facts': { content: 'changed' },
  'agent.goals': { description: 'changed' },
  'agent.profiles': { description: 'changed' },
  'agent.tools': { description: 'changed' },
  'agent.graph_nodes': { properties: '{"label": "changed"}' },
  'agent.graph_edges': { properties: '{"weight": 0.5}' },
  'agent.blocks': { body_md: '# changed' },
  'agent.plans': { intent: 'changed' },
  'agent.scheduler_runs': { client_id: 'changed' },
  'agent.prompt_templates': { content: 'changed {{x}}' },
};

const OLD = '2000-01-01T00:00:00.000Z';

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

function whereKey(table: string, row: Row, offset = 0): { sql: string; params: unknown[] } {
  const key = keyOf(table, row);
  const columns = Object.keys(key);
  return {
    sql: columns.map((c, i) => `${quoteIdent(c)} = $${offset + i + 1}`).join(' AND '),
    params: columns.map((c) => key[c]),
  };
}

describe('updated_at', () => {
  it('the change map covers exactly the tables that have updated_at', async () => {
    const { rows } = await sql.query<{ table: string }>(
      `SELECT table_schema || '.' || table_name AS table FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND column_name = 'updated_at' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table).sort()).toEqual(Object.keys(CHANGES).sort());
  });

  it.each(Object.entries(CHANGES))(
    '%s: kept on a no-op update, set to now() on a change',
    async (table, change) => {
      const row = await create(sql, table, { updated_at: OLD });
      expect((row.updated_at as Date).toISOString()).toBe(OLD);
      const [column] = Object.keys(change) as [string];
      const key = whereKey(table, row);

      // No-op: assign a column its own value, and the whole row's updated_at its own value.
      for (const set of [`${quoteIdent(column)} = ${quoteIdent(column)}`, 'updated_at = updated_at']) {
        const { rows } = await sql.query(
          `UPDATE ${qualified(table)} SET ${set} WHERE ${key.sql} RETURNING updated_at`,
          key.params,
        );
        expect(rows).toHaveLength(1);
        expect((rows[0]!.updated_at as Date).toISOString()).toBe(OLD);
      }

      // Real change, inside one transaction so now() is known: updated_at becomes now().
      await sql.query('BEGIN');
      try {
        const changed = whereKey(table, row, 1);
        const { rows } = await sql.query<{ is_now: boolean; moved: boolean }>(
          `UPDATE ${qualified(table)} SET ${quoteIdent(column)} = $1 WHERE ${changed.sql}
         RETURNING updated_at = now() AS is_now, updated_at > '${OLD}' AS moved`,
          [change[column], ...changed.params],
        );
        expect(rows).toEqual([{ is_now: true, moved: true }]);
      } finally {
        await sql.query('COMMIT');
      }
    },
  );

  it('an explicit updated_at written together with a change is replaced by now() (the trigger owns the column)', async () => {
    const row = await create(sql, 'erp.tasks');
    const { rows } = await sql.query(
      `UPDATE erp.tasks SET title = 'renamed', updated_at = '1999-01-01' WHERE id = $1
       RETURNING updated_at = now() AS is_now`,
      [row.id],
    );
    expect(rows).toEqual([{ is_now: true }]);
  });

  it('a no-op update of erp.execution_runs (generated column) keeps updated_at, a change recomputes variance_pct', async () => {
    const row = await create(sql, 'erp.execution_runs', {
      estimated_hours: 10,
      actual_hours: 12,
      updated_at: OLD,
    });
    const noop = await sql.query(
      `UPDATE erp.execution_runs SET estimated_hours = 10, actual_hours = 12.0 WHERE id = $1 RETURNING updated_at, variance_pct`,
      [row.id],
    );
    expect((noop.rows[0]!.updated_at as Date).toISOString()).toBe(OLD);
    expect(noop.rows[0]!.variance_pct).toBe('20.00');
    const changed = await sql.query(
      `UPDATE erp.execution_runs SET actual_hours = 8 WHERE id = $1 RETURNING updated_at > $2 AS moved, variance_pct`,
      [row.id, OLD],
    );
    expect(changed.rows[0]).toEqual({ moved: true, variance_pct: '-20.00' });
  });
});

describe('erp.execution_runs.variance_pct', () => {
  it.each([
    { estimated: 10, actual: 12.5, expected: '25.00' },
    { estimated: 3, actual: 2, expected: '-33.33' },
    { estimated: 8, actual: 8, expected: '0.00' },
    { estimated: null, actual: 3, expected: null },
    { estimated: 0, actual: 3, expected: null },
    { estimated: 5, actual: null, expected: null },
  ])('estimated $estimated, actual $actual -> $expected', async ({ estimated, actual, expected }) => {
    const row = await create(sql, 'erp.execution_runs', { estimated_hours: estimated, actual_hours: actual });
    expect(row.variance_pct).toBe(expected);
  });

  it('cannot be written', async () => {
    const error = await pgError(create(sql, 'erp.execution_runs', { variance_pct: 1 }));
    expect(error.code).toBe('428C9');
    expect(error.message).toContain('variance_pct');
  });
});

describe('agent.get_graph_neighbors(p_node_id bigint)', () => {
  let project: Row;
  let person: Row;
  let topic: Row;
  let lonely: Row;
  let owns: Row;
  let related: Row;

  beforeAll(async () => {
    project = await create(sql, 'agent.graph_nodes', {
      node_type: 'project',
      node_id: 'project_2024q4_eng',
      properties: '{"label": "Q4"}',
    });
    person = await create(sql, 'agent.graph_nodes', { node_type: 'person', node_id: 'person_jane' });
    topic = await create(sql, 'agent.graph_nodes', { node_type: 'topic', node_id: 'topic_ai' });
    lonely = await create(sql, 'agent.graph_nodes', { node_type: 'concept', node_id: 'concept_alone' });
    owns = await insert(sql, 'agent.graph_edges', {
      client_id: project.client_id,
      from_node_id: person.id,
      to_node_id: project.id,
      edge_type: 'owns',
      properties: '{"since": "2024-01-01"}',
    });
    related = await insert(sql, 'agent.graph_edges', {
      client_id: project.client_id,
      from_node_id: project.id,
      to_node_id: topic.id,
      edge_type: 'related_to',
    });
  });

  const neighbours = async (id: unknown) =>
    (await sql.query('SELECT * FROM agent.get_graph_neighbors($1)', [id])).rows;

  it('returns outgoing and incoming neighbours of a node with the connecting edge', async () => {
    expect(await neighbours(project.id)).toEqual([
      {
        neighbor_id: topic.id,
        neighbor_node_id: 'topic_ai',
        neighbor_node_type: 'topic',
        neighbor_properties: {},
        edge_id: related.id,
        edge_type: 'related_to',
        edge_properties: {},
        direction: 'outgoing',
      },
      {
        neighbor_id: person.id,
        neighbor_node_id: 'person_jane',
        neighbor_node_type: 'person',
        neighbor_properties: {},
        edge_id: owns.id,
        edge_type: 'owns',
        edge_properties: { since: '2024-01-01' },
        direction: 'incoming',
      },
    ]);
  });

  it('sees each edge from both ends', async () => {
    expect(await neighbours(person.id)).toEqual([
      expect.objectContaining({
        neighbor_id: project.id,
        neighbor_properties: { label: 'Q4' },
        edge_id: owns.id,
        direction: 'outgoing',
      }),
    ]);
    expect(await neighbours(topic.id)).toEqual([
      expect.objectContaining({ neighbor_id: project.id, edge_id: related.id, direction: 'incoming' }),
    ]);
  });

  it('is empty for a node without edges and for a missing node', async () => {
    expect(await neighbours(lonely.id)).toEqual([]);
    expect(await neighbours(987_654_321)).toEqual([]);
  });
});

describe('agent.memory_entries.expires_at', () => {
  const created = '2024-05-01T12:00:00.000Z';

  it('is created_at + ttl_minutes on insert, NULL without a TTL', async () => {
    const withTtl = await create(sql, 'agent.memory_entries', { created_at: created, ttl_minutes: 90 });
    expect((withTtl.expires_at as Date).toISOString()).toBe('2024-05-01T13:30:00.000Z');
    const withoutTtl = await create(sql, 'agent.memory_entries', { created_at: created });
    expect(withoutTtl.expires_at).toBeNull();
  });

  it('follows the default created_at', async () => {
    const row = await create(sql, 'agent.memory_entries', { ttl_minutes: 1440 });
    const { rows } = await sql.query(
      `SELECT expires_at = created_at + interval '1 day' AS ok FROM agent.memory_entries WHERE id = $1`,
      [row.id],
    );
    expect(rows).toEqual([{ ok: true }]);
  });

  it('is recomputed when ttl_minutes or created_at change, and cleared when the TTL is removed', async () => {
    const row = await create(sql, 'agent.memory_entries', { created_at: created, ttl_minutes: 10 });
    const set = async (values: string) =>
      (
        await sql.query(`UPDATE agent.memory_entries SET ${values} WHERE id = $1 RETURNING expires_at`, [
          row.id,
        ])
      ).rows[0]!.expires_at as Date | null;
    expect((await set('ttl_minutes = 60'))?.toISOString()).toBe('2024-05-01T13:00:00.000Z');
    expect((await set(`created_at = '2024-05-02T00:00:00Z'`))?.toISOString()).toBe(
      '2024-05-02T01:00:00.000Z',
    );
    expect(await set('ttl_minutes = NULL')).toBeNull();
  });

  it('cannot be set by hand: a written value is replaced by the derivation', async () => {
    const row = await create(sql, 'agent.memory_entries', {
      created_at: created,
      ttl_minutes: 30,
      expires_at: '2030-01-01T00:00:00Z',
    });
    expect((row.expires_at as Date).toISOString()).toBe('2024-05-01T12:30:00.000Z');
    const cleared = await create(sql, 'agent.memory_entries', { expires_at: '2030-01-01T00:00:00Z' });
    expect(cleared.expires_at).toBeNull();
  });
});

describe('allowed input next to the refusals', () => {
  it('a 1536-dimension embedding is stored as real[] in both memory tables', async () => {
    const embedding = Array.from({ length: 1536 }, (_, i) => i / 1536);
    for (const table of ['agent.memory_entries', 'agent.episodes']) {
      const row = await create(sql, table, { embedding });
      expect(row.embedding).toHaveLength(1536);
    }
  });

  it('NULL global_id, email and run_identifier may repeat; emails differing only in case may not', async () => {
    await create(sql, 'erp.people');
    await create(sql, 'erp.people');
    await create(sql, 'erp.execution_runs');
    await create(sql, 'erp.execution_runs');
    await create(sql, 'erp.people', { email: 'Unique.Person@example.com' });
    const error = await pgError(create(sql, 'erp.people', { email: 'unique.person@example.com' }));
    expect(error.constraint).toBe('people_email_key');
  });

  it('a block has any number of non-default actions and at most one default', async () => {
    const block = await create(sql, 'agent.blocks');
    await create(sql, 'agent.block_actions', { block_id: block.id, is_default: true });
    await create(sql, 'agent.block_actions', { block_id: block.id });
    await create(sql, 'agent.block_actions', { block_id: block.id });
    const other = await create(sql, 'agent.blocks');
    await create(sql, 'agent.block_actions', { block_id: other.id, is_default: true });
    const error = await pgError(create(sql, 'agent.block_actions', { block_id: block.id, is_default: true }));
    expect(error.constraint).toBe('block_actions_client_id_block_id_is_default_key');
  });

  it('status values mapped from Coda are accepted', async () => {
    const blueprint = await create(sql, 'erp.service_blueprints', { status: 'deprecated' });
    expect(blueprint.status).toBe('deprecated');
    const workflow = await create(sql, 'erp.workflows', { automation_status: 'semi_automated' });
    expect(workflow.automation_status).toBe('semi_automated');
    const project = await create(sql, 'erp.projects', {
      status: 'active',
      start_date: '2024-01-01',
      end_date: '2024-01-01',
    });
    expect(project.status).toBe('active');
    const task = await create(sql, 'erp.tasks', { status: 'active', priority: 'urgent' });
    expect([task.status, task.priority]).toEqual(['active', 'urgent']);
  });

  it('a memory fact key has any number of versions, per client', async () => {
    for (const client_id of ['client_x', 'client_x', 'client_y'])
      await create(sql, 'agent.memory_facts', { client_id, fact_key: 'language' });
    const { rows } = await sql.query(
      `SELECT client_id, count(*)::int AS versions FROM agent.memory_facts WHERE fact_key = 'language' GROUP BY client_id ORDER BY client_id`,
    );
    expect(rows).toEqual([
      { client_id: 'client_x', versions: 2 },
      { client_id: 'client_y', versions: 1 },
    ]);
  });
});
