/**
 * Shared helpers for the schema tests: a minimal valid row for each of the 38 tables (creating
 * the parent rows it needs), generic INSERT/UPDATE builders, table snapshots and a helper that
 * captures the Postgres error of a statement that must fail.
 */
import pg from 'pg';

const { escapeIdentifier: quoteIdent } = pg;

export type Row = Record<string, unknown>;
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

let counter = 0;
/** A value unique within the test run, for UNIQUE columns of base rows. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`;
}

export function qualified(table: string): string {
  const [schema, name] = table.split('.');
  if (!schema || !name) throw new Error(`not a qualified table name: ${table}`);
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export async function insert(db: Queryable, table: string, values: Row): Promise<Row> {
  const columns = Object.keys(values);
  const text =
    columns.length === 0
      ? `INSERT INTO ${qualified(table)} DEFAULT VALUES RETURNING *`
      : `INSERT INTO ${qualified(table)} (${columns.map((c) => quoteIdent(c)).join(', ')}) ` +
        `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`;
  const { rows } = await db.query(
    text,
    columns.map((c) => values[c]),
  );
  const row = rows[0];
  if (!row) throw new Error(`INSERT INTO ${table} returned no row`);
  return row;
}

/**
 * Columns that identify a row: id (one sequence per table, so unique across clients although a
 * client table's primary key is (client_id, id)), or profile_tools' composite key.
 */
export function keyOf(table: string, row: Row): Row {
  if (table === 'agent.profile_tools') return { profile_id: row.profile_id, tool_id: row.tool_id };
  return { id: row.id };
}

export async function update(db: Queryable, table: string, key: Row, values: Row): Promise<Row | undefined> {
  const set = Object.keys(values);
  const where = Object.keys(key);
  const text =
    `UPDATE ${qualified(table)} SET ${set.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(', ')} ` +
    `WHERE ${where.map((c, i) => `${quoteIdent(c)} = $${set.length + i + 1}`).join(' AND ')} RETURNING *`;
  const { rows } = await db.query(text, [...set.map((c) => values[c]), ...where.map((c) => key[c])]);
  return rows[0];
}

export async function selectRow(db: Queryable, table: string, key: Row): Promise<Row | undefined> {
  const where = Object.keys(key);
  const { rows } = await db.query(
    `SELECT * FROM ${qualified(table)} WHERE ${where.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ')}`,
    where.map((c) => key[c]),
  );
  return rows[0];
}

/** Row count and a hash of the whole table's content. */
export async function snapshot(db: Queryable, table: string): Promise<{ rows: number; hash: string }> {
  const { rows } = await db.query<{ rows: number; hash: string }>(
    `SELECT count(*)::int AS rows,
            coalesce(md5(string_agg(to_jsonb(t)::text, ',' ORDER BY to_jsonb(t)::text)), '') AS hash
       FROM ${qualified(table)} t`,
  );
  return rows[0]!;
}

type BaseRow = (db: Queryable, parent: Row) => Row | Promise<Row>;

/** The parent values a child row needs: a client's row may only point at the same client's rows. */
const sameClient = (overrides: Row): Row =>
  overrides.client_id === undefined ? {} : { client_id: overrides.client_id };

/**
 * Minimal valid values for each table: its NOT NULL columns without default (a client table's
 * rows belong to client_a unless told otherwise), and the parents a NOT NULL foreign key needs (of
 * the child's client). Optional links are left NULL.
 */
