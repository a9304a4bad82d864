/**
 * Reconciliation: does Postgres hold what Coda holds?
 *
 * It runs the load pipeline itself over the current Postgres contents, inside a savepoint that is
 * always rolled back, so it shares every line of conversion, link resolution and comparison with
 * the load: a row the pipeline would insert is missing from Postgres, one it would update
 * differs, one it would leave alone matches. Rows of the target table that no current Coda row
 * produced are extra.
 *
 * Business totals are Coda's own: every number Coda shows in the column counts, whatever the load
 * does with its row (a rejected −2 is −2 on the Coda side), read by the code that reads it for
 * the load; text in a number column (`3,5`) is a number on neither side and is listed as such.
 * A total bridges from Coda to Postgres the way an accountant walks it: Coda, minus each rejected
 * row's share, minus the numbers the load could not take, plus the rows Postgres holds that this
 * read did not load, equals Postgres plus what is unexplained.
 *
 * `erp reconcile` runs it on its own; a cutover runs it over what it has just loaded. Both sort
 * what they find with `classifyDifferences`, so they give one verdict. This module returns data;
 * src/report words it.
 */
import { compareCodeUnits } from '../shared/compare.ts';
import pg from 'pg';
import type { Snapshot, SnapshotTable } from '../extract/index.ts';
import { addDecimals, subtractDecimals } from '../shared/decimal.ts';
import { visible } from '../shared/visible.ts';
import { numberInCell, type Reject } from '../transform/transform.ts';
import type { TableLoad } from './load-plan.ts';
import {
  freshLineageStatistics,
  loadTable,
  stageName,
  targetSql,
  type LoadContext,
  type RowSummary,
  type TableLoadReport,
} from './load-table.ts';
import { appendAll } from '../shared/append.ts';
import { textDefault } from '../catalog/target-tables.ts';
import { keptOf, type Conflict } from './conflicts.ts';
import { leftBehindKey, type LeftBehind } from '../transform/coverage.ts';

const { escapeIdentifier: q } = pg;

/** A rejected row's part of a Coda total. */
interface RejectedShare extends RowSummary {
  share: string;
  reasons: string[];
}

/** A rejected row whose own cell for the total did not convert, though it holds a number (an amount in another currency). */
interface UnconvertedShare extends RowSummary {
  value: unknown;
  share: string;
  reasons: string[];
}

/** A cell of a number column that holds text: a number on neither side. */
interface TextCell extends RowSummary {
  value: unknown;
  reasons: string[];
}

/** One figure of a bridge, in the total's unit, and how many rows are behind it. */
export interface BridgeFigure {
  amount: string;
  rows: number;
}

/**
 * A figure the business owner knows from the Coda doc, on both sides, with the bridge between:
 * coda − rejected − notConverted + extra = postgres + unexplained.
 */
export interface BusinessTotal {
  label: string;
  target: string;
  /** The group in Coda's words (a status label, a currency, a project's name); null when the figure is not split. */
  group: string | null;
  /** `rows` when the total counts rows; `sum` when it adds a column up (hours, money). */
  unit: 'rows' | 'sum';
  /** Every number Coda shows: loaded rows, and rejected rows with their share. */
  coda: BridgeFigure;
  rejected: BridgeFigure & { shares: RejectedShare[] };
  /** Numbers Coda shows that the load could not take as they are. */
  notConverted: BridgeFigure & { shares: UnconvertedShare[] };
  /** What rows in Postgres that this read did not load add (kept from earlier loads, gone from Coda, added by hand). */
  extra: BridgeFigure;
  postgres: BridgeFigure;
  /** Coda's figure walked to Postgres, minus Postgres's own: not zero is a difference. */
  unexplained: string;
  /** Text in the summed column: counted on neither side, listed. */
  notANumber: TextCell[];
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
  /** Target rows that no Coda row of this doc produced: from another doc, added by hand or by another tool. */
  notFromCoda: { targetId: string; label: string }[];
}

/** A difference a committed cutover accepted: reconcile lists it as accepted, with that run. */
interface AcceptedDifference {
  runId: string;
  target: string;
  rowKey: string;
  kind: AcceptableKind;
}

