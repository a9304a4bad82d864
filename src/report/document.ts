/**
 * A run's report split in two: a header with what changes from run to run (run id, times,
 * source folder, backup path, seconds per table), and a body that depends only on the Coda input
 * and the database, so the same input gives the same body byte for byte. Every list of rows in
 * the body is put in code-unit order here, whatever order the database or the locale would give.
 *
 * Every report form (terminal, Markdown, HTML, JSON) renders from these, with the wording below.
 */
import type { Conflict, ConflictField } from '../load/conflicts.ts';
import type { FieldChange } from '../load/load-table.ts';
import type { RunReport } from '../load/run.ts';
import type { BusinessTotal, Difference, TableReconciliation, TimedTableReport } from '../load/reconcile.ts';
import type { CodaTableRef, ColumnCells } from '../transform/coverage.ts';
import { compareCodeUnits } from '../shared/compare.ts';
import type { ListedRows } from '../shared/spooled-list.ts';
import { visible } from '../shared/visible.ts';

export type ReportTable = Omit<TimedTableReport, 'seconds'>;

export interface ReportHeader {
  runId: string;
  /** What reading Coda took, when the run read it live. */
  codaRequests: RunReport['codaRequests'];
  startedAt: string;
  finishedAt: string;
  /** The snapshot folder read. */
  source: string;
  backup: RunReport['backup'];
  secondsByTable: Record<string, number>;
}

export interface ReportBody
  extends Pick<
    RunReport,
    'mode' | 'doc' | 'outcome' | 'outcomeNote' | 'reconciliation' | 'differences' | 'coverage'
  > {
  tables: ReportTable[];
}

const byRowId = <T extends { rowId: string }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => compareCodeUnits(a.rowId, b.rowId));

export function splitReport(report: RunReport): { header: ReportHeader; body: ReportBody } {
  const { runId, startedAt, finishedAt, source, backup } = report;
  return {
    header: {
      runId,
      codaRequests: report.codaRequests,
      startedAt,
      finishedAt,
      source,
      backup,
      secondsByTable: Object.fromEntries(report.tables.map((table) => [table.target, table.seconds])),
    },
    body: {
      mode: report.mode,
      doc: report.doc,
      outcome: report.outcome,
      outcomeNote: report.outcomeNote,
      tables: report.tables.map(({ seconds: _seconds, ...table }) => ({
        ...table,
        // inserted, updated and goneFromCoda come in row-id order from the load (spooled lists).
        rejects: [...table.rejects].sort((a, b) => compareCodeUnits(a.source.rowId, b.source.rowId)),
        unresolved: [...table.unresolved].sort(
          (a, b) => compareCodeUnits(a.rowId, b.rowId) || compareCodeUnits(a.column, b.column),
        ),
        conflicts: byRowId(table.conflicts),
      })),
      reconciliation: report.reconciliation,
      coverage: report.coverage,
      differences: [...report.differences].sort(
        (a, b) =>
          compareCodeUnits(a.target, b.target) ||
          compareCodeUnits(a.kind, b.kind) ||
          compareCodeUnits(a.rowKey, b.rowKey),
      ),
    },
  };
}

const LOAD_COLUMNS = ['read', 'inserted', 'updated', 'unchanged', 'rejected'] as const;
const RECONCILE_COLUMNS = [
  'Coda rows',
  'Postgres rows',
  'matched',
  'rejected',
  'missing',
  'extra',
  'differ',
] as const;

function loadCounts(table: ReportTable): number[] {
  return [table.read, table.inserted.length, table.updated.length, table.unchanged, table.rejects.length];
}

function reconcileCounts(table: TableReconciliation): number[] {
  return [
    table.codaRows,
    table.postgresRows,
    table.matched,
    table.rejected,
    table.missing,
    table.extra,
    table.differ,
  ];
}

