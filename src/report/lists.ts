/**
 * What every list in every report form shares: counts in words, the cap on rows shown, grouping
 * rows that share a cause, and which links may be shown.
 */
import type { Difference } from '../load/reconcile/types.ts';
import type { ListedRows } from '../shared/spooled-list.ts';

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function acceptedBy(item: Difference): string {
  return `accepted by cutover run ${item.acceptedByRun}`;
}

/** Only https links go into a report: Coda's own; anything else is shown as text. */
export function safeLink(url: string): string | null {
  return /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null;
}

/** Rows listed per kind in Markdown and HTML; report.json holds them all. */
export const LIST_LIMIT = 300;

/** The first `limit` items, and how many more there are. */
export function capped<T>(items: ListedRows<T>, limit = LIST_LIMIT): { shown: readonly T[]; more: number } {
  return { shown: items.slice(0, limit), more: Math.max(0, items.length - limit) };
}

export function moreLine(more: number): string {
  return `… and ${more} more (all of them are in report.json)`;
}

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
export function groupBy<T>(
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