export interface Reconciliation {
  tables: TableReconciliation[];
  totals: BusinessTotal[];
  /** Every difference of this doc accepted by a committed cutover so far. */
  accepted: AcceptedDifference[];
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
  /** For a link: the linked table's column that names its rows. */
  groupName?: { table: string; column: string };
  /** Only the largest groups (by Coda's figure) are shown, and any group that does not agree. */
  largest?: number;
  /**
   * When the mapping does not fill `groupBy`, every Coda row falls in one group: the sum column's
   * own code (`currency: EUR` on an amount) or else the target column's default.
   */
  groupWhenUnmapped?: true;
}

const MEASURES: readonly Measure[] = [
  { label: 'Projects by status', table: 'erp.projects', groupBy: 'status' },
  { label: 'Tasks by status', table: 'erp.tasks', groupBy: 'status' },
  { label: 'Estimated hours of tasks', table: 'erp.tasks', sum: 'estimated_hours' },
  { label: 'Actual hours of tasks', table: 'erp.tasks', sum: 'actual_hours' },
  {
    label: 'Tasks per project (largest projects)',
    table: 'erp.tasks',
    groupBy: 'project_id',
    groupName: { table: 'erp.projects', column: 'name' },
    largest: 10,
  },
  { label: 'Estimated hours of workflows', table: 'erp.workflows', sum: 'estimated_hours' },
  { label: 'Estimated hours of execution runs', table: 'erp.execution_runs', sum: 'estimated_hours' },
  { label: 'Actual hours of execution runs', table: 'erp.execution_runs', sum: 'actual_hours' },
  {
    label: 'Offer list prices',
    table: 'erp.offers',
    sum: 'list_price',
    groupBy: 'currency',
    groupWhenUnmapped: true,
  },
  { label: 'Engagement values', table: 'erp.engagements', sum: 'value_estimate' },
];

/** How an empty group is shown. */
const EMPTY_GROUP = '(empty)';

function measuresOf(load: TableLoad): Measure[] {
  const mapped = (column: string | undefined) => column === undefined || load.columns.includes(column);
  return MEASURES.filter(
    (measure) =>
      measure.table === load.target.name &&
      mapped(measure.sum) &&
      (mapped(measure.groupBy) || (measure.groupWhenUnmapped && unmappedGroup(load, measure) !== null)),
  );
}

/** The one group of every Coda row when the mapping does not fill the measure's group column. */
function unmappedGroup(load: TableLoad, measure: Measure): string | null {
  if (!measure.groupBy || load.columns.includes(measure.groupBy)) return null;
  const sum = measure.sum ? load.mapping.spec.columns[measure.sum] : undefined;
  const own = sum?.as === 'currency' ? sum.currency : undefined;
  const column = load.target.columns.get(measure.groupBy);
  return own ?? (column ? textDefault(column) : null);
}

/** Group key -> figure. */
type Figures = Map<string, BridgeFigure>;

const NO_FIGURE: BridgeFigure = { amount: '0', rows: 0 };

function addTo(figures: Figures, key: string, { amount, rows }: BridgeFigure): void {
  const sum = figures.get(key) ?? NO_FIGURE;
  figures.set(key, { amount: addDecimals(sum.amount, amount), rows: sum.rows + rows });
}

/** A select's codes in Coda's words: the mapping's value map read backwards. */
function codaLabels(load: TableLoad, column: string): Map<string, string> {
  const spec = load.mapping.spec.columns[column];
  const labels = new Map<string, string[]>();
  if (spec?.as === 'select')
    for (const [label, code] of Object.entries(spec.values))
      labels.set(code, [...(labels.get(code) ?? []), label]);
  return new Map([...labels].map(([code, names]) => [code, names.join(' / ')]));
}