/** `width` zeros when there are no rows: a cutover refused before loading has no table. */
function columnTotals(rows: number[][], width: number): number[] {
  return rows.reduce(
    (sums, row) => sums.map((sum, index) => sum + (row[index] ?? 0)),
    Array.from({ length: width }, () => 0),
  );
}

export interface CountsPerTable {
  columns: readonly string[];
  rows: { target: string; counts: number[] }[];
  totals: number[];
}

/** The counts every report shows per table: what the load did, or for a reconcile how the two sides compare. */
export function countsPerTable(body: Pick<ReportBody, 'mode' | 'tables' | 'reconciliation'>): CountsPerTable {
  const rows =
    body.mode === 'reconcile' && body.reconciliation
      ? body.reconciliation.tables.map((table) => ({ target: table.target, counts: reconcileCounts(table) }))
      : body.tables.map((table) => ({ target: table.target, counts: loadCounts(table) }));
  return {
    columns: body.mode === 'reconcile' ? RECONCILE_COLUMNS : LOAD_COLUMNS,
    rows,
    totals: columnTotals(
      rows.map((row) => row.counts),
      body.mode === 'reconcile' ? RECONCILE_COLUMNS.length : LOAD_COLUMNS.length,
    ),
  };
}

export function runTitle(mode: RunReport['mode']): string {
  return { plan: 'Plan (dry run)', cutover: 'Cutover', reconcile: 'Reconciliation' }[mode];
}

/** The differences a cutover accepted, and the new ones: the verdict of a reconciliation. */
function splitDifferences(differences: readonly Difference[]): {
  fresh: Difference[];
  accepted: Difference[];
} {
  return {
    fresh: differences.filter((item) => item.acceptedByRun === null),
    accepted: differences.filter((item) => item.acceptedByRun !== null),
  };
}

/**
 * The difference lists a report shows: a reconcile shows both; a cutover's accepted differences
 * are its rejects and empty links, already listed under their own titles. Coda data left behind
 * has its own section (coverageSection).
 */
