/**
 * What a doc's columns actually hold, read in one pass over a table's rows: how many cells hold
 * anything, how many hold several values (people, links), and for choice columns which choices
 * with how many rows each. Drafts pre-fill value maps from the choices, skip what is empty and
 * map several people onto one knowingly; `erp mappings check` lists the choices a map misses.
 */
import type { CodaSource } from '../extract/index.ts';
import { isEmptyCell, toTags, toText } from '../transform/convert.ts';

/** Coda column id -> choice -> rows holding it. */
export type ChoiceCounts = Map<string, Map<string, number>>;

interface ProfiledColumn {
  id: string;
  /** A select: single counts each cell as one choice, multiple (a multi-select) as several. */
  choice?: 'single' | 'multiple';
}

export interface ColumnProfile {
  /** Rows whose cell holds anything. */
  filled: number;
  /** Rows whose cell holds more than one value, such as two people. */
  several: number;
  /** For a select: choice -> rows holding it. */
  choices: Map<string, number>;
}

export async function profileColumns(
  source: CodaSource,
  tableId: string,
  columns: ProfiledColumn[],
): Promise<Map<string, ColumnProfile>> {
  const profiles = new Map(
    columns.map((column) => [column.id, { filled: 0, several: 0, choices: new Map<string, number>() }]),
  );
  if (!columns.length) return profiles;
  for await (const row of source.rows(tableId)) {
    for (const column of columns) {
      const cell = row.values[column.id];
      if (isEmptyCell(cell)) continue;
      const profile = profiles.get(column.id)!;
      profile.filled += 1;
      if (Array.isArray(cell) && cell.filter((item) => !isEmptyCell(item)).length > 1) profile.several += 1;
      if (!column.choice) continue;
      const converted = column.choice === 'multiple' ? toTags(cell) : toText(cell);
      if (!converted.ok || converted.value === null) continue;
      for (const choice of Array.isArray(converted.value) ? converted.value : [converted.value])
        profile.choices.set(choice, (profile.choices.get(choice) ?? 0) + 1);
    }
  }
  return profiles;
}

/** The choices the doc holds in some select columns, with how many rows hold each. */
export async function countChoices(
  source: CodaSource,
  tableId: string,
  columns: { id: string; multiple: boolean }[],
): Promise<ChoiceCounts> {
  const profiles = await profileColumns(
    source,
    tableId,
    columns.map(({ id, multiple }) => ({ id, choice: multiple ? 'multiple' : 'single' })),
  );
  return new Map([...profiles].map(([id, profile]) => [id, profile.choices]));
}

/** "In Progress" (3 rows), as a sentence part. */
export function describeChoice(choice: string, rows: number): string {
  return `"${choice}" (${rows} ${rows === 1 ? 'row' : 'rows'})`;
}
