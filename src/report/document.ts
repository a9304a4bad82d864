/**
 * A run's report split in two: a header with what changes from run to run (run id, times,
 * source folder, backup path, seconds per table), and a body that depends only on the Coda input
 * and the database, so the same input gives the same body byte for byte. Every list of rows in
 * the body is put in code-unit order here, whatever order the database or the locale would give.
 *
 * Every report form (terminal, Markdown, HTML, JSON) renders from these, with the wording below
 * and in the modules beside it: lists, differences, reject-groups, bridge-words, coverage-words.
 */
import type { Conflict, ConflictField, FieldChange } from '../load/core/reports.ts';
import type { RunReport } from '../load/run.ts';
import type { Difference, TableReconciliation, TimedTableReport } from '../load/reconcile/types.ts';
import { compareCodeUnits } from '../shared/compare.ts';
import type { ListedRows } from '../shared/spooled-list.ts';
import { capped, LIST_LIMIT, plural } from './lists.ts';
import { summarizeParentGroups, type ParentGroupSummary } from './reject-groups.ts';
import { showValue, type Words } from './words.ts';

export type ReportTable = Omit<TimedTableReport, 'seconds'> & {
  /** The rows rejected only because a row they link to was, one entry per such row (report.json). */
  rejectedParents?: ParentGroupSummary[];
};

export interface ReportHeader {
  runId: string;
  /** What reading Coda took, when the run read it live. */
  codaRequests: RunReport['codaRequests'];
  startedAt: string;
  finishedAt: string;
  /** The snapshot folder read. */
  source: string;
  backup: RunReport['backup'];
  abandonedRuns: RunReport['abandonedRuns'];
  secondsByTable: Record<string, number>;
}

export interface ReportBody
  extends Pick<
    RunReport,
    | 'mode'
    | 'doc'
    | 'outcome'
    | 'outcomeNote'
    | 'reconciliation'
    | 'differences'
    | 'coverage'
    | 'vocabulary'
    | 'maxRejects'
    | 'acceptUnmapped'
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
      abandonedRuns: report.abandonedRuns,
      secondsByTable: Object.fromEntries(report.tables.map((table) => [table.target, table.seconds])),
    },
    body: {
      mode: report.mode,
      doc: report.doc,
      outcome: report.outcome,
      outcomeNote: report.outcomeNote,
      tables: report.tables.map(({ seconds: _seconds, ...table }) => {
        // inserted, updated and goneFromCoda come in row-id order from the load (spooled lists).
        const rejects = [...table.rejects].sort((a, b) => compareCodeUnits(a.source.rowId, b.source.rowId));
        const rejectedParents = summarizeParentGroups({ ...table, rejects });
        return {
          ...table,
          rejects,
          ...(rejectedParents.length ? { rejectedParents } : {}),
          unresolved: [...table.unresolved].sort(
            (a, b) => compareCodeUnits(a.rowId, b.rowId) || compareCodeUnits(a.column, b.column),
          ),
          conflicts: byRowId(table.conflicts),
        };
      }),
      reconciliation: report.reconciliation,
      coverage: report.coverage,
      vocabulary: report.vocabulary,
      maxRejects: report.maxRejects,
      acceptUnmapped: report.acceptUnmapped,
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
/** A refused cutover did nothing: its counts are what it would have done. */
const REFUSED_COLUMNS = [
  'read',
  'would have inserted',
  'would have updated',
  'unchanged',
  'rejected',
] as const;
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
  /** `name`: the Coda table, as the owner knows it; `target`: the erp table it loads. */
  rows: { name: string; target: string; counts: number[] }[];
  totals: number[];
}

