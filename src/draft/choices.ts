/**
 * The values a doc actually holds in its choice columns, with how many rows hold each: drafts
 * pre-fill select value maps from them, and `erp mappings check` lists the ones a map misses.
 */
import type { CodaSource } from '../extract/index.ts';
import { toTags, toText } from '../transform/convert.ts';

/** Coda column id -> choice -> rows holding it. */
export type ChoiceCounts = Map<string, Map<string, number>>;

interface ChoiceColumn {
  id: string;
  /** A multi-select: each cell holds several choices. */
  multiple: boolean;
}

export async function countChoices(
  source: CodaSource,
  tableId: string,
  columns: ChoiceColumn[],
): Promise<ChoiceCounts> {
  const counts: ChoiceCounts = new Map(columns.map((column) => [column.id, new Map()]));
  if (!columns.length) return counts;
  for await (const row of source.rows(tableId)) {
    for (const column of columns) {
      const cell = row.values[column.id];
      const converted = column.multiple ? toTags(cell) : toText(cell);
      if (!converted.ok || converted.value === null) continue;
      const tally = counts.get(column.id)!;
      for (const choice of Array.isArray(converted.value) ? converted.value : [converted.value])
        tally.set(choice, (tally.get(choice) ?? 0) + 1);
    }
  }
  return counts;
}

/** "In Progress" (3 rows), as a sentence part. */
export function describeChoice(choice: string, rows: number): string {
  return `"${choice}" (${rows} ${rows === 1 ? 'row' : 'rows'})`;
}
