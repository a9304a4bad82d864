/**
 * `erp undo`: reverts one committed cutover from the row history (migration 007), in ONE
 * transaction. Rows the cutover inserted are deleted, rows it updated get their earlier values
 * back (updated_at included), its lineage rows are removed or restored, and the cutover is marked
 * undone. Agent data, and rows no run touched, are left alone.
 *
 * It refuses, naming the rows, when something since depends on the change: a later cutover, a
 * row edited in Postgres after the cutover, or a row anywhere (agent data, a row added by hand)
 * that points at a row the cutover inserted. `keepChanged` undoes everything else and keeps those
 * rows as they are now (with the rows they point at, and their lineage), so nothing made since
 * is lost. A dry run does all of it and rolls back.
 *
 * Pointing at a row means a foreign key to it, or an agent row naming it by kind and id.
 *
 * The undo is recorded as a run (mode undo) and writes its own row history, which marks what it
 * reverted: a later load compares rows with what the cutovers left that still stands
 * (pipeline.load_writes), so an edit made in Postgres that the undo brought back is still an edit.
 */
import pg from 'pg';
import type { LoadedMapping } from '../transform/mapping-spec.ts';
import { readPackageVersion } from '../shared/version.ts';
import { readTargetTable } from '../catalog/target-tables.ts';
import type { FieldChange } from './load-table.ts';
import { connect, LOAD_LOCK_KEY, LoadRefusedError, recordFinish, recordRowHistoryAs } from './run.ts';

const { escapeIdentifier: q } = pg;

export interface UndoOptions {
  databaseUrl: string;
  /** The cutover to undo; the last committed one that is not undone yet when absent. */
  runId?: string;
  dryRun: boolean;
  keepChanged: boolean;
  /** Only for the Coda names of the fields shown; without them fields go by column name. */
  mappings: LoadedMapping[];
}

/** A field as the undo shows it: its Coda name, and its two values. */
export interface UndoFieldChange extends FieldChange {
  label: string;
}

export interface UndoRow {
  table: string;
  name: string;
  browserLink: string | null;
}

export interface UndoBlocker extends UndoRow {
  /** edited: changed in Postgres after the cutover; depended: other rows point at it. */
  reason: 'edited' | 'depended';
  /** For depended: which rows point at it, e.g. "2 row(s) of agent.sessions". */
  dependants: string[];
  /** For edited: each field as the cutover left it and as it is now. */
  changes: UndoFieldChange[];
}

export interface UndoTable {
  target: string;
  removed: UndoRow[];
  restored: (UndoRow & { changes: UndoFieldChange[] })[];
}

export interface UndoReport {
  runId: string;
  mode: 'undo';
  undoneRun: { id: string; startedAt: string; source: string };
  doc: { id: string };
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  outcome: 'undone' | 'planned' | 'rolled_back';
  outcomeNote: string | null;
  tables: UndoTable[];
  /** Rows that stop the undo, or with keepChanged, that it keeps as they are. */
  blockers: UndoBlocker[];
  kept: boolean;
}

/** Columns that say when a row changed, not what it holds: left out of the fields shown. */
const TIMESTAMP_COLUMNS = new Set(['created_at', 'updated_at']);
const UNDO_ROWS = 'undo_rows';

interface CutoverRun {
  id: string;
  coda_doc_id: string;
  source: string;
  started_at: Date;
  mode: string;
  outcome: string;
  undone_by_run_id: string | null;
}

