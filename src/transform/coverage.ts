/**
 * Coverage: what of the Coda doc a run leaves behind. Every column of a mapped table is loaded
 * (some column spec reads it with `from:`), declared skipped with a reason (`skip:`), or left
 * behind; every table of the doc is mapped, declared skipped (a skip file), or left behind.
 *
 * Left behind matters only where it holds data: the cells of a column are counted while the load
 * reads its rows (`CoverageCounter`), and a table no mapping names is judged by the row count of
 * the snapshot's manifest, without reading it. Pure: no database, no files; src/report words it.
 */
import type { CodaRow, SnapshotTable } from '../extract/index.ts';
import { isEmptyCell, stripCodeFence } from './convert.ts';
import type { MappingFolder } from './mapping-spec.ts';

/** A Coda table as the owner finds it: its name and its link. */
export interface CodaTableRef {
  id: string;
  name: string;
  browserLink: string;
}

/** One Coda column and what it holds: how many cells hold data, and the first few distinct values as text. */
export interface ColumnCells {
  id: string;
  label: string;
  cells: number;
  examples: string[];
}

export interface MappedTableCoverage {
  table: CodaTableRef;
  target: string;
  rows: number;
  /** Neither loaded nor skipped, and holding data: what the verdict is about. */
  leftBehind: ColumnCells[];
  /** Neither loaded nor skipped, but empty in every row: nothing is lost, they are only named. */
  empty: ColumnCells[];
  skipped: (ColumnCells & { reason: string })[];
}

export interface TableRows {
  table: CodaTableRef;
  rows: number;
}

export interface Coverage {
  /** Mapped tables whose rows were counted, in the doc's order. */
  mapped: MappedTableCoverage[];
  /** Tables of the doc that no mapping names and no skip file declares (left behind when they have rows). */
  unmapped: TableRows[];
  skipped: (TableRows & { reason: string })[];
}

/** One thing left behind: a column of a mapped table, or a whole table, that holds data. */
export type LeftBehind =
  | { kind: 'column'; table: CodaTableRef; target: string; column: ColumnCells }
  | { kind: 'table'; table: CodaTableRef; rows: number };

/** Examples kept per column. */
export const EXAMPLES_KEPT = 3;
const MIDNIGHT = /^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?(?:Z|[+-]\d{2}:\d{2})$/;
/** How long an example may get before it is cut. */
const EXAMPLE_LENGTH = 60;

/**
 * Whether a cell holds anything the owner entered: an empty or blank text, an empty list and an
 * unticked checkbox (Coda shows no difference between unticked and never ticked) hold nothing.
 */
export function holdsData(value: unknown): boolean {
  if (value === false) return false;
  if (Array.isArray(value)) return value.some(holdsData);
  return !isEmptyCell(value);
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXAMPLE_LENGTH ? `${flat.slice(0, EXAMPLE_LENGTH - 1)}…` : flat;
}

/** A cell as the owner reads it in Coda: text, a person's or a linked row's name, an amount with its currency. */
export function cellText(value: unknown): string {
  if (Array.isArray(value)) return value.filter(holdsData).map(cellText).join(', ');
  if (typeof value === 'string') {
    const text = stripCodeFence(value);
    // Coda sends a date as midnight in the doc's time zone; the owner sees the date.
    return shorten(MIDNIGHT.exec(text)?.[1] ?? text);
  }
  if (value === true) return 'ticked';
  if (typeof value !== 'object' || value === null) return String(value);
  const object = value as Record<string, unknown>;
  const text = (key: string) => (typeof object[key] === 'string' && object[key] ? object[key] : null);
  if (object['@type'] === 'MonetaryAmount')
    return [object.amount, text('currency')].filter((part) => part !== null && part !== undefined).join(' ');
  return shorten(text('name') ?? text('email') ?? text('url') ?? JSON.stringify(value));
}

interface Counted {
  cells: number;
  examples: string[];
}

const tableRef = (table: SnapshotTable): CodaTableRef => ({
  id: table.id,
  name: table.name,
  browserLink: table.browserLink,
});

/** Coda column ids a mapping reads. */
function loadedColumns(folder: MappingFolder, tableId: string): Set<string> | null {
  const mapping = folder.mappings.find((candidate) => candidate.spec.coda.table === tableId);
  if (!mapping) return null;
  return new Set(
    Object.values(mapping.spec.columns).flatMap((column) => (column.as === 'constant' ? [] : [column.from])),
  );
}

