/**
 * A run's report split in two: a header with what changes from run to run (run id, times,
 * source folder, backup path, seconds per table), and a body that depends only on the Coda input
 * and the database, so the same input gives the same body byte for byte. Every list of rows in
 * the body is put in code-unit order here, whatever order the database or the locale would give.
 *
 * Every report form (terminal, Markdown, HTML, JSON) renders from these, with the wording below.
 */
import type { Conflict, ConflictField } from '../load/core/reports.ts';
import type { FieldChange } from '../load/core/reports.ts';
import type { RunReport } from '../load/run.ts';
import type {
  BridgeFigure,
  BusinessTotal,
  Difference,
  TableReconciliation,
  TimedTableReport,
} from '../load/reconcile/types.ts';
import type { CodaTableRef, ColumnCells } from '../transform/coverage.ts';
import { compareCodeUnits } from '../shared/compare.ts';
import { addDecimals, subtractDecimals } from '../shared/decimal.ts';
import type { ListedRows } from '../shared/spooled-list.ts';
import { showValue, type Words } from './words.ts';
import { hasName, namedRow, rowTitle } from '../shared/names.ts';
import type { Reject, RejectedParent } from '../transform/transform.ts';

export type ReportTable = Omit<TimedTableReport, 'seconds'> & {
  /** The rows rejected only because a row they link to was, one entry per such row (report.json). */
  rejectedParents?: ParentGroupSummary[];
};

/** Rows that share what happened to them, told once: a headline, what to do, and the rows behind it. */
export interface RowGroup<T> {
  headline: string;
  /** What to do about them, said once for the group; null when there is nothing to do. */
  advice: string | null;
  /** Where the group's cause is in Coda (a rejected parent row), when it has one place. */
  link: string | null;
  items: T[];
}

/** Items with the same key together, in the order their first item comes, each group worded from its items. */
function groupBy<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  word: (items: T[]) => Omit<RowGroup<T>, 'items'>,
): RowGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const members = groups.get(key);
    if (members) members.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()].map((members) => ({ ...word(members), items: members }));
}

/** A group worth showing as a group: more than one row, or a cause of its own to point at. */
export function isGroup<T>(group: RowGroup<T>): boolean {
  return group.items.length > 1 || group.link !== null;
}

/** Rows of one table rejected because the row they link to was: grouped under it, told once what to do. */
interface ParentGroup {
  parent: RejectedParent;
  /** The children's link column, as Coda names it. */
  column: string;
  children: Reject[];
}

/** The rejected row a reject is only about, with the link column that names it. */
function rejectedParentOf(reject: Reject): { parent: RejectedParent; column: string } | null {
  const only = reject.problems.length === 1 ? reject.problems[0] : undefined;
  return only?.rejectedParent ? { parent: only.rejectedParent, column: only.codaColumn } : null;
}

const rejectReasons = (reject: Reject) => reject.problems.map((problem) => problem.reason).join('; ');

/**
 * A table's rejects grouped: the rows one rejected parent took along under it, and rows rejected
 * for the same reasons together, each group told once what to do; in row-id order of first rows.
 */
export function rejectGroups(
  table: Pick<ReportTable, 'rejects' | 'codaTable' | 'mappingFile'>,
): RowGroup<Reject>[] {
  return groupBy(
    table.rejects,
    (reject) => {
      const found = rejectedParentOf(reject);
      return found
        ? `parent\u0000${found.parent.table}/${found.parent.rowId}/${found.column}`
        : `reasons\u0000${rejectReasons(reject)}`;
    },
    (rows) => {
      const found = rejectedParentOf(rows[0]!);
      if (found) {
        const group = { ...found, children: rows };
        return {
          headline: parentGroupHeadline(group, table),
          advice: parentGroupAdvice(group, table),
          link: safeLink(found.parent.browserLink),
        };
      }
      return {
        headline: `${plural(rows.length, `${table.codaTable.name} row`)} rejected: ${rejectReasons(rows[0]!)}`,
        advice: `To load ${rows.length === 1 ? 'it' : 'them'}, fix ${rows.length === 1 ? 'it' : 'them'} in Coda, or change the mapping ${table.mappingFile}.`,
        link: null,
      };
    },
  );
}

/** What the group is, in one sentence: how many rows, the parent as the owner finds it in Coda, and why it was rejected. */
function parentGroupHeadline(group: ParentGroup, table: Pick<ReportTable, 'codaTable'>): string {
  const { parent, column, children } = group;
  return `${plural(children.length, `${table.codaTable.name} row`)} rejected because ${column} links to ${namedRow(parent.rowName, parent.table)}, which was rejected: ${parent.reasons.join('; ')}`;
}