/** The counts every report shows per table: what the load did, or for a reconcile how the two sides compare. */
export function countsPerTable(
  body: Pick<ReportBody, 'mode' | 'outcome' | 'tables' | 'reconciliation'>,
): CountsPerTable {
  const named = (table: { target: string; codaTable: { name: string } }) => ({
    name: table.codaTable.name,
    target: table.target,
  });
  const rows =
    body.mode === 'reconcile' && body.reconciliation
      ? body.reconciliation.tables.map((table) => ({ ...named(table), counts: reconcileCounts(table) }))
      : body.tables.map((table) => ({ ...named(table), counts: loadCounts(table) }));
  return {
    columns: body.mode === 'reconcile' ? RECONCILE_COLUMNS : isRefused(body) ? REFUSED_COLUMNS : LOAD_COLUMNS,
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

/** A cutover that refused to commit: nothing it counted was done. */
export function isRefused(body: Pick<ReportBody, 'mode' | 'outcome'>): boolean {
  return body.mode === 'cutover' && body.outcome === 'rolled_back';
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

/** What a cutover accepted when it committed, counted from the list of accepted differences under it. */
function acceptedWithCutover(differences: readonly Difference[], tables: readonly ReportTable[]): string {
  const count = (kind: Difference['kind']) => differences.filter((item) => item.kind === kind).length;
  const parents = tables.reduce(
    (sum, table) => sum + table.unresolved.filter((link) => link.reason.code === 'parent_rejected').length,
    0,
  );
  const links = count('link_left_empty');
  const parts = [
    count('rejected') ? `${plural(count('rejected'), 'row')} rejected` : '',
    links
      ? `${plural(links, 'link')} left empty${parents ? ` (${parents} because the linked row was rejected)` : ''}`
      : '',
    count('extra') ? `${plural(count('extra'), 'row')} in Postgres that Coda does not have (kept)` : '',
    count('kept_in_postgres')
      ? `${plural(count('kept_in_postgres'), 'row')} edited or deleted in Postgres, kept as the owner chose`
      : '',
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

export const TECHNICAL_DETAILS = 'Technical details';

/**
 * What only someone looking after the machinery needs: the run number, times, the snapshot read,
 * the backup, and what reading Coda took. Every form puts it at the end, never in the lead.
 */
export function technicalDetails(header: ReportHeader): string[] {
  return [
    `Run number: ${header.runId}`,
    `Started: ${header.startedAt}`,
    `Finished: ${header.finishedAt}`,
    `Snapshot read: ${header.source}`,
    ...(header.backup ? [`Backup (${header.backup.kind}): ${header.backup.path}`] : []),
    ...[codaRequestsLine(header) ?? []].flat(),
  ];
}

/** The request counts of a run that read Coda live, as every report form shows them. */
export function codaRequestsLine(header: Pick<ReportHeader, 'codaRequests'>): string | null {
  const stats = header.codaRequests;
  return stats
    ? `Coda: ${stats.requests} requests, ${stats.rateLimited} rate-limited (429), ${stats.retried} retried after a fault`
    : null;
}

/** What this run found of earlier runs whose process died, as every report form says it. */
export function abandonedRunLines(header: Pick<ReportHeader, 'abandonedRuns'>): string[] {
  return header.abandonedRuns.map(
    (run) =>
      `An earlier ${run.mode} (run ${run.runId}, started ${run.startedAt}) was stopped before it finished (killed or crashed) and is now marked abandoned: ${
        run.committed
          ? 'its load had been committed, so its rows are in Postgres; a reconcile shows whether they match Coda'
          : 'nothing of it was committed'
      }.`,
  );
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

/** How each list of rows is titled, by what the run did: a refused cutover did none of it. */
export function sectionTitles(body: Pick<ReportBody, 'mode' | 'outcome'>) {
  const { mode } = body;
  const refused = isRefused(body);
  return {
    inserted: refused
      ? 'Rows the cutover would have inserted (nothing was written)'
      : {
          plan: 'Rows a cutover would insert',
          cutover: 'Rows inserted',
          reconcile: 'Rows missing from Postgres',
        }[mode],
    updated: refused
      ? 'Rows the cutover would have changed (nothing was written)'
      : {
          plan: 'Rows a cutover would change',
          cutover: 'Rows changed',
          reconcile: 'Rows whose fields differ',
        }[mode],
    /** The two sides of a field change. */
    change:
      mode === 'reconcile' ? { before: 'Postgres', after: 'Coda' } : { before: 'before', after: 'after' },
    rejects: 'Rows rejected (not loaded), with the reason',
    conflicts: 'Conflicts: fields edited in Postgres since the last load that Coda would change',
    unresolved:
      'Links left empty or cut to one (the linked row is not in Postgres, or the column keeps one person)',
    goneFromCoda: 'Rows in Postgres whose Coda row is gone (kept, never deleted)',
    notFromCoda: 'Rows in Postgres that no Coda row produced',
    totals: 'Business totals',
    totalsNote:
      "Every figure is in the total's own unit (hours, money, or rows for a count), with the rows behind it in brackets. Coda: every number Coda shows in the column, whatever the load did with its row. Rejected: the rejected rows' share (listed below). Not converted: numbers the load could not take as they are (an amount in another currency). Extra: what rows in Postgres that this read did not load add. On every line, Coda − rejected − not converted + extra = Postgres + unexplained; anything but 0 unexplained is a difference. Text in a number column is a number on neither side: it is counted apart and listed below.",
    bridge: 'How each total gets from Coda to Postgres',
    newDifferences: 'New differences (not accepted by any cutover)',
    acceptedDifferences: 'Differences accepted at cutover',
  };
}

/** One field of a conflict, its three values side by side, choices by their Coda label. */
export function conflictField(field: ConflictField, target: string, words: Words): string {
  const value = (side: unknown) => words.value(target, field.column, side);
  return `${field.label}: Coda ${value(field.coda)}, Postgres ${value(field.postgres)}, at the last load ${value(field.lastLoad)}`;
}

/** What happened to a conflicting row in Postgres, and who wins, in words. */
export function conflictWinner({
  winner,
  deletedInPostgres,
  keptByRun,
}: Pick<Conflict, 'winner' | 'deletedInPostgres' | 'keptByRun'>): string {
  const deleted = deletedInPostgres ? 'deleted in Postgres since the last load, still in Coda; ' : '';
  const chosen = keptByRun ? `, as chosen at cutover run ${keptByRun} (neither side changed since)` : '';
  if (winner === 'postgres')
    return `${deleted}Postgres wins${chosen}: ${deletedInPostgres ? 'the row stays deleted' : 'the edited value is kept'}`;
  if (winner === 'coda')
    return `${deleted}Coda wins: ${deletedInPostgres ? 'the row is added again' : "the edit is overwritten with Coda's value"}`;
  return `${deleted}nobody chose which side wins: a cutover is refused (--prefer coda|postgres, or --decisions FILE)`;
}

/** A field change as the owner reads it: the Coda column, and its two sides (a link by the linked row's name, a choice by its label). */
export function changeText(
  change: FieldChange,
  target: string,
  words: Words,
): { column: string; before: string; after: string } {
  const column = words.column(target, change.column);
  if (change.linked)
    return { column, before: showValue(change.linked.before), after: showValue(change.linked.after) };
  return {
    column,
    before: words.value(target, change.column, change.before),
    after: words.value(target, change.column, change.after),
  };
}