const BASE_ROWS: Record<string, BaseRow> = {
  'erp.people': () => ({ full_name: 'Test Person' }),
  'erp.organizations': () => ({ name: 'Test Organization' }),
  'erp.projects': () => ({ name: 'Test Project' }),
  'erp.engagements': () => ({ name: 'Test Engagement' }),
  'erp.tasks': () => ({ title: 'Test Task' }),
  'erp.okrs': () => ({ objective: 'Grow revenue' }),
  'erp.service_blueprints': () => ({ name: 'Test Blueprint' }),
  'erp.workflows': () => ({ name: 'Test Workflow' }),
  'erp.process_templates': () => ({ name: 'Test Template' }),
  'erp.execution_runs': () => ({}),
  'erp.ventures': () => ({ name: 'Test Venture' }),
  'erp.sprints': () => ({ name: 'Test Sprint' }),
  'erp.offers': () => ({ name: 'Test Offer' }),
  'erp.deliverables': () => ({ name: 'Test Deliverable' }),

  'agent.client_profiles': () => ({ client_id: unique('client') }),
  'agent.memory_entries': () => ({ client_id: 'client_a', content: unique('Prefers mornings') }),
  'agent.memory_facts': () => ({ client_id: 'client_a', fact_key: unique('fact'), fact_value: 'German' }),
  'agent.working_state': () => ({ client_id: 'client_a', state_key: unique('state') }),
  'agent.episodes': () => ({ client_id: 'client_a', summary: 'Discussed the roadmap' }),
  'agent.webhook_executions': () => ({ client_id: 'client_a', webhook_url: 'https://example.com/hook' }),
  'agent.sessions': () => ({ client_id: 'client_a' }),
  'agent.events': () => ({ client_id: 'client_a', event_type: 'message' }),
  'agent.facts': () => ({
    client_id: 'client_a',
    fact_type: 'attribute',
    content: 'Acme is based in Berlin',
  }),
  'agent.goals': () => ({ client_id: 'client_a', title: 'Test Goal' }),
  'agent.reflections': () => ({ client_id: 'client_a' }),
  'agent.step_evaluations': async (db) => ({
    client_id: 'client_a',
    execution_run_id: (await create(db, 'erp.execution_runs')).id,
    step_name: 'Send invoice',
    step_index: 0,
    validator_type: 'rule',
  }),
  'agent.artifacts': () => ({ client_id: 'client_a', artifact_type: 'document', title: 'Test Document' }),
  'agent.profiles': () => ({ name: unique('profile') }),
  'agent.tools': () => ({ name: unique('tool') }),
  'agent.context_recipes': () => ({ name: unique('recipe') }),
  'agent.profile_tools': async (db) => ({
    profile_id: (await create(db, 'agent.profiles')).id,
    tool_id: (await create(db, 'agent.tools')).id,
  }),
  'agent.graph_nodes': () => ({ client_id: 'client_a', node_type: 'topic', node_id: unique('node') }),
  'agent.graph_edges': async (db, parent) => ({
    client_id: 'client_a',
    from_node_id: (await create(db, 'agent.graph_nodes', parent)).id,
    to_node_id: (await create(db, 'agent.graph_nodes', parent)).id,
    edge_type: 'related_to',
  }),
  'agent.blocks': () => ({ client_id: 'client_a', block_type: 'note' }),
  'agent.block_actions': async (db, parent) => ({
    client_id: 'client_a',
    block_id: (await create(db, 'agent.blocks', parent)).id,
    action_type: 'open_link',
  }),
  'agent.plans': () => ({ client_id: 'client_a', plan_title: 'Test Plan' }),
  'agent.scheduler_runs': () => ({ client_id: 'client_a' }),
  'agent.prompt_templates': () => ({ template_name: unique('template'), content: 'Hello {{client_name}}' }),
};

/**
 * The 38 tables of the data model, named once (as the keys of BASE_ROWS). The schema tests check
 * this list against the database's catalog, and columns.test.ts its columns against the contract.
 */
export const ALL_TABLES: readonly string[] = Object.keys(BASE_ROWS);

/** Minimal valid values for a table; parents it needs are created for the client in overrides. */
export async function baseRow(db: Queryable, table: string, overrides: Row = {}): Promise<Row> {
  const make = BASE_ROWS[table];
  if (!make) throw new Error(`no base row for ${table}`);
  return await make(db, sameClient(overrides));
}

/** Inserts a valid row (base values plus overrides) and returns it. */
export async function create(db: Queryable, table: string, overrides: Row = {}): Promise<Row> {
  return insert(db, table, { ...(await baseRow(db, table, overrides)), ...overrides });
}

/**
 * One connection for a whole test file. pg-pool's query() discards the connection after any
 * error (and reconnects for the next query), which makes the many expected errors of these
 * tests slow; a checked-out client keeps its connection. Commits need not wait for the WAL
 * flush on a throw-away database (durability only, behaviour is unchanged).
 */
export async function openSession(db: { pool: pg.Pool }): Promise<pg.PoolClient> {
  const client = await db.pool.connect();
  await client.query('SET synchronous_commit = off');
  return client;
}

/** Releases the file's session, then drops its database. */
export async function dropDatabase(
  db: { pool: pg.Pool; drop(): Promise<void> } | undefined,
  session?: pg.PoolClient,
): Promise<void> {
  session?.release();
  await db?.drop();
}

/** Runs a statement that must fail and returns the Postgres error. */
export async function pgError(statement: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await statement;
  } catch (error) {
    if (error instanceof pg.DatabaseError) return error;
    throw error;
  }
  throw new Error('expected the statement to fail, but it succeeded');
}
