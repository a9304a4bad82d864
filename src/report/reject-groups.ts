/**
 * A table's rejects grouped: the rows a rejected parent took along under it, and rows rejected
 * for the same reasons together, each group told once what to do.
 */
import type { LinkedRow, ParentRejected, RunReject } from '../load/core/reasons.ts';
import type { TimedTableReport } from '../load/reconcile/types.ts';
import { namedRow } from '../shared/names.ts';
import { groupBy, plural, safeLink, type RowGroup } from './lists.ts';
import { reasonsText } from './reasons.ts';

/** Rows of one table rejected because the row they link to was: grouped under it, told once what to do. */
interface ParentGroup {
  reason: ParentRejected;
  children: RunReject[];
}

/** The rejected parent a reject is only about. */
function rejectedParentOf(reject: RunReject): ParentRejected | null {
  const only = reject.problems.length === 1 ? reject.problems[0]!.reason : undefined;
  return only?.code === 'parent_rejected' ? only : null;
}

const rejectReasons = (reject: RunReject) => reasonsText(reject.problems.map((problem) => problem.reason));

/**
 * A table's rejects grouped: the rows one rejected parent took along under it, and rows rejected
 * for the same reasons together, each group told once what to do; in row-id order of first rows.
 */
export function rejectGroups(
  table: Pick<TimedTableReport, 'rejects' | 'codaTable' | 'mappingFile'>,
): RowGroup<RunReject>[] {
  return groupBy(
    table.rejects,
    (reject) => {
      const found = rejectedParentOf(reject);
      return found
        ? `parent\u0000${found.parent.table}/${found.parent.rowId}/${found.column.column}`
        : `reasons\u0000${rejectReasons(reject)}`;
    },
    (rows) => {
      const found = rejectedParentOf(rows[0]!);
      if (found) {
        const group = { reason: found, children: rows };
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
function parentGroupHeadline(group: ParentGroup, table: Pick<TimedTableReport, 'codaTable'>): string {
  const { reason, children } = group;
  return `${plural(children.length, `${table.codaTable.name} row`)} rejected because ${reason.column.label} links to ${namedRow(reason.parent.rowName, reason.parent.table)}, which was rejected: ${reasonsText(reason.parentReasons)}`;
}

/** What to do about it, once for the group. */
function parentGroupAdvice(group: ParentGroup, table: Pick<TimedTableReport, 'mappingFile'>): string {
  const { parent, column, linkRequired } = group.reason;
  const fix = `fix that ${parent.table} row in Coda`;
  return linkRequired
    ? `To load them, ${fix} (${column.label} is required, so they cannot load without it).`
    : `To load them, ${fix}, or set \`links.rejected_parent: load_without_link\` in ${table.mappingFile} to load them with ${column.label} left empty.`;
}

/** The groups as report.json keeps them, beside the full list of rejects. */
export interface ParentGroupSummary {
  parent: LinkedRow & { linkRequired: boolean };
  /** The children's link column, as Coda names it. */
  column: string;
  children: { rowId: string; rowName: string; browserLink: string }[];
  why: string;
  whatToDo: string;
}

export function summarizeParentGroups(table: Omit<TimedTableReport, 'seconds'>): ParentGroupSummary[] {
  return rejectGroups(table).flatMap((group) => {
    const found = rejectedParentOf(group.items[0]!);
    return found
      ? [
          {
            parent: { ...found.parent, linkRequired: found.linkRequired },
            column: found.column.label,
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