/** What to do about it, once for the group. */
function parentGroupAdvice(group: ParentGroup, table: Pick<ReportTable, 'mappingFile'>): string {
  const fix = `fix that ${group.parent.table} row in Coda`;
  return group.parent.linkRequired
    ? `To load them, ${fix} (${group.column} is required, so they cannot load without it).`
    : `To load them, ${fix}, or set \`links.rejected_parent: load_without_link\` in ${table.mappingFile} to load them with ${group.column} left empty.`;
}

/** The groups as report.json keeps them, beside the full list of rejects. */
export interface ParentGroupSummary {
  parent: RejectedParent;
  column: string;
  children: { rowId: string; rowName: string; browserLink: string }[];
  why: string;
  whatToDo: string;
}

function summarizeParentGroups(table: Omit<TimedTableReport, 'seconds'>): ParentGroupSummary[] {
  return rejectGroups(table).flatMap((group) => {
    const found = rejectedParentOf(group.items[0]!);
    return found
      ? [
          {
            parent: found.parent,
            column: found.column,
            children: group.items.map(({ source }) => ({
              rowId: source.rowId,
              rowName: source.rowName,
              browserLink: source.browserLink,
            })),
            why: group.headline,
            whatToDo: group.advice!,
          },
        ]
      : [];
  });
}

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

export function plural(count: number, one: string, many = `${one}s`): string {
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

/** How a difference is named: its row, or for a total its label and group. */
export function differenceName(item: Difference): string {
  if (item.total) return totalName(item.total);
  if (hasName(item.row.rowName)) return item.row.rowName;
  return item.row.rowId ? rowTitle(item.row.rowName) : item.rowKey;
}

export function totalName(total: BusinessTotal): string {
  return total.group === null ? total.label : `${total.label}: ${total.group}`;
}

/** What is different, in words. */
export function describeDifference(item: Difference, words: Words): string {
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
    case 'kept_in_postgres':
      return item.conflict?.deletedInPostgres
        ? "deleted in Postgres, kept deleted by the owner's choice"
        : `edited in Postgres, kept by the owner's choice: ${(item.conflict?.fields ?? []).map((field) => `${field.label} ${words.value(item.target, field.column, field.postgres)} (Coda has ${words.value(item.target, field.column, field.coda)})`).join('; ')}`;
    case 'total': {
      const total = item.total!;
      return `Coda ${figureText(total, total.coda)}, Postgres ${figureText(total, total.postgres)}: ${total.unexplained} not explained by rejected rows or extra rows`;
    }
    case 'column_left_behind':
    case 'table_left_behind':
      return `left behind in Coda: ${leftBehindAmount(item)}`;
  }
}

/** Kinds whose rows differ each in their own way: grouped by kind, each row with its own detail. */
const DETAILED_KINDS: ReadonlySet<Difference['kind']> = new Set(['kept_in_postgres', 'total']);

/** What to do about a new difference of each kind, said once per group. */
function differenceAdvice(item: Difference, mappingFile: string | undefined): string | null {
  const mapping = mappingFile ? `the mapping ${mappingFile}` : 'the mapping';
  switch (item.kind) {
    case 'missing':
    case 'differs':
      return 'Coda changed since the last cutover: a plan shows what loading it would do, a cutover loads it.';
    case 'rejected':
      return `Fix them in Coda, or change ${mapping}; then run a plan.`;
    case 'link_left_empty':
      return 'Fix the linked rows in Coda, then run a plan.';
    case 'extra':
      return 'Kept in Postgres, never deleted: check whether they belong there.';
    case 'kept_in_postgres':
      return "Edited in Postgres since the last load: a cutover with --prefer coda takes Coda's values, --prefer postgres keeps these.";
    case 'total':
      return 'Not explained by rejected or extra rows: look at the rows behind it in Coda and Postgres before signing off.';
    case 'column_left_behind':
    case 'table_left_behind':
      return null;
  }
}

/**
 * Differences with the same cause together: per Coda table and kind, and for most kinds the same
 * reason, so 35 rows accepted for one reason are one line with the rows behind it. A new group
 * says once what to do; an accepted one says which cutover accepted it.
 */
