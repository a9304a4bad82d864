/**
 * Reconciliation: does Postgres hold what Coda holds?
 *
 * It runs the load pipeline itself over the current Postgres contents, inside a savepoint that is
 * always rolled back, so it shares every line of conversion, link resolution and comparison with
 * the load: a row the pipeline would insert is missing from Postgres, one it would update
 * differs, one it would leave alone matches. Rows of the target table that no current Coda row
 * produced are extra. Business totals are taken from both sides of the same pass: the staged Coda
 * rows, and the target table as it was before the pass touched it.
 *
 * `erp reconcile` runs it on its own; a cutover runs it over what it has just loaded and commits
 * only when nothing is missing or differs.
 */
import pg from 'pg';
import type { Snapshot, SnapshotTable } from '../extract/index.ts';
import type { TableLoad } from './load-plan.ts';
import { loadTable, stageName, targetSql, type LoadContext, type TableLoadReport } from './load-table.ts';

const { escapeIdentifier: q } = pg;

/**
 * A figure the business owner knows from the Coda doc, on both sides. The Coda side adds up the
 * rows that would load; rejected rows are counted as rejected instead.
 */
export interface BusinessTotal {
  label: string;
  target: string;
  coda: string;
  postgres: string;
}

export interface TableReconciliation {
  target: string;
  codaTable: { id: string; name: string };
  /** Rows read from the Coda table. */
  codaRows: number;
  /** Rows in the target table before the comparison. */
  postgresRows: number;
  matched: number;
  rejected: number;
  missing: number;
  differ: number;
  /** Rows gone from Coda plus rows no Coda row produced. */
  extra: number;
  /** Optional links Coda has and Postgres cannot hold (the linked row is not loaded). */
  unresolved: number;
  /** Target rows that no Coda row of any run produced: added in Postgres by hand or by another tool. */
  notFromCoda: { targetId: string; label: string }[];
}

export interface Reconciliation {
  tables: TableReconciliation[];
  totals: BusinessTotal[];
}

export type TimedTableReport = TableLoadReport & { seconds: number };

/**
 * The totals, per target table. `sum` adds a column up (a count of rows without it); `groupBy`
 * splits the figure, so that amounts in different currencies are never added together.
 * A measure is taken only when its table is loaded and every column it reads is mapped.
 */
interface Measure {
  label: string;
  table: string;
  sum?: string;
  groupBy?: string;
}

const MEASURES: readonly Measure[] = [
  { label: 'Estimated hours of tasks', table: 'erp.tasks', sum: 'estimated_hours' },
  { label: 'Estimated hours of workflows', table: 'erp.workflows', sum: 'estimated_hours' },
  { label: 'Estimated hours of execution runs', table: 'erp.execution_runs', sum: 'estimated_hours' },
  { label: 'Offer list prices', table: 'erp.offers', sum: 'list_price', groupBy: 'currency' },
  { label: 'Engagement values', table: 'erp.engagements', sum: 'value_estimate' },
  { label: 'Tasks by status', table: 'erp.tasks', groupBy: 'status' },
];

/** Code-unit order: the same on every machine, unlike the database's or the locale's collation. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** 78.50 and 78.5 are the same number of hours: compare and show amounts without trailing zeros. */
function normaliseAmount(value: string): string {
  return /^-?\d+\.\d+$/.test(value) ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}

function measuresOf(load: TableLoad): Measure[] {
  return MEASURES.filter(
    (measure) =>
      measure.table === load.target.name &&
      [measure.sum, measure.groupBy].every((column) => column === undefined || load.columns.includes(column)),
  );
}

/** Measure label (with its group) -> value, read from one relation. */
async function takeMeasures(
  client: pg.ClientBase,
  relation: string,
  measures: Measure[],
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const measure of measures) {
    const key = measure.groupBy ? `coalesce(${q(measure.groupBy)}::text, '(empty)')` : `''`;
    const value = measure.sum ? `coalesce(sum(${q(measure.sum)}), 0)::text` : `count(*)::text`;
    const { rows } = await client.query<{ key: string; value: string }>(
      `SELECT ${key} AS key, ${value} AS value FROM ${relation} GROUP BY 1`,
    );
    for (const row of rows.sort((a, b) => compareCodeUnits(a.key, b.key))) {
      values.set(
        measure.groupBy ? `${measure.label}: ${row.key}` : measure.label,
        normaliseAmount(row.value),
      );
    }
  }
  return values;
}

