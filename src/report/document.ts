/**
 * A run's report split in two: a header with what changes from run to run (run id, times,
 * source folder, backup path, seconds per table), and a body that depends only on the Coda input
 * and the database, so the same input gives the same body byte for byte. Every list of rows in
 * the body is put in code-unit order here, whatever order the database or the locale would give.
 *
 * Every report form (terminal, Markdown, HTML, JSON) renders from these, with the wording below.
 */
import type { Conflict, ConflictField } from '../load/conflicts.ts';
import type { RunReport } from '../load/run.ts';
import {
  compareCodeUnits,
  differences,
  type TableReconciliation,
  type TimedTableReport,
} from '../load/reconcile.ts';

export type ReportTable = Omit<TimedTableReport, 'seconds'>;

export interface ReportHeader {
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** The snapshot folder read. */
  source: string;
  backup: RunReport['backup'];
  secondsByTable: Record<string, number>;
}

export interface ReportBody
  extends Pick<RunReport, 'mode' | 'doc' | 'outcome' | 'outcomeNote' | 'reconciliation'> {
  tables: ReportTable[];
}

const byRowId = <T extends { rowId: string }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => compareCodeUnits(a.rowId, b.rowId));

export function splitReport(report: RunReport): { header: ReportHeader; body: ReportBody } {
  const { runId, startedAt, finishedAt, source, backup } = report;
  return {
    header: {
      runId,
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
        inserted: byRowId(table.inserted),
        updated: byRowId(table.updated),
        rejects: [...table.rejects].sort((a, b) => compareCodeUnits(a.source.rowId, b.source.rowId)),
        unresolved: [...table.unresolved].sort(
          (a, b) => compareCodeUnits(a.rowId, b.rowId) || compareCodeUnits(a.column, b.column),
        ),
        goneFromCoda: byRowId(table.goneFromCoda),
        conflicts: byRowId(table.conflicts),
      })),
      reconciliation: report.reconciliation,
    },
  };
}

/** The JSON report: the header under its own key, the body's fields at the top level. */
export function jsonReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return `${JSON.stringify({ header, ...body }, null, 2)}\n`;
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

function columnTotals(rows: number[][]): number[] {
  return rows.reduce(
    (sums, row) => sums.map((sum, index) => sum + (row[index] ?? 0)),
    rows[0]?.map(() => 0) ?? [],
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
    totals: columnTotals(rows.map((row) => row.counts)),
  };
}

export function runTitle(mode: RunReport['mode']): string {
  return { plan: 'Plan (dry run)', cutover: 'Cutover', reconcile: 'Reconciliation' }[mode];
}

/** The outcome in plain words, first thing in every report. */
export function headline(body: Pick<ReportBody, 'outcome' | 'tables' | 'reconciliation'>): string {
  const [, inserted, updated, unchanged, rejected] = columnTotals(body.tables.map(loadCounts));
  const counts = `${inserted} row(s) inserted, ${updated} changed, ${unchanged} unchanged, ${rejected} rejected`;
  switch (body.outcome) {
    case 'planned':
      return `Dry run: nothing was written. A cutover now would insert ${inserted} row(s), change ${updated}, leave ${unchanged} unchanged and reject ${rejected}.`;
    case 'committed':
      return `Cutover committed. ${counts}.`;
    case 'rolled_back':
      return 'Cutover rolled back: nothing was written, the database is as it was.';
    case 'reconciled':
      return 'Postgres matches Coda: every row and every total agrees.';
    case 'differences':
      return `Postgres does not match Coda: ${differences(body.reconciliation!).length} difference(s) to check.`;
  }
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
      'Coda: the rows that load (rejected rows are counted apart). Postgres: every row in the table.',
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
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Only https links go into a report: Coda's own; anything else is shown as text. */
export function safeLink(url: string): string | null {
  return /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null;
}