export function listedDifferences(body: Pick<ReportBody, 'mode' | 'differences'>): {
  fresh: Difference[];
  accepted: Difference[];
} {
  const { fresh, accepted } = splitDifferences(body.differences.filter((item) => !item.leftBehind));
  return { fresh, accepted: body.mode === 'reconcile' ? accepted : [] };
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** What a cutover accepted when it committed, counted from the list of accepted differences under it. */
function acceptedWithCutover(differences: readonly Difference[], tables: readonly ReportTable[]): string {
  const count = (kind: Difference['kind']) => differences.filter((item) => item.kind === kind).length;
  const parents = tables.reduce(
    (sum, table) => sum + table.unresolved.filter((link) => link.parentRejected).length,
    0,
  );
  const links = count('link_left_empty');
  const parts = [
    count('rejected') ? `${plural(count('rejected'), 'row')} rejected` : '',
    links
      ? `${plural(links, 'link')} left empty${parents ? ` (${parents} because the linked row was rejected)` : ''}`
      : '',
    count('extra') ? `${plural(count('extra'), 'row')} in Postgres that Coda does not have (kept)` : '',
    count('column_left_behind') ? `${plural(count('column_left_behind'), 'Coda column')} left behind` : '',
    count('table_left_behind') ? `${plural(count('table_left_behind'), 'Coda table')} left behind` : '',
  ].filter(Boolean);
  return parts.length ? ` Accepted with it: ${parts.join(', ')}.` : '';
}

/** The outcome in plain words, first thing in every report. */
export function headline(body: Pick<ReportBody, 'outcome' | 'tables' | 'differences'>): string {
  const [, inserted, updated, unchanged, rejected] = columnTotals(
    body.tables.map(loadCounts),
    LOAD_COLUMNS.length,
  );
  const counts = `${inserted} row(s) inserted, ${updated} changed, ${unchanged} unchanged, ${rejected} rejected`;
  const { fresh, accepted } = splitDifferences(body.differences);
  switch (body.outcome) {
    case 'planned':
      return `Dry run: nothing was written. A cutover now would insert ${inserted} row(s), change ${updated}, leave ${unchanged} unchanged and reject ${rejected}.`;
    case 'committed':
      return `Cutover committed. ${counts}.${acceptedWithCutover(accepted, body.tables)}`;
    case 'rolled_back':
      return 'Cutover rolled back: nothing was written, the database is as it was.';
    case 'reconciled':
      return accepted.length
        ? `Postgres matches Coda, apart from ${plural(accepted.length, 'difference')} accepted at cutover; nothing new differs.`
        : 'Postgres matches Coda: every row and every total agrees.';
    case 'differences':
      return `Postgres does not match Coda: ${plural(fresh.length, 'new difference')} to check${accepted.length ? ` (and ${accepted.length} accepted at cutover)` : ''}.`;
  }
}

/** How a difference is named: its row, or for a total its label and group. */
export function differenceName(item: Difference): string {
  if (item.total) return totalName(item.total);
  return item.row.rowName || item.row.rowId || item.rowKey;
}

export function totalName(total: BusinessTotal): string {
  return total.group === null ? total.label : `${total.label}: ${total.group}`;
}

/** What is different, in words. */
export function describeDifference(item: Difference): string {
  switch (item.kind) {
    case 'missing':
      return 'in Coda, missing from Postgres';
    case 'differs':
      return 'its fields in Postgres differ from Coda (listed under the rows whose fields differ)';
    case 'rejected':
      return `rejected: ${item.reasons.join('; ')}`;
    case 'link_left_empty':
      return `link left empty: ${item.reasons.join('; ')}`;
    case 'extra':
      return item.row.rowId
        ? 'in Postgres, but its Coda row is gone (kept, never deleted)'
        : 'in Postgres, but no Coda row of this doc produced it (another doc, or added by hand)';
    case 'total': {
      const total = item.total!;
      return `Coda ${total.coda}, Postgres ${total.postgres}: ${total.unexplained} not explained by rejected rows or extra rows`;
    }
    case 'column_left_behind':
    case 'table_left_behind':
      return `left behind in Coda: ${leftBehindAmount(item)}`;
  }
}

function leftBehindAmount(item: Difference): string {
  const behind = item.leftBehind!;
  return behind.kind === 'column'
    ? `${cellsAmount(behind.column)} that no mapping loads`
    : `${plural(behind.rows, 'row')} that no mapping loads`;
}

/** A Coda column by its label, as the owner sees it in the doc. */
function columnLabel(label: string): string {
  return label.trim() ? label : '(a column with no name)';
}

function cellsAmount(column: ColumnCells): string {
  return `${plural(column.cells, 'cell')} ${column.cells === 1 ? 'holds' : 'hold'} data`;
}

/** One line of the coverage section: a Coda column or table, how much it holds, and why it is listed. */
export interface CoverageEntry {
  table: CodaTableRef;
  /** The column's label, or null for the whole table. */
  column: string | null;
  amount: string;
  examples: string[];
  /** The skip reason, or which cutover accepted leaving it behind. */
  note: string | null;
}

export interface CoverageSection {
  leftBehind: CoverageEntry[];
  /** What to do about them, for this run. */
  advice: string | null;
  skipped: CoverageEntry[];
  /** Columns neither loaded nor skipped that are empty in every row: nothing is lost. */
  empty: string | null;
}

const ACCEPT_FLAG = '--accept-unmapped';

/**
 * What of the doc this run does not load: data left behind (which blocks a cutover unless
 * accepted), what the mappings skip on purpose with their reasons, and empty columns in one line.
 */
export function coverageSection(
  body: Pick<ReportBody, 'mode' | 'outcome' | 'differences' | 'coverage'>,
): CoverageSection {
  const behind = body.differences.filter((item) => item.leftBehind);
  const fresh = behind.filter((item) => item.acceptedByRun === null);
  const leftBehind = behind.map((item): CoverageEntry => {
    const found = item.leftBehind!;
    return {
      table: found.table,
      column: found.kind === 'column' ? columnLabel(found.column.label) : null,
      amount: leftBehindAmount(item),
      examples: found.kind === 'column' ? found.column.examples : [],
      note: item.acceptedByRun === null ? null : acceptedBy(item),
    };
  });
  const ways = `load them (columns: in the mapping), declare them skipped with a reason (skip: in the mapping, or a skip file for a table), or leave them behind on purpose with \`erp cutover ${ACCEPT_FLAG}\``;
  const advice = !fresh.length
    ? null
    : body.mode === 'plan'
      ? `A cutover would refuse while ${plural(fresh.length, 'Coda column or table', 'Coda columns or tables')} with data ${fresh.length === 1 ? 'is' : 'are'} left behind: ${ways}.`
      : body.mode === 'cutover'
        ? body.outcome === 'committed'
          ? `Left behind on purpose (${ACCEPT_FLAG}): listed as accepted by this cutover from now on.`
          : `The cutover refused to leave them behind; nothing was written: ${ways}.`
        : `Postgres does not hold them and no cutover accepted leaving them behind: ${ways}.`;
  const skipped: CoverageEntry[] = [
    ...body.coverage.mapped.flatMap((entry) =>
      entry.skipped.map((column) => ({
        table: entry.table,
        column: columnLabel(column.label),
        amount: cellsAmount(column),
        examples: [],
        note: column.reason,
      })),
    ),
    ...body.coverage.skipped.map((entry) => ({
      table: entry.table,
      column: null,
      amount: plural(entry.rows, 'row'),
      examples: [],
      note: entry.reason,
    })),
  ];
  const empty = [
    ...body.coverage.mapped.flatMap((entry) =>
      entry.empty.map((column) => `${entry.table.name}: ${columnLabel(column.label)}`),
    ),
    ...body.coverage.unmapped.filter((entry) => !entry.rows).map((entry) => `${entry.table.name} (no rows)`),
  ];
  return {
    leftBehind,
    advice,
    skipped,
    empty: empty.length ? `Not loaded, but empty in Coda: ${empty.join(', ')}.` : null,
  };
}

export const COVERAGE_TITLES = {
  leftBehind: 'Coda data left behind (no mapping loads it)',
  skipped: 'Coda data skipped on purpose (the mappings say why)',
};

/** "Projects: Budget" or "Projects (the whole table)". */
export function coverageEntryName(entry: CoverageEntry): string {
  return entry.column === null
    ? `${entry.table.name} (the whole table)`
    : `${entry.table.name}: ${entry.column}`;
}

/** The rest of a coverage line after its name: amount, examples, note. */
export function coverageEntryDetail(entry: CoverageEntry): string {
  const examples = entry.examples.length
    ? `; for example ${entry.examples.map((text) => `"${text}"`).join(', ')}`
    : '';
  return `${entry.amount}${examples}${entry.note ? ` (${entry.note})` : ''}`;
}

export function acceptedBy(item: Difference): string {
  return `accepted by cutover run ${item.acceptedByRun}`;
}

/** The request counts of a run that read Coda live, as every report form shows them. */
export function codaRequestsLine(header: Pick<ReportHeader, 'codaRequests'>): string | null {
  const stats = header.codaRequests;
  return stats
    ? `Coda: ${stats.requests} requests, ${stats.rateLimited} rate-limited (429), ${stats.retried} retried after a fault`
    : null;
}

/** Rows listed per kind in Markdown and HTML; report.json holds them all. */
export const LIST_LIMIT = 300;

/** The first `limit` items, and how many more there are. */
export function capped<T>(items: ListedRows<T>, limit = LIST_LIMIT): { shown: readonly T[]; more: number } {
  return { shown: items.slice(0, limit), more: Math.max(0, items.length - limit) };
}

/**
 * A list that runs over every table: each table's items, the first LIST_LIMIT in all, the number
 * of items in all, and how many were left out.
 */
export function cappedPerTable<T>(
  tables: readonly ReportTable[],
  pick: (table: ReportTable) => ListedRows<T>,
): { groups: { table: ReportTable; shown: readonly T[] }[]; count: number; more: number } {
  const groups: { table: ReportTable; shown: readonly T[] }[] = [];
  let count = 0;
  for (const table of tables) {
    const items = pick(table);
    if (!items.length) continue;
    const room = LIST_LIMIT - Math.min(count, LIST_LIMIT);
    count += items.length;
    if (room) groups.push({ table, shown: capped(items, room).shown });
  }
  return { groups, count, more: Math.max(0, count - LIST_LIMIT) };
}

export function moreLine(more: number): string {
  return `… and ${more} more (all of them are in report.json)`;
}

/** How each list of rows is titled, by what the run did. */
export function sectionTitles(mode: RunReport['mode']) {
  return {
    inserted: {
      plan: 'Rows a cutover would insert',
      cutover: 'Rows inserted',
      reconcile: 'Rows missing from Postgres',
    }[mode],
    updated: {
      plan: 'Rows a cutover would change',
      cutover: 'Rows changed',
      reconcile: 'Rows whose fields differ',
    }[mode],
    /** The two sides of a field change. */
    change:
      mode === 'reconcile' ? { before: 'Postgres', after: 'Coda' } : { before: 'before', after: 'after' },
    rejects: 'Rows rejected (not loaded), with the reason',
    conflicts: 'Conflicts: fields edited in Postgres since the last load that Coda would change',
    unresolved: 'Links left empty (the linked row is not in Postgres)',
    goneFromCoda: 'Rows in Postgres whose Coda row is gone (kept, never deleted)',
    notFromCoda: 'Rows in Postgres that no Coda row produced',
    totals: 'Business totals',
    totalsNote:
      "Coda: every row read from Coda, loaded or rejected. Rejected: the rejected rows' share (listed below). Extra: what rows in Postgres that Coda did not load add. Unexplained: Postgres minus (Coda − rejected + extra); anything but 0 is a difference.",
    bridge: 'How each total gets from Coda to Postgres',
    newDifferences: 'New differences (not accepted by any cutover)',
    acceptedDifferences: 'Differences accepted at cutover',
  };
}

/** One field of a conflict, its three values side by side. */
export function conflictField(field: ConflictField): string {
  return `${field.label}: Coda ${showValue(field.coda)}, Postgres ${showValue(field.postgres)}, at the last load ${showValue(field.lastLoad)}`;
}

/** What happened to a conflicting row in Postgres, and who wins, in words. */
export function conflictWinner({
  winner,
  deletedInPostgres,
}: Pick<Conflict, 'winner' | 'deletedInPostgres'>): string {
  const deleted = deletedInPostgres ? 'deleted in Postgres since the last load, still in Coda; ' : '';
  if (winner === 'postgres')
    return `${deleted}Postgres wins: ${deletedInPostgres ? 'the row stays deleted' : 'the edited value is kept'}`;
  if (winner === 'coda')
    return `${deleted}Coda wins: ${deletedInPostgres ? 'the row is added again' : "the edit is overwritten with Coda's value"}`;
  return `${deleted}nobody chose which side wins: a cutover is refused (--prefer coda|postgres, or --decisions FILE)`;
}

/** A cell value as the owner reads it: text in quotes, so that empty and blank are told apart. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? visible(item) : item));
}

/** The two sides of a field change as the owner reads them: a link by the linked row's name. */
export function changeSides(change: FieldChange): [string, string] {
  if (!change.linked) return [showValue(change.before), showValue(change.after)];
  return [showValue(change.linked.before), showValue(change.linked.after)];
}

/** Only https links go into a report: Coda's own; anything else is shown as text. */
export function safeLink(url: string): string | null {
  return /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null;
}
