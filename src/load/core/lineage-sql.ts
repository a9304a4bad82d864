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
const KEYS_AS_FIRST_PARAMETERS: LineageKeys = { doc: '$1', codaTable: '$2', target: '$3' };

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

/*
 * A chunk's statements reach the lineage and the erp table through these probes rather than
 * through joins. Joined, a chunk of a few thousand rows lets the planner read the table's whole
 * lineage into a hash, or all of the erp table up to the chunk's last id in a merge join: fine
 * once, but a load runs them for every chunk, so a plan of a table whose rows changed cost the
 * square of its size (155 s for 10% changed at 1M tasks). A LATERAL subquery with LIMIT or OFFSET
 * is never flattened into a join: it is one index lookup per row of the chunk, whatever the sizes.
 */

/** A LATERAL item: `target_id`, the erp row the Coda row `rowIdSql` was loaded into and that still exists. */
export function ownRowProbe(
  rowIdSql: string,
  targetSql: string,
  keys: LineageKeys = KEYS_AS_FIRST_PARAMETERS,
): string {
  return `LATERAL (SELECT t.id AS target_id FROM ${lineageWithRows(targetSql, keys)} WHERE l.coda_row_id = ${rowIdSql} LIMIT 1)`;
}

/** A LATERAL item: the lineage row `l` of the Coda row `rowIdSql`, whether or not its erp row still exists. */
export function lineageRowProbe(rowIdSql: string, keys: LineageKeys = KEYS_AS_FIRST_PARAMETERS): string {
  return `LATERAL (SELECT l.* FROM pipeline.coda_lineage l WHERE ${isLineageOf(keys)} AND l.coda_row_id = ${rowIdSql} LIMIT 1)`;
}

/** A LATERAL item: the row of `targetSql` whose id is `idSql`, every column. */
export function rowByIdProbe(targetSql: string, idSql: string): string {
  return `LATERAL (SELECT * FROM ${targetSql} t WHERE t.id = ${idSql} LIMIT 1)`;
}