export function differenceGroups(
  items: readonly Difference[],
  body: Pick<ReportBody, 'vocabulary'>,
  words: Words,
): RowGroup<Difference>[] {
  const files = new Map(body.vocabulary.tables.map((table) => [table.target, table.mappingFile]));
  return groupBy(
    items,
    (item) =>
      [
        item.target,
        item.acceptedByRun ?? '',
        item.kind === 'total'
          ? item.rowKey
          : DETAILED_KINDS.has(item.kind)
            ? item.kind
            : describeDifference(item, words),
      ].join('\u0000'),
    (rows) => {
      const first = rows[0]!;
      const what =
        first.kind === 'total'
          ? `${differenceName(first)}: ${describeDifference(first, words)}`
          : `${plural(rows.length, `${words.table(first.target)} row`)} ${rowsDescription(first, words)}`;
      return {
        headline: first.acceptedByRun === null ? what : `${what} (${acceptedBy(first)})`,
        advice: first.acceptedByRun === null ? differenceAdvice(first, files.get(first.target)) : null,
        link: null,
      };
    },
  );
}

/** What is different, after "3 Tasks rows". */
function rowsDescription(item: Difference, words: Words): string {
  switch (item.kind) {
    case 'differs':
      return 'whose fields in Postgres differ from Coda (listed under the rows whose fields differ)';
    case 'link_left_empty':
      return `with a link left empty: ${item.reasons.join('; ')}`;
    case 'kept_in_postgres':
      return 'edited or deleted in Postgres, kept as the owner chose';
    default:
      return describeDifference(item, words);
  }
}

/** What a row of a difference group adds to the group's headline: its own detail, or nothing. */
export function differenceDetail(item: Difference, words: Words): string | null {
  return item.kind === 'kept_in_postgres' ? describeDifference(item, words) : null;
}

/**
 * The columns of every bridge, each in the total's own unit, so that on every line
 * Coda − rejected − not converted + extra = Postgres + unexplained, as printed. Figures are
 * exact decimals, never rounded, so the printed numbers add up.
 */
export const BRIDGE_COLUMNS = [
  'Coda',
  'Rejected',
  'Not converted',
  'Extra',
  'Postgres',
  'Unexplained',
] as const;

/** Text cells in a number column are in no unit: their own column, shown when a total has any. */
export const TEXT_CELLS_COLUMN = 'Text, not a number';

/** A figure as printed: the amount, and for a sum the rows behind it beside it ("12.5 (3 rows)"). */
export function figureText(total: Pick<BusinessTotal, 'unit'>, figure: BridgeFigure): string {
  return total.unit === 'rows' || figure.rows === 0
    ? figure.amount
    : `${figure.amount} (${plural(figure.rows, 'row')})`;
}

/** A total's bridge line up to its unexplained rest, which each form marks in its own way. */
export function bridgeFigures(total: BusinessTotal): string[] {
  return [total.coda, total.rejected, total.notConverted, total.extra, total.postgres].map((figure) =>
    figureText(total, figure),
  );
}

/** The text cells of a total, counted: "2 rows", or nothing. */
export function textCellsText(total: BusinessTotal): string {
  return total.notANumber.length ? plural(total.notANumber.length, 'row') : '';
}

/** A step that takes an amount off, written so it reads right as printed: "− 3", "− (-2)". */
export function minus(amount: string): string {
  return amount.startsWith('-') ? `− (${amount})` : `− ${amount}`;
}

/** Whether a total has rows to walk through one by one: shares taken off, or text cells. */
export function hasWalk(total: BusinessTotal): boolean {
  return total.rejected.rows > 0 || total.notConverted.rows > 0 || total.notANumber.length > 0;
}

/** A step's rows as listed, and what those left out add up to, so the walk still adds up. */
export function listedShares<T extends { share: string }>(
  figure: BridgeFigure & { shares: readonly T[] },
): { shown: readonly T[]; more: number; rest: string } {
  const { shown, more } = capped(figure.shares);
  return {
    shown,
    more,
    rest: subtractDecimals(figure.amount, shown.map((item) => item.share).reduce(addDecimals, '0')),
  };
}

/** The line that stands for the rows a walk leaves out. */
export function moreSharesLine(more: number, rest: string): string {
  return `${minus(rest)} for ${more} more rows (all of them are in report.json)`;
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
  body: Pick<ReportBody, 'mode' | 'outcome' | 'differences' | 'coverage' | 'acceptUnmapped'>,
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
          : body.acceptUnmapped
            ? `Left behind on purpose (${ACCEPT_FLAG}), but the cutover rolled back for another reason, so nothing was written: run it again with ${ACCEPT_FLAG} once that is settled.`
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

/** Only https links go into a report: Coda's own; anything else is shown as text. */
export function safeLink(url: string): string | null {
  return /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null;
}