/**
 * Counts, while the load reads the rows, the cells of every column of a mapped table that is not
 * loaded: those left behind and those skipped. Each table is counted once, by the first reader
 * that asks (`rowCounter`), so a cutover's comparison pass after its load does not count again.
 */
export class CoverageCounter {
  private readonly counts = new Map<string, Map<string, Counted>>();
  private readonly counted = new Set<string>();

  constructor(
    private readonly tables: readonly SnapshotTable[],
    private readonly folder: MappingFolder,
  ) {
    for (const table of tables) {
      const loaded = loadedColumns(folder, table.id);
      if (!loaded) continue;
      const watched = table.columns.filter((column) => !loaded.has(column.id));
      if (watched.length)
        this.counts.set(table.id, new Map(watched.map((column) => [column.id, { cells: 0, examples: [] }])));
    }
  }

  /** Mapped tables with a column that is neither loaded nor skipped, whatever it holds. */
  tablesWithUndeclaredColumns(): string[] {
    return this.tables
      .filter((table) => {
        const skip = this.folder.mappings.find((mapping) => mapping.spec.coda.table === table.id)?.spec.skip;
        return skip && [...(this.counts.get(table.id)?.keys() ?? [])].some((id) => !(id in skip));
      })
      .map((table) => table.id);
  }

  /** What counts one row of the table, or null when the table has nothing to count or was counted. */
  rowCounter(tableId: string): ((row: CodaRow) => void) | null {
    const columns = this.counts.get(tableId);
    if (!columns || this.counted.has(tableId)) return null;
    this.counted.add(tableId);
    const watched = [...columns];
    return (row) => {
      for (const [id, counted] of watched) {
        const value = row.values[id];
        if (!holdsData(value)) continue;
        counted.cells += 1;
        if (counted.examples.length >= EXAMPLES_KEPT) continue;
        const text = cellText(value);
        if (!counted.examples.includes(text)) counted.examples.push(text);
      }
    };
  }

  /** The coverage of the tables counted so far, and of every table that is not mapped. */
  result(): Coverage {
    const coverage: Coverage = { mapped: [], unmapped: [], skipped: [] };
    for (const table of this.tables) {
      const mapping = this.folder.mappings.find((candidate) => candidate.spec.coda.table === table.id);
      const skippedTable = this.folder.skippedTables.find((candidate) => candidate.table.id === table.id);
      if (skippedTable) {
        coverage.skipped.push({ table: tableRef(table), rows: table.rowCount, reason: skippedTable.reason });
        continue;
      }
      if (!mapping) {
        coverage.unmapped.push({ table: tableRef(table), rows: table.rowCount });
        continue;
      }
      if (!this.counted.has(table.id) && this.counts.has(table.id)) continue;
      const entry: MappedTableCoverage = {
        table: tableRef(table),
        target: mapping.spec.target,
        rows: table.rowCount,
        leftBehind: [],
        empty: [],
        skipped: [],
      };
      for (const column of table.columns) {
        const counted = this.counts.get(table.id)?.get(column.id);
        if (!counted) continue;
        const cells: ColumnCells = { id: column.id, label: column.name, ...counted };
        const skip = mapping.spec.skip[column.id];
        if (skip) entry.skipped.push({ ...cells, reason: skip.reason });
        else if (cells.cells) entry.leftBehind.push(cells);
        else entry.empty.push(cells);
      }
      coverage.mapped.push(entry);
    }
    return coverage;
  }
}

/** Everything left behind that holds data, columns first, in the doc's order. */
export function leftBehind(coverage: Coverage): LeftBehind[] {
  return [
    ...coverage.mapped.flatMap((entry) =>
      entry.leftBehind.map(
        (column): LeftBehind => ({ kind: 'column', table: entry.table, target: entry.target, column }),
      ),
    ),
    ...coverage.unmapped
      .filter((entry) => entry.rows > 0)
      .map((entry): LeftBehind => ({ kind: 'table', table: entry.table, rows: entry.rows })),
  ];
}

/** How a left-behind item is keyed among accepted differences: the Coda table, and the column in it. */
export function leftBehindKey(item: LeftBehind): string {
  return item.kind === 'column' ? `${item.table.id}/${item.column.id}` : item.table.id;
}