/** One measure over one relation (the target, a copy of it, or the stage), by group in Coda's words. */
async function takeMeasure(
  client: pg.ClientBase,
  load: TableLoad,
  measure: Measure,
  relation: string,
  { where = 'true', codaSide = false } = {},
): Promise<Figures> {
  const name = measure.groupName;
  const [schema = '', table = ''] = name?.table.split('.') ?? [];
  const fixedGroup = codaSide ? unmappedGroup(load, measure) : null;
  const key = !measure.groupBy
    ? `''`
    : fixedGroup !== null
      ? pg.escapeLiteral(fixedGroup)
      : name
        ? `coalesce(g.${q(name.column)}::text, '')`
        : `coalesce(r.${q(measure.groupBy)}::text, '')`;
  const join =
    name && measure.groupBy ? `LEFT JOIN ${q(schema)}.${q(table)} g ON g.id = r.${q(measure.groupBy)}` : '';
  // The rows behind a sum are those with a number in the column.
  const [value, counted] = measure.sum
    ? [`coalesce(sum(r.${q(measure.sum)}), 0)::text`, `count(r.${q(measure.sum)})::int`]
    : ['count(*)::text', 'count(*)::int'];
  const { rows } = await client.query<{ key: string; value: string; rows: number }>(
    `SELECT ${key} AS key, ${value} AS value, ${counted} AS rows FROM ${relation} r ${join} WHERE ${where} GROUP BY 1`,
  );
  const labels = measure.groupBy ? codaLabels(load, measure.groupBy) : new Map<string, string>();
  const figures: Figures = new Map();
  for (const row of rows)
    addTo(figures, row.key === '' ? (measure.groupBy ? EMPTY_GROUP : '') : (labels.get(row.key) ?? row.key), {
      amount: row.value,
      rows: row.rows,
    });
  return figures;
}

function listIn<T>(lists: Map<string, T[]>, key: string): T[] {
  const list = lists.get(key) ?? [];
  lists.set(key, list);
  return list;
}

function cellOf(reject: Reject, column: string) {
  const problem = reject.problems.find((candidate) => candidate.column === column);
  return problem
    ? { converted: false as const, raw: problem.value }
    : { converted: true as const, value: reject.values?.[column] ?? null };
}

/**
 * What a rejected row adds to Coda's side of a sum: the number its cell converted to (even when
 * a rule then refused it), or the number the load's own reading finds in a cell it could not
 * take; text in the cell is no number. Nothing when the cell is empty.
 */
function rejectedNumber(
  load: TableLoad,
  column: string,
  reject: Reject,
):
  | { kind: 'converted'; share: string }
  | { kind: 'notConverted'; share: string; value: unknown }
  | { kind: 'text'; value: unknown }
  | null {
  const converted = reject.values?.[column];
  if (typeof converted === 'string') return { kind: 'converted', share: converted };
  const cell = cellOf(reject, column);
  const spec = load.mapping.spec.columns[column];
  if (cell.converted || !spec) return null;
  const number = numberInCell(spec, cell.raw);
  if (!number.ok) return { kind: 'text', value: cell.raw };
  return number.value === null ? null : { kind: 'notConverted', share: number.value, value: cell.raw };
}

/** A rejected row's group: the link's name, the select's Coda label, or the raw Coda value when it did not convert. */
function rejectGroup(measure: Measure, labels: Map<string, string>, reject: Reject): string {
  if (!measure.groupBy) return '';
  if (measure.groupName) return reject.links?.[measure.groupBy] || EMPTY_GROUP;
  const cell = cellOf(reject, measure.groupBy);
  const text = cell.converted ? cell.value : cell.raw;
  if (text === null || text === undefined || text === '') return EMPTY_GROUP;
  const shown = typeof text === 'string' ? text : JSON.stringify(text);
  return cell.converted ? (labels.get(shown) ?? shown) : shown;
}

/**
 * One measure of one table, bridged: Coda's figure (loaded rows from the stage, rejected rows
 * from their rejects), Postgres's (from the copy taken before the pass), the share of Postgres
 * rows the pass did not load, and the remainder.
 */
