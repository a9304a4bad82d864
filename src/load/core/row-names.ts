/**
 * How an erp row is named when Postgres, not Coda, says its name (a linked row, a row gone from
 * Coda, a row no Coda row produced, a row an undo shows): one rule, here. Coda's own row names
 * travel with the rows the load reads and are shown by src/shared/names.ts.
 */
import pg from 'pg';
import { ROW_NAME_COLUMNS } from '../../catalog/target-tables.ts';

/**
 * SQL: the name in the JSON image `image` of an erp row, or NULL. `preferred` (SQL: a parameter
 * or a literal) is tried first: a load's first mapped column, which names the row in its mapping.
 */
export function rowNameSql(image: string, preferred?: string): string {
  return `coalesce(${[...(preferred ? [preferred] : []), ...ROW_NAME_COLUMNS.map(pg.escapeLiteral)]
    .map((key) => `${image} ->> ${key}`)
    .join(', ')})`;
}