async function findCutover(client: pg.ClientBase, runId: string | undefined): Promise<CutoverRun> {
  const { rows } = await client.query<CutoverRun>(
    runId
      ? `SELECT id, coda_doc_id, source, started_at, mode, outcome, undone_by_run_id FROM pipeline.runs WHERE id = $1`
      : `SELECT id, coda_doc_id, source, started_at, mode, outcome, undone_by_run_id FROM pipeline.runs
          WHERE mode = 'cutover' AND outcome = 'committed' AND undone_by_run_id IS NULL ORDER BY id DESC LIMIT 1`,
    runId ? [runId] : [],
  );
  const run = rows[0];
  if (!run) throw new LoadRefusedError(runId ? `there is no run ${runId}` : 'no committed cutover to undo');
  if (run.mode !== 'cutover' || run.outcome !== 'committed')
    throw new LoadRefusedError(
      `run ${run.id} is a ${run.mode} that ended ${run.outcome.replace('_', ' ')}; only a committed cutover can be undone`,
    );
  if (run.undone_by_run_id)
    throw new LoadRefusedError(`cutover ${run.id} was already undone (by run ${run.undone_by_run_id})`);
  const later = await client.query<{ id: string }>(
    `SELECT id FROM pipeline.runs WHERE mode = 'cutover' AND outcome = 'committed' AND undone_by_run_id IS NULL AND id > $1 ORDER BY id`,
    [run.id],
  );
  if (later.rowCount)
    throw new LoadRefusedError(
      `cutover ${run.id} was followed by cutover ${later.rows.map((row) => row.id).join(', ')}, which may have changed the same rows; undo ${later.rowCount > 1 ? 'those' : 'that one'} first (\`erp undo\` undoes the latest)`,
    );
  const history = await client.query(`SELECT FROM pipeline.row_changes WHERE run_id = $1 LIMIT 1`, [run.id]);
  const counts = await client.query<{ changed: boolean }>(
    `SELECT EXISTS (SELECT FROM jsonb_each(counts) t(k, v) WHERE (v ->> 'inserted')::int + (v ->> 'updated')::int > 0) AS changed FROM pipeline.runs WHERE id = $1`,
    [run.id],
  );
  if (!history.rowCount && counts.rows[0]?.changed)
    throw new LoadRefusedError(
      `cutover ${run.id} ran before row history was kept (migration 007), so it cannot be undone row by row; restore the backup it took instead (docs/RUNBOOK.md, "Backup and restore")`,
    );
  return run;
}

/**
 * One line per row the cutover changed, in UNDO_ROWS: its first image before the run and its last
 * image after, what it is now, whether it was edited since, and its name and Coda link.
 */
async function collectChanges(client: pg.ClientBase, cutoverId: string): Promise<string[]> {
  await client.query(
    `CREATE TEMP TABLE ${UNDO_ROWS} ON COMMIT DROP AS
     SELECT f.target_table, f.target_id, f.row_key, f.operation = 'insert' AS inserted, f.id AS first_change,
            f.before, l.after, NULL::jsonb AS current, false AS edited, false AS kept,
            '{}'::text[] AS dependants
       FROM (SELECT DISTINCT ON (target_table, row_key) * FROM pipeline.row_changes WHERE run_id = $1 ORDER BY target_table, row_key, id) f
       JOIN (SELECT DISTINCT ON (target_table, row_key) * FROM pipeline.row_changes WHERE run_id = $1 ORDER BY target_table, row_key, id DESC) l
      USING (target_table, row_key)
      WHERE NOT (f.operation = 'insert' AND l.after IS NULL)`,
    [cutoverId],
  );
  await client.query(`CREATE INDEX ON ${UNDO_ROWS} (target_table, target_id)`);
  await client.query(`ANALYZE ${UNDO_ROWS}`);
  const { rows } = await client.query<{ target_table: string }>(
    `SELECT DISTINCT target_table FROM ${UNDO_ROWS} WHERE target_table LIKE 'erp.%' ORDER BY 1`,
  );
  const tables = rows.map((row) => row.target_table);
  for (const table of tables) {
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET current = to_jsonb(t) FROM ${qualified(table)} t WHERE u.target_table = $1 AND t.id = u.target_id`,
      [table],
    );
  }
  // Deleted since, or changed since: either way not as the cutover left it.
  await client.query(
    `UPDATE ${UNDO_ROWS} SET edited = true WHERE target_table LIKE 'erp.%' AND current IS DISTINCT FROM after`,
  );
  return tables;
}

function qualified(table: string): string {
  const [schema = '', name = ''] = table.split('.');
  return `${q(schema)}.${q(name)}`;
}

/** Every single-column foreign key in the database that points at one of `tables`. */
async function foreignKeysInto(client: pg.ClientBase, tables: string[]) {
  const { rows } = await client.query<{ referencing: string; column: string; referenced: string }>(
    `SELECT n.nspname || '.' || c.relname AS referencing, a.attname AS column, rn.nspname || '.' || rc.relname AS referenced
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 AND rn.nspname || '.' || rc.relname = ANY ($1)
      ORDER BY 1, 2`,
    [tables],
  );
  return rows;
}

/** Rows the cutover inserted that rows it did not write now point at (agent data, rows added by hand). */
async function markDependedOn(client: pg.ClientBase, tables: string[]): Promise<void> {
  for (const key of await foreignKeysInto(client, tables)) {
    const referencingId = key.referencing.startsWith('erp.') ? 'r.id' : 'NULL::bigint';
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET dependants = u.dependants || d.line
         FROM (SELECT r.${q(key.column)} AS target_id, count(*) || ' row(s) of ' || $2 AS line
                 FROM ${qualified(key.referencing)} r
                WHERE r.${q(key.column)} IN (SELECT target_id FROM ${UNDO_ROWS} WHERE inserted AND target_table = $1)
                  AND NOT EXISTS (SELECT FROM ${UNDO_ROWS} w WHERE w.target_table = $2 AND w.target_id = ${referencingId})
                GROUP BY 1) d
        WHERE u.inserted AND u.target_table = $1 AND u.target_id = d.target_id`,
      [key.referenced, key.referencing],
    );
  }
}