/** Both sides of every measure; a group only one side has is 0 on the other. */
function pairTotals(
  target: string,
  coda: Map<string, string>,
  postgres: Map<string, string>,
  measures: Measure[],
): BusinessTotal[] {
  const labels = [...new Set([...coda.keys(), ...postgres.keys()])];
  const order = (label: string) =>
    measures.findIndex((measure) => label === measure.label || label.startsWith(`${measure.label}: `));
  labels.sort((a, b) => order(a) - order(b) || compareCodeUnits(a, b));
  return labels.map((label) => ({
    label,
    target,
    coda: coda.get(label) ?? '0',
    postgres: postgres.get(label) ?? '0',
  }));
}

async function notFromCoda(
  client: pg.ClientBase,
  load: TableLoad,
): Promise<TableReconciliation['notFromCoda']> {
  // The first mapped column is the one that names the row (name, title, full_name...).
  const { rows } = await client.query<{ target_id: string; label: string | null }>(
    `SELECT t.id::text AS target_id, to_jsonb(t) ->> $1 AS label FROM ${targetSql(load)} t
      WHERE NOT EXISTS (SELECT 1 FROM pipeline.coda_lineage l WHERE l.target_table = $2 AND l.target_id = t.id)
      ORDER BY t.id`,
    [load.columns[0], load.target.name],
  );
  return rows.map((row) => ({ targetId: row.target_id, label: row.label ?? '' }));
}

/**
 * Compares every load's Coda table with its target table, in load order (parents first, so a
 * child's links resolve as a load would resolve them). Runs inside the caller's transaction and
 * leaves it as it found it.
 */
export async function reconcileWithinTransaction(
  context: LoadContext,
  loads: TableLoad[],
  tablesById: Map<string, SnapshotTable>,
  source: Snapshot,
): Promise<{ reconciliation: Reconciliation; tables: TimedTableReport[] }> {
  const { client } = context;
  const reconciliation: Reconciliation = { tables: [], totals: [] };
  const tables: TimedTableReport[] = [];
  await client.query('SAVEPOINT reconcile');
  try {
    for (const load of loads) {
      const started = performance.now();
      const table = tablesById.get(load.mapping.spec.coda.table)!;
      const measures = measuresOf(load);
      const postgresRows = Number(
        (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${targetSql(load)}`)).rows[0]?.n ?? 0,
      );
      const postgresTotals = await takeMeasures(client, targetSql(load), measures);
      const unexplained = await notFromCoda(client, load);
      // A cutover's own load left this stage behind; the pass stages afresh.
      await client.query(`DROP TABLE IF EXISTS pg_temp.${q(stageName(load))}`);
      // Always rolled back to the savepoint: nothing of the pass is kept.
      const pass = await loadTable(
        { ...context, committing: false, skipUnchanged: false },
        load,
        table,
        source,
      );
      const codaTotals = await takeMeasures(client, `pg_temp.${q(stageName(load))}`, measures);
      tables.push({ ...pass, seconds: (performance.now() - started) / 1000 });
      reconciliation.tables.push({
        target: pass.target,
        codaTable: pass.codaTable,
        codaRows: pass.read,
        postgresRows,
        matched: pass.unchanged,
        rejected: pass.rejects.length,
        missing: pass.inserted.length,
        differ: pass.updated.length,
        extra: pass.goneFromCoda.length + unexplained.length,
        unresolved: pass.unresolved.length,
        notFromCoda: unexplained,
      });
      reconciliation.totals.push(...pairTotals(load.target.name, codaTotals, postgresTotals, measures));
    }
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT reconcile');
  }
  return { reconciliation, tables };
}

/** What keeps a cutover from committing: rows it loaded that still differ from Coda, in words. */
export function loadDifferences(reconciliation: Reconciliation): string | null {
  const differing = reconciliation.tables.filter((table) => table.missing + table.differ > 0);
  if (!differing.length) return null;
  return `reconciliation failed: ${differing.map((table) => `${table.target}: ${table.missing + table.differ} row(s) differ from Coda after loading`).join('; ')}`;
}

/** Everything that keeps Postgres from matching Coda, one sentence each; none when it matches. */
export function differences(reconciliation: Reconciliation): string[] {
  const found: string[] = [];
  for (const table of reconciliation.tables) {
    const parts = [
      [table.missing, 'missing from Postgres'],
      [table.differ, 'with fields that differ'],
      [table.extra, 'in Postgres but not in Coda'],
      [table.rejected, 'rejected'],
      [table.unresolved, 'with a link Postgres cannot hold'],
    ] as const;
    const counted = parts.filter(([count]) => count > 0).map(([count, what]) => `${count} row(s) ${what}`);
    if (counted.length) found.push(`${table.target}: ${counted.join(', ')}`);
  }
  for (const total of reconciliation.totals) {
    if (total.coda !== total.postgres)
      found.push(`${total.label}: ${total.coda} in Coda, ${total.postgres} in Postgres`);
  }
  return found;
}
