/**
 * What keeps Postgres from being exactly Coda, in words: each difference, and differences with
 * the same cause grouped, told once what to do.
 */
import type { BusinessTotal, Difference } from '../load/reconcile/types.ts';
import type { RunReport } from '../load/run.ts';
import { hasName, rowTitle } from '../shared/names.ts';
import { figureText } from './bridge-words.ts';
import { leftBehindAmount } from './coverage-words.ts';
import { acceptedBy, groupBy, plural, type RowGroup } from './lists.ts';
import { reasonsText } from './reasons.ts';
import type { Words } from './words.ts';

/** How a difference is named: its row, or for a total its label and group. */
export function differenceName(item: Difference): string {
  if (item.total) return totalName(item.total);
  if (hasName(item.row.rowName)) return item.row.rowName;
  return item.row.rowId ? rowTitle(item.row.rowName) : item.rowKey;
}

export function totalName(total: BusinessTotal): string {
  return total.group === null ? total.label : `${total.label}: ${groupTitle(total.group)}`;
}

/** A total's group as the owner reads it: the rows whose group cell is empty as "(empty)", a blank name as "(no name)". */
export function groupTitle(group: NonNullable<BusinessTotal['group']>): string {
  return group.name === null ? '(empty)' : rowTitle(group.name);
}

/** What is different, in words. */
export function describeDifference(item: Difference, words: Words): string {
  switch (item.kind) {
    case 'missing':
      return 'in Coda, missing from Postgres';
    case 'differs':
      return 'its fields in Postgres differ from Coda (listed under the rows whose fields differ)';
    case 'rejected':
      return `rejected: ${reasonsText(item.reasons)}`;
    case 'link_left_empty':
      return `link left empty: ${reasonsText(item.reasons)}`;
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
  body: Pick<RunReport, 'vocabulary'>,
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
      return `with a link left empty: ${reasonsText(item.reasons)}`;
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