/**
 * Agent rows name erp rows without a foreign key too: a kind (subject_type 'project', node_type,
 * focal_entity_type ...) and, in the matching *_id text column, the row's id, its global_id or
 * 'erp.projects:42'. Every such pair in the agent schema counts as pointing at the row.
 */
async function markNamedByAgents(client: pg.ClientBase): Promise<void> {
  const { rows: pairs } = await client.query<{ table: string; kind: string; key: string }>(
    `SELECT k.table_schema || '.' || k.table_name AS table, k.column_name AS kind, i.column_name AS key
       FROM information_schema.columns k
       JOIN information_schema.columns i ON i.table_schema = k.table_schema AND i.table_name = k.table_name
        AND i.column_name = left(k.column_name, -length('_type')) || '_id' AND i.data_type = 'text'
      WHERE k.table_schema = 'agent' AND right(k.column_name, length('_type')) = '_type' AND k.data_type = 'text'
      ORDER BY 1, 2`,
  );
  if (!pairs.length) return;
  await client.query(
    `CREATE TEMP TABLE undo_entity_keys ON COMMIT DROP AS
     SELECT CASE u.target_table WHEN 'erp.people' THEN 'person' ELSE left(substr(u.target_table, length('erp.') + 1), -1) END AS kind,
            k.key, u.target_table, u.target_id
       FROM ${UNDO_ROWS} u,
            unnest(ARRAY[u.target_id::text, u.after ->> 'global_id', u.target_table || ':' || u.target_id]) AS k(key)
      WHERE u.inserted AND u.target_table LIKE 'erp.%' AND k.key IS NOT NULL`,
  );
  for (const pair of pairs) {
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET dependants = u.dependants || d.line
         FROM (SELECT e.target_table, e.target_id, count(*) || ' row(s) of ' || $1 AS line
                 FROM ${qualified(pair.table)} r JOIN undo_entity_keys e ON e.kind = r.${q(pair.kind)} AND e.key = r.${q(pair.key)}
                GROUP BY 1, 2) d
        WHERE u.target_table = d.target_table AND u.target_id = d.target_id`,
      [pair.table],
    );
  }
}

/**
 * The rows kept as they are: the edited and depended-on ones, and every row the cutover inserted
 * that a kept row points at (else deleting it would break or empty the kept row's link).
 */
async function markKept(client: pg.ClientBase, tables: string[]): Promise<void> {
  await client.query(`UPDATE ${UNDO_ROWS} SET kept = true WHERE edited OR cardinality(dependants) > 0`);
  const keys = (await foreignKeysInto(client, tables)).filter((key) => tables.includes(key.referencing));
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of keys) {
      const marked = await client.query(
        `UPDATE ${UNDO_ROWS} u SET kept = true
          WHERE u.inserted AND NOT u.kept AND u.target_table = $1
            AND u.target_id IN (SELECT (k.current ->> $3)::bigint FROM ${UNDO_ROWS} k WHERE k.kept AND k.target_table = $2)`,
        [key.referenced, key.referencing, key.column],
      );
      if (marked.rowCount) changed = true;
    }
  }
  // A kept row keeps its lineage too, so the next cutover updates it instead of adding a copy.
  await client.query(
    `UPDATE ${UNDO_ROWS} l SET kept = true FROM ${UNDO_ROWS} k
      WHERE l.target_table = 'pipeline.coda_lineage' AND k.kept
        AND k.target_table = coalesce(l.after, l.before) ->> 'target_table' AND k.target_id = (coalesce(l.after, l.before) ->> 'target_id')::bigint`,
  );
}

interface DescribedRow {
  target_table: string;
  name: string | null;
  browser_link: string | null;
  inserted: boolean;
  edited: boolean;
  kept: boolean;
  dependants: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  current: Record<string, unknown> | null;
}

async function describeRows(client: pg.ClientBase): Promise<DescribedRow[]> {
  const { rows } = await client.query<DescribedRow>(
    `SELECT u.target_table, u.inserted, u.edited, u.kept, u.dependants, u.before, u.after, u.current,
            (SELECT coalesce(i ->> 'name', i ->> 'title', i ->> 'full_name', i ->> 'objective')
               FROM (SELECT coalesce(u.current, u.after) AS i) image) AS name,
            (SELECT coalesce(l.after, l.before) ->> 'browser_link' FROM ${UNDO_ROWS} l
              WHERE l.target_table = 'pipeline.coda_lineage'
                AND coalesce(l.after, l.before) ->> 'target_table' = u.target_table
                AND (coalesce(l.after, l.before) ->> 'target_id')::bigint = u.target_id LIMIT 1) AS browser_link
       FROM ${UNDO_ROWS} u WHERE u.target_table LIKE 'erp.%'
      ORDER BY u.target_table, u.first_change`,
  );
  return rows;
}

type Labels = (table: string, column: string) => string;

function codaLabels(mappings: LoadedMapping[]): Labels {
  return (table, column) => {
    const spec = mappings.find((mapping) => mapping.spec.target === table)?.spec.columns[column];
    return spec && spec.as !== 'constant' && spec.label ? spec.label : column;
  };
}

function fieldChanges(
  table: string,
  from: Record<string, unknown> | null,
  to: Record<string, unknown> | null,
  labelOf: Labels,
): UndoFieldChange[] {
  const columns = [...new Set([...Object.keys(from ?? {}), ...Object.keys(to ?? {})])];
  return columns
    .filter(
      (column) =>
        !TIMESTAMP_COLUMNS.has(column) && JSON.stringify(from?.[column]) !== JSON.stringify(to?.[column]),
    )
    .map((column) => ({
      column,
      label: labelOf(table, column),
      before: from?.[column] ?? null,
      after: to?.[column] ?? null,
    }));
}

/** Triggers that stamp updated_at: off while rows get their earlier values back, updated_at included. */
async function setTimestampTriggers(
  client: pg.ClientBase,
  tables: string[],
  enabled: boolean,
): Promise<void> {
  const { rows } = await client.query<{ table: string; trigger: string }>(
    `SELECT n.nspname || '.' || c.relname AS table, t.tgname AS trigger
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgfoid = 'erp.update_updated_at_column'::regproc AND n.nspname || '.' || c.relname = ANY ($1)`,
    [tables],
  );
  for (const row of rows)
    await client.query(
      `ALTER TABLE ${qualified(row.table)} ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER ${q(row.trigger)}`,
    );
}

async function revert(client: pg.ClientBase, tables: string[]): Promise<void> {
  await setTimestampTriggers(client, tables, false);
  // Earlier values first: they cannot point at rows the cutover inserted, which go next.
  for (const table of tables) {
    const target = (await readTargetTable(client, table))!;
    const columns = [...target.columns.values()]
      .filter((column) => !column.generated)
      .map((column) => q(column.name));
    await client.query(
      `UPDATE ${qualified(table)} t SET (${columns.join(', ')}) = ROW(${columns.map((column) => `r.${column}`).join(', ')})
         FROM ${UNDO_ROWS} u, jsonb_populate_record(NULL::${qualified(table)}, u.before) r
        WHERE u.target_table = $1 AND NOT u.inserted AND NOT u.kept AND t.id = u.target_id`,
      [table],
    );
  }
  // Children before parents: the reverse of the order the cutover inserted them in.
  const { rows } = await client.query<{ target_table: string }>(
    `SELECT target_table FROM ${UNDO_ROWS} WHERE inserted AND target_table LIKE 'erp.%' GROUP BY 1 ORDER BY max(first_change) DESC`,
  );
  for (const { target_table: table } of rows) {
    await client.query(
      `DELETE FROM ${qualified(table)} t USING ${UNDO_ROWS} u WHERE u.target_table = $1 AND u.inserted AND NOT u.kept AND t.id = u.target_id`,
      [table],
    );
  }
  await setTimestampTriggers(client, tables, true);
  const lineageKey = `l.coda_doc_id = u.row_key ->> 'coda_doc_id' AND l.coda_table_id = u.row_key ->> 'coda_table_id' AND l.coda_row_id = u.row_key ->> 'coda_row_id'`;
  await client.query(
    `DELETE FROM pipeline.coda_lineage l USING ${UNDO_ROWS} u
      WHERE u.target_table = 'pipeline.coda_lineage' AND u.inserted AND NOT u.kept AND ${lineageKey}`,
  );
  const lineage = (await readTargetTable(client, 'pipeline.coda_lineage'))!;
  const lineageColumns = [...lineage.columns.keys()].map(q);
  await client.query(
    `UPDATE pipeline.coda_lineage l SET (${lineageColumns.join(', ')}) = ROW(${lineageColumns.map((column) => `r.${column}`).join(', ')})
       FROM ${UNDO_ROWS} u, jsonb_populate_record(NULL::pipeline.coda_lineage, u.before) r
      WHERE u.target_table = 'pipeline.coda_lineage' AND NOT u.inserted AND NOT u.kept AND ${lineageKey}`,
  );
}

function summarise(
  described: DescribedRow[],
  labelOf: Labels,
): { tables: UndoTable[]; blockers: UndoBlocker[] } {
  const byTable = new Map<string, UndoTable>();
  const blockers: UndoBlocker[] = [];
  for (const row of described) {
    const table = byTable.get(row.target_table) ?? { target: row.target_table, removed: [], restored: [] };
    byTable.set(row.target_table, table);
    const shown: UndoRow = { table: row.target_table, name: row.name ?? '', browserLink: row.browser_link };
    if (row.edited || row.dependants.length) {
      blockers.push({
        ...shown,
        reason: row.edited ? 'edited' : 'depended',
        dependants: row.dependants,
        changes: row.edited ? fieldChanges(row.target_table, row.after, row.current, labelOf) : [],
      });
    }
    if (row.kept) continue;
    if (row.inserted) table.removed.push(shown);
    else
      table.restored.push({
        ...shown,
        changes: fieldChanges(row.target_table, row.current, row.before, labelOf),
      });
  }
  return { tables: [...byTable.values()], blockers };
}

function countsOf(tables: UndoTable[]) {
  return Object.fromEntries(
    tables.map((table) => [table.target, { removed: table.removed.length, restored: table.restored.length }]),
  );
}

export async function runUndo(options: UndoOptions): Promise<UndoReport> {
  const startedAt = new Date().toISOString();
  const bookkeeping = await connect(options.databaseUrl, 'bookkeeping');
  const client = await connect(options.databaseUrl, 'undo');
  let runId: string | undefined;
  try {
    const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      LOAD_LOCK_KEY,
    ]);
    if (!locked.rows[0]?.locked)
      throw new LoadRefusedError('a plan, cutover or undo is running; wait for it to finish, then try again');
    const cutover = await findCutover(client, options.runId);
    const inserted = await bookkeeping.query<{ id: string }>(
      `INSERT INTO pipeline.runs (mode, coda_doc_id, source, tool_version) VALUES ('undo', $1, $2, $3) RETURNING id`,
      [cutover.coda_doc_id, `cutover ${cutover.id}`, readPackageVersion()],
    );
    runId = inserted.rows[0]!.id;

    await client.query('BEGIN');
    let report: UndoReport;
    try {
      await recordRowHistoryAs(client, runId);
      const tables = await collectChanges(client, cutover.id);
      await markDependedOn(client, tables);
      await markNamedByAgents(client);
      if (options.keepChanged) await markKept(client, tables);
      const summary = summarise(await describeRows(client), codaLabels(options.mappings));
      const refused = summary.blockers.length > 0 && !options.keepChanged;
      if (!refused) {
        await revert(client, tables);
        await client.query(`UPDATE pipeline.runs SET undone_by_run_id = $2 WHERE id = $1`, [
          cutover.id,
          runId,
        ]);
      }
      const commit = !refused && !options.dryRun;
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      report = {
        runId,
        mode: 'undo',
        undoneRun: { id: cutover.id, startedAt: cutover.started_at.toISOString(), source: cutover.source },
        doc: { id: cutover.coda_doc_id },
        dryRun: options.dryRun,
        startedAt,
        finishedAt: new Date().toISOString(),
        outcome: refused ? 'rolled_back' : commit ? 'undone' : 'planned',
        outcomeNote: refused
          ? `${summary.blockers.length} row(s) changed in Postgres or depended on since cutover ${cutover.id}; nothing was undone. Run again with --keep-changed to undo the rest and keep those rows as they are now`
          : null,
        tables: summary.tables,
        blockers: summary.blockers,
        kept: options.keepChanged && summary.blockers.length > 0,
      };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    await recordFinish(bookkeeping, runId, report.outcome, report.outcomeNote, countsOf(report.tables));
    return report;
  } catch (error) {
    if (runId) await recordFinish(bookkeeping, runId, 'failed', (error as Error).message, {}).catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
  }
}
