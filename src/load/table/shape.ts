/**
 * What a table's load looks like in SQL: the columns its arrival and stage carry beside the
 * target's, the target itself, and what every chunk of it shares.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import { quoteQualified } from '../../db/identifiers.ts';
import { codaColumnLabel } from '../../transform/column-labels.ts';
import type { ReferenceColumn, TableLoad } from '../core/load-plan.ts';

const { escapeIdentifier: q } = pg;

/** The Coda side of every staged row: its id, name, link and hashes. */
export const STAGE_COLUMNS = [
  '_coda_row_id',
  '_row_name',
  '_browser_link',
  '_content_hash',
  '_source_hash',
] as const;
/** A link's cell as Coda names it (JSON), beside the column that receives the resolved id. */
export const refColumn = (column: string) => `_ref_${column}`;
/** The linked Coda row's id of a row link, as plain text in the arrival: the stage joins on it. */
export const linkedRowIdColumn = (column: string) => `_linked_row_${column}`;
export const rowReferences = (load: TableLoad) =>
  load.references.filter((reference) => reference.kind === 'row');

/** The target table, quoted for SQL. */
export function targetSql(load: TableLoad): string {
  return quoteQualified(load.target.name);
}

/** Mapped columns that hold a converted value, not a link. */
export function valueColumnsOf(load: TableLoad): string[] {
  return load.columns.filter((column) => !load.references.some((reference) => reference.column === column));
}

export function isRequired(load: TableLoad, column: string): boolean {
  const spec = load.mapping.spec.columns[column];
  return spec !== undefined && spec.as !== 'constant' && spec.required;
}

/** The Coda column's name as the doc has it now (transform/column-labels.ts). */
export function labelOf(load: TableLoad, table: TableContext['table'], column: string): string {
  return codaColumnLabel(load.mapping, column, table.columns);
}

/** What every chunk of a table's load shares, found once before the first. */
export interface TableState {
  /** Whether the lineage held any row of the table when its load began (else every row is new). */
  lineageHeld: boolean;
  /** The sequence that numbers the target's new rows. */
  idSequence: string;
  /** The temporary tables of linked rows read once for the table (see tabulateLinkedRows), by link. */
  linkedRowTables: Map<ReferenceColumn, string>;
}

/** A link still to resolve: the column is empty, the cell named something. */
export function unresolvedIn(reference: ReferenceColumn): string {
  return `(${q(reference.column)} IS NULL AND ${q(refColumn(reference.column))} IS NOT NULL)`;
}