async function bridgeMeasure(
  client: pg.ClientBase,
  load: TableLoad,
  measure: Measure,
  before: string,
  rejects: Reject[],
): Promise<BusinessTotal[]> {
  const stage = `pg_temp.${q(stageName(load))}`;
  const loaded = await takeMeasure(client, load, measure, stage, { codaSide: true });
  const postgres = await takeMeasure(client, load, measure, before);
  const extra = await takeMeasure(client, load, measure, before, {
    where: `NOT EXISTS (SELECT FROM ${stage} s WHERE s._target_id = r.id)`,
  });
  const rejected = new Map<string, RejectedShare[]>();
  const notConverted = new Map<string, UnconvertedShare[]>();
  const textCells = new Map<string, TextCell[]>();
  const labels = measure.groupBy ? codaLabels(load, measure.groupBy) : new Map<string, string>();
  for (const reject of rejects) {
    const group = unmappedGroup(load, measure) ?? rejectGroup(measure, labels, reject);
    const row = {
      rowId: reject.source.rowId,
      rowName: reject.source.rowName,
      browserLink: reject.source.browserLink,
    };
    const reasons = reject.problems.map((problem) => problem.reason);
    const number = measure.sum
      ? rejectedNumber(load, measure.sum, reject)
      : { kind: 'converted' as const, share: '1' };
    if (number?.kind === 'converted') listIn(rejected, group).push({ ...row, share: number.share, reasons });
    else if (number?.kind === 'notConverted')
      listIn(notConverted, group).push({ ...row, value: number.value, share: number.share, reasons });
    else if (number?.kind === 'text') listIn(textCells, group).push({ ...row, value: number.value, reasons });
  }
  const groups = new Set([
    ...loaded.keys(),
    ...postgres.keys(),
    ...rejected.keys(),
    ...notConverted.keys(),
    ...textCells.keys(),
  ]);
  if (!groups.size) groups.add(measure.groupBy ? EMPTY_GROUP : '');
  const figureOf = (shares: { share: string }[]): BridgeFigure => ({
    amount: shares.map((item) => item.share).reduce(addDecimals, '0'),
    rows: shares.length,
  });
  const totals = [...groups].map((group): BusinessTotal => {
    const rejectedHere = { ...figureOf(rejected.get(group) ?? []), shares: rejected.get(group) ?? [] };
    const unconvertedHere = {
      ...figureOf(notConverted.get(group) ?? []),
      shares: notConverted.get(group) ?? [],
    };
    const loadedHere = loaded.get(group) ?? NO_FIGURE;
    const extraHere = extra.get(group) ?? NO_FIGURE;
    const postgresHere = postgres.get(group) ?? NO_FIGURE;
    return {
      label: measure.label,
      target: load.target.name,
      group: measure.groupBy ? group : null,
      unit: measure.sum ? 'sum' : 'rows',
      coda: {
        amount: addDecimals(addDecimals(loadedHere.amount, rejectedHere.amount), unconvertedHere.amount),
        rows: loadedHere.rows + rejectedHere.rows + unconvertedHere.rows,
      },
      rejected: rejectedHere,
      notConverted: unconvertedHere,
      extra: extraHere,
      postgres: postgresHere,
      // Coda − rejected − not converted is what was loaded.
      unexplained: subtractDecimals(addDecimals(loadedHere.amount, extraHere.amount), postgresHere.amount),
      notANumber: textCells.get(group) ?? [],
    };
  });
  const size = (total: BusinessTotal) => Number(total.coda.amount);
  totals.sort((a, b) =>
    measure.largest
      ? size(b) - size(a) || compareCodeUnits(a.group ?? '', b.group ?? '')
      : compareCodeUnits(a.group ?? '', b.group ?? ''),
  );
  return measure.largest
    ? totals.filter((total, index) => index < measure.largest! || total.unexplained !== '0')
    : totals;
}

