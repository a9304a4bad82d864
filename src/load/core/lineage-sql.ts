/**
 * The lineage (pipeline.coda_lineage) ties each Coda row of a doc's table to the erp row it was
 * loaded into. Every query that reads a Coda table's erp rows through it takes its join from
 * here, so the keys it matches on are written once.
 */

/** SQL placeholders (or expressions) for the keys of one Coda table's lineage into one erp table. */
export interface LineageKeys {
  doc: string;
  codaTable: string;
  /** The erp table's qualified name as the lineage records it (erp.tasks), not quoted SQL. */
  target: string;
}

/** The keys as $1, $2 and $3: the parameters most of these queries start with. */
export const KEYS_AS_FIRST_PARAMETERS: LineageKeys = { doc: '$1', codaTable: '$2', target: '$3' };

/** A condition: the lineage row `l` is of that Coda table and that erp table. */
export function isLineageOf(keys: LineageKeys = KEYS_AS_FIRST_PARAMETERS): string {
  return `l.coda_doc_id = ${keys.doc} AND l.coda_table_id = ${keys.codaTable} AND l.target_table = ${keys.target}`;
}

/**
 * A join: the lineage rows `l` of the table with their erp rows `t` of `targetSql` (quoted); a
 * row deleted in erp since has none. Usable as a FROM item, or in parentheses as one side of a join.
 */
export function lineageWithRows(targetSql: string, keys: LineageKeys = KEYS_AS_FIRST_PARAMETERS): string {
  return `pipeline.coda_lineage l JOIN ${targetSql} t ON t.id = l.target_id AND ${isLineageOf(keys)}`;
}
