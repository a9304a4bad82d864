/**
 * Tables for the fixture doc, written as column specs and rows keyed by column handle; cells a
 * row leaves out are empty (""), as Coda sends empty cells.
 */
import type { PublicApiRowValue } from '../../src/extract/index.ts';
import type { FixtureCellValue, FixtureColumn, FixtureRow, FixtureTable } from './fixture-types.ts';
import { rowReference } from './rich-values.ts';
import { formatValue } from './value-formats.ts';

export interface TableSpec<K extends string> {
  id: string;
  name: string;
  createdAt: string;
  columns: Record<K, FixtureColumn>;
  rows: { id: string; values: Partial<Record<K, FixtureCellValue>> }[];
}

export interface DefinedTable<K extends string> extends FixtureTable {
  readonly rows: readonly FixtureRow[];
  readonly columnIds: Record<K, string>;
  /** A rich reference to one of this table's rows, named by its display column. */
  ref(rowId: string): PublicApiRowValue;
  /** A view showing some columns and the rows `where` keeps. */
  view(spec: {
    id: string;
    name: string;
    columns: K[];
    where: (values: Record<K, FixtureCellValue>) => boolean;
  }): FixtureTable;
}

const HOUR_MS = 3_600_000;

/** Rows are created a little over a day apart and edited a few days later: stable, plausible times. */
function rowTimes(tableCreatedAt: string, index: number): { createdAt: string; updatedAt: string } {
  const created = Date.parse(tableCreatedAt) + (index + 1) * 26.3 * HOUR_MS;
  return {
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created + ((index % 5) + 1) * 72 * HOUR_MS).toISOString(),
  };
}

function rowsTable(
  table: Omit<FixtureTable, 'rowCount' | 'rowAt'>,
  rows: readonly FixtureRow[],
): FixtureTable {
  return {
    ...table,
    rowCount: rows.length,
    rowAt: (index) => {
      const row = rows[index];
      if (!row) throw new RangeError(`${table.name} has no row ${index}`);
      return row;
    },
  };
}

export function tableDefiner(docId: string) {
  return function defineTable<K extends string>(spec: TableSpec<K>): DefinedTable<K> {
    const handles = Object.keys(spec.columns) as K[];
    const columns = handles.map((handle) => spec.columns[handle]);
    const columnIds = Object.fromEntries(
      handles.map((handle) => [handle, spec.columns[handle].id]),
    ) as Record<K, string>;
    const displayColumn = columns.find((column) => column.display);
    if (!displayColumn) throw new Error(`fixture table ${spec.name} has no display column`);
    const entries = spec.rows.map((row, index) => {
      const cells = Object.fromEntries(handles.map((handle) => [handle, row.values[handle] ?? ''])) as Record<
        K,
        FixtureCellValue
      >;
      const values = Object.fromEntries(handles.map((handle) => [columnIds[handle], cells[handle]]));
      return { cells, row: { id: row.id, ...rowTimes(spec.createdAt, index), values } satisfies FixtureRow };
    });
    const rows = entries.map((entry) => entry.row);
    const updatedAt = rows.reduce(
      // biome-ignore lint/complexity/useMathMinMax: ISO timestamps compare as strings; Math.max would turn them into NaN
      (latest, row) => (row.updatedAt > latest ? row.updatedAt : latest),
      spec.createdAt,
    );
    const base = { id: spec.id, name: spec.name, createdAt: spec.createdAt, updatedAt, columns };
    return {
      ...rowsTable({ ...base, tableType: 'table' }, rows),
      rows,
      columnIds,
      ref(rowId) {
        const row = rows.find((candidate) => candidate.id === rowId);
        if (!row) throw new Error(`fixture table ${spec.name} has no row ${rowId}`);
        return rowReference(
          docId,
          spec,
          rowId,
          String(formatValue(row.values[displayColumn.id] ?? '', 'simple')),
        );
      },
      view({ id, name, columns: shown, where }) {
        const shownIds = new Set(shown.map((handle) => columnIds[handle]));
        const visibleRows = entries
          .filter((entry) => where(entry.cells))
          .map(({ row }) => ({
            ...row,
            values: Object.fromEntries(
              Object.entries(row.values).filter(([columnId]) => shownIds.has(columnId)),
            ),
          }));
        const viewColumns = columns.filter((column) => shownIds.has(column.id));
        return rowsTable(
          { ...base, id, name, tableType: 'view', parentTableId: spec.id, columns: viewColumns },
          visibleRows,
        );
      },
    };
  };
}