async function notFromCoda(
  client: pg.ClientBase,
  load: TableLoad,
  docId: string,
): Promise<TableReconciliation['notFromCoda']> {
  // The first mapped column is the one that names the row (name, title, full_name...).
  const { rows } = await client.query<{ target_id: string; label: string | null }>(
    `SELECT t.id::text AS target_id, to_jsonb(t) ->> $1 AS label FROM ${targetSql(load)} t
      WHERE NOT EXISTS (SELECT 1 FROM pipeline.coda_lineage l
                         WHERE l.target_table = $2 AND l.target_id = t.id AND l.coda_doc_id = $3)
      ORDER BY t.id`,
    [load.columns[0], load.target.name, docId],
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
  const reconciliation: Reconciliation = {
    tables: [],
    totals: [],
    accepted: await readAcceptedDifferences(client, context.docId),
  };
  const tables: TimedTableReport[] = [];
  // The pass sees the rows rejected in the pass, parents first, as a load does.
  const passContext: LoadContext = {
    ...context,
    committing: false,
    skipUnchanged: false,
    keepStagedValues: true,
    lineageStatistics: freshLineageStatistics(),
    rejectedRows: new Map(),
  };
  const before = q('reconcile_before');
  await client.query('SAVEPOINT reconcile');
  try {
    for (const load of loads) {
      const started = performance.now();
      const table = tablesById.get(load.mapping.spec.coda.table)!;
      // Postgres as it was before the pass touched it.
      await client.query(`CREATE TEMP TABLE ${before} AS SELECT * FROM ${targetSql(load)}`);
      const postgresRows = Number(
        (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${before}`)).rows[0]?.n ?? 0,
      );
      const unexplained = await notFromCoda(client, load, context.docId);
      // A cutover's own load left this stage behind; the pass stages afresh.
      await client.query(`DROP TABLE IF EXISTS pg_temp.${q(stageName(load))}`);
      // Always rolled back to the savepoint: nothing of the pass is kept.
      const pass = await loadTable(passContext, load, table, source);
      for (const measure of measuresOf(load))
        appendAll(reconciliation.totals, await bridgeMeasure(client, load, measure, before, pass.rejects));
      await client.query(`DROP TABLE ${before}`);
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
    }
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT reconcile');
  }
  return { reconciliation, tables };
}

type AcceptableKind = 'rejected' | 'link_left_empty' | 'extra' | 'kept_in_postgres' | LeftBehindKind;
type LeftBehindKind = 'column_left_behind' | 'table_left_behind';
type DifferenceKind = AcceptableKind | 'missing' | 'differs' | 'total';

/** One thing that keeps Postgres from being exactly Coda, with the run that accepted it if one did. */
export interface Difference {
  kind: DifferenceKind;
  target: string;
  /** The Coda row id, `id:<erp id>` for a row no Coda row produced, or the total's label and group. */
  rowKey: string;
  row: RowSummary;
  reasons: string[];
  acceptedByRun: string | null;
  total?: BusinessTotal;
  /** For kept_in_postgres: the row's conflict, whose Postgres side the owner chose to keep. */
  conflict?: Conflict;
  /** For a Coda column or table that holds data no mapping loads. */
  leftBehind?: LeftBehind;
}

export async function readAcceptedDifferences(
  client: pg.ClientBase,
  docId: string,
): Promise<AcceptedDifference[]> {
  const { rows } = await client.query<{
    run_id: string;
    target_table: string;
    row_key: string;
    kind: AcceptableKind;
  }>(
    `SELECT DISTINCT ON (target_table, row_key, kind) run_id::text, target_table, row_key, kind
       FROM pipeline.accepted_differences WHERE coda_doc_id = $1
      ORDER BY target_table, row_key, kind, run_id`,
    [docId],
  );
  return rows.map((row) => ({
    runId: row.run_id,
    target: row.target_table,
    rowKey: row.row_key,
    kind: row.kind,
  }));
}

/**
 * Everything a reconciliation found, in one list: rows missing or differing, rows rejected, links
 * left empty, rows only Postgres has, totals that do not bridge. A cutover and a reconcile decide
 * from this same list, so they agree.
 */
export async function classifyDifferences(
  tables: TableLoadReport[],
  reconciliation: Reconciliation,
): Promise<Difference[]> {
  const accepted = new Map(
    reconciliation.accepted.map((item) => [`${item.target}|${item.rowKey}|${item.kind}`, item.runId]),
  );
  const found: Difference[] = [];
  const add = (kind: DifferenceKind, target: string, rowKey: string, row: RowSummary, reasons: string[]) =>
    found.push({
      kind,
      target,
      rowKey,
      row,
      reasons,
      acceptedByRun: accepted.get(`${target}|${rowKey}|${kind}`) ?? null,
    });
  const summary = ({ rowId, rowName, browserLink }: RowSummary): RowSummary => ({
    rowId,
    rowName,
    browserLink,
  });
  for (const table of tables) {
    for await (const row of table.inserted) add('missing', table.target, row.rowId, summary(row), []);
    for await (const row of table.updated) add('differs', table.target, row.rowId, summary(row), []);
    for (const reject of table.rejects)
      add(
        'rejected',
        table.target,
        reject.source.rowId,
        summary(reject.source),
        reject.problems.map((problem) => problem.reason),
      );
    for (const link of table.unresolved)
      add('link_left_empty', table.target, link.rowId, summary(link), [link.reason]);
    for await (const row of table.goneFromCoda) add('extra', table.target, row.rowId, summary(row), []);
    // Kept as the owner chose, by this cutover or by the earlier one whose choice still holds.
    for (const conflict of table.conflicts.filter((entry) => entry.winner === 'postgres'))
      found.push({
        kind: 'kept_in_postgres',
        target: table.target,
        rowKey: conflict.rowId,
        row: summary(conflict),
        reasons: [],
        acceptedByRun: conflict.keptByRun,
        conflict,
      });
  }
  for (const table of reconciliation.tables)
    for (const row of table.notFromCoda)
      add(
        'extra',
        table.target,
        `id:${row.targetId}`,
        { rowId: '', rowName: row.label, browserLink: '' },
        [],
      );
  for (const total of reconciliation.totals)
    if (total.unexplained !== '0')
      found.push({
        kind: 'total',
        target: total.target,
        rowKey: `${total.label}|${total.group ?? ''}`,
        row: { rowId: '', rowName: '', browserLink: '' },
        reasons: [],
        acceptedByRun: null,
        total,
      });
  return found;
}

/**
 * What a committing cutover accepts: rejects within --max-rejects, links left empty, rows only
 * Postgres has, what it kept of edits made in Postgres, and (only when told to, see run.ts) Coda
 * data that no mapping loads.
 */
export function isAcceptable(kind: DifferenceKind): kind is AcceptableKind {
  return (
    kind === 'rejected' ||
    kind === 'link_left_empty' ||
    kind === 'extra' ||
    kind === 'kept_in_postgres' ||
    isLeftBehind(kind)
  );
}

export function isLeftBehind(kind: DifferenceKind): kind is LeftBehindKind {
  return kind === 'column_left_behind' || kind === 'table_left_behind';
}

/** Coda data no mapping loads, as differences, each with the cutover that accepted it if one did. */
export function leftBehindDifferences(
  items: readonly LeftBehind[],
  accepted: readonly AcceptedDifference[],
): Difference[] {
  const acceptedBy = new Map(accepted.map((item) => [`${item.kind}|${item.rowKey}`, item.runId]));
  return items.map((item) => {
    const kind = item.kind === 'column' ? 'column_left_behind' : 'table_left_behind';
    const rowKey = leftBehindKey(item);
    return {
      kind,
      target: item.kind === 'column' ? item.target : '',
      rowKey,
      row: {
        rowId: '',
        rowName: item.kind === 'column' ? item.column.label : item.table.name,
        browserLink: item.table.browserLink,
      },
      reasons: [
        item.kind === 'column'
          ? `${item.column.cells} cell(s) of Coda table "${item.table.name}" hold data that no mapping loads`
          : `${item.rows} row(s) that no mapping loads`,
      ],
      acceptedByRun: acceptedBy.get(`${kind}|${rowKey}`) ?? null,
      leftBehind: item,
    };
  });
}

/** Recorded inside the cutover's transaction, so they exist exactly when the cutover committed. */
export async function recordAcceptedDifferences(
  client: pg.ClientBase,
  runId: string,
  docId: string,
  found: Difference[],
): Promise<void> {
  const fresh = found.filter((item) => isAcceptable(item.kind) && item.acceptedByRun === null);
  if (!fresh.length) return;
  const column = <T>(pick: (item: Difference) => T) => fresh.map(pick);
  await client.query(
    `INSERT INTO pipeline.accepted_differences (run_id, coda_doc_id, target_table, row_key, kind, row_name, browser_link, reason, kept)
     SELECT $1, $2, d.target_table, d.row_key, d.kind, d.row_name, nullif(d.browser_link, ''), d.reason, d.kept::jsonb
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
            AS d(target_table, row_key, kind, row_name, browser_link, reason, kept)
     ON CONFLICT DO NOTHING`,
    [
      runId,
      docId,
      column((item) => item.target),
      column((item) => item.rowKey),
      column((item) => item.kind),
      // Text columns cannot hold U+0000: a name or reason shows it as the visible symbol.
      column((item) => visible(item.row.rowName)),
      column((item) => item.row.browserLink),
      column((item) => visible(item.reasons.join('; ') || reasonOf(item))),
      // jsonb cannot hold U+0000 either; the values are only compared with later ones read alike.
      column((item) =>
        item.conflict ? JSON.stringify(keptOf(item.conflict)).replace(/\\u0000/g, '\u2400') : null,
      ),
    ],
  );
}

/** The reason kept on record for a difference whose reasons are its kind (the reports word it from the data). */
function reasonOf(item: Difference): string {
  if (!item.conflict) return 'in Postgres, not in Coda';
  return item.conflict.deletedInPostgres
    ? "deleted in Postgres, kept deleted by the owner's choice"
    : `edited in Postgres, kept by the owner's choice: ${item.conflict.fields.map((field) => field.label).join(', ')}`;
}
