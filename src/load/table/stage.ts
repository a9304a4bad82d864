/**
 * Steps 1 and 2 in Postgres: the chunk's COPY into the arrival, and the arrival resolved into the
 * stage (links, people, each row's own erp row) in one pass; then the chunk's stage kept with the
 * table's staged rows.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import { quoteQualified } from '../../db/identifiers.ts';
import type { LoadContext } from '../core/context.ts';
import { copyInto } from '../core/copy.ts';
import { lineageWithRows, ownRowProbe } from '../core/lineage-sql.ts';
import type { ReferenceColumn, TableLoad } from '../core/load-plan.ts';
import {
  arrivalName,
  linkedRowsName,
  personRefsName,
  stagedRowsName,
  stageName,
} from '../core/temp-tables.ts';
import {
  linkedRowIdColumn,
  refColumn,
  rowReferences,
  STAGE_COLUMNS,
  targetSql,
  valueColumnsOf,
  type TableState,
} from './shape.ts';

const { escapeIdentifier: q } = pg;

export async function createArrival({ client }: LoadContext, load: TableLoad): Promise<void> {
  const arrival = q(arrivalName(load));
  const columns = valueColumnsOf(load).map(q).join(', ');
  // Same column types as the target, none of its constraints: constraints are checked in step 3.
  // Made once per table and emptied after each chunk: creating it cost more than the rows of a small chunk.
  await client.query(
    `CREATE TEMP TABLE ${arrival} ON COMMIT DROP AS SELECT ${columns} FROM ${targetSql(load)} WITH NO DATA`,
  );
  const extra = [
    `ADD COLUMN _coda_row_id text NOT NULL`,
    `ADD COLUMN _row_name text`,
    `ADD COLUMN _browser_link text`,
    `ADD COLUMN _content_hash text NOT NULL`,
    `ADD COLUMN _source_hash text NOT NULL`,
    // json, not jsonb: parsing a jsonb per link per row was a third of the COPY. The stage joins
    // row links on their own text column, and people on the json's text (see resolvePeople).
    ...load.references.map((reference) => `ADD COLUMN ${q(refColumn(reference.column))} json`),
    ...rowReferences(load).map((reference) => `ADD COLUMN ${q(linkedRowIdColumn(reference.column))} text`),
  ];
  await client.query(`ALTER TABLE ${arrival} ${extra.join(', ')}`);
}

export async function copyIntoArrival(
  context: LoadContext,
  load: TableLoad,
  copyText: string[],
): Promise<void> {
  const columns = [
    ...STAGE_COLUMNS,
    ...valueColumnsOf(load),
    ...load.references.map((reference) => refColumn(reference.column)),
    ...rowReferences(load).map((reference) => linkedRowIdColumn(reference.column)),
  ];
  await copyInto(context.client, arrivalName(load), columns, copyText);
}

/**
 * Step 2 in one pass: the stage is the arrival with every link resolved (through the lineage of
 * the linked table, or the people matched above) and each row's own erp row found through its
 * lineage (_target_id, NULL for a row to insert).
 */
export async function resolveIntoStage(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  { lineageHeld, idSequence, linkedRowTables }: TableState,
) {
  const joins: string[] = [];
  // Only the parameters the statement uses: Postgres cannot type one it does not see.
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const resolved = new Map<string, string>();
  for (const [index, reference] of load.references.entries()) {
    const alias = q(`link_${index}`);
    if (reference.kind === 'row') {
      joins.push(
        `LEFT JOIN ${q(linkedRowTables.get(reference) ?? '')} ${alias} ON ${alias}.coda_row_id = a.${q(linkedRowIdColumn(reference.column))}`,
      );
      resolved.set(reference.column, `${alias}.id`);
    } else {
      joins.push(
        `LEFT JOIN ${q(personRefsName(reference))} ${alias} ON ${alias}.ref_text = a.${q(refColumn(reference.column))}::text`,
      );
      resolved.set(reference.column, `${alias}.person_id`);
    }
  }
  // Each row's own erp row, through its lineage. A table the lineage held nothing of when its
  // load began has none: its rows are all new, and the join would only grow with every chunk.
  let ownRow = 'NULL::bigint';
  if (lineageHeld) {
    joins.push(
      `LEFT JOIN ${ownRowProbe('a._coda_row_id', targetSql(load), { doc: param(context.docId), codaTable: param(table.id), target: param(load.target.name) })} own
         ON true`,
    );
    ownRow = 'own.target_id';
  }
  const sequence = param(idSequence);
  const selected = [
    ...load.columns.map((column) => `${resolved.get(column) ?? `a.${q(column)}`} AS ${q(column)}`),
    ...STAGE_COLUMNS.map((column) => `a.${column}`),
    ...load.references.map((reference) => `a.${q(refColumn(reference.column))}`),
    `${ownRow} AS _target_id`,
    // A new row's id, drawn here so that inserting it into the target and into the lineage are
    // two plain reads of the stage. A row rejected by a later step leaves a gap in the ids.
    `CASE WHEN ${ownRow} IS NULL THEN nextval(${sequence}::regclass) END AS _new_id`,
  ];
  await context.client.query(
    `CREATE TEMP TABLE ${q(stageName(load))} ON COMMIT DROP AS
     SELECT ${selected.join(', ')}
       FROM ${q(arrivalName(load))} a
       ${joins.join('\n       ')}`,
    params,
  );
  // The arrival and the people lists have served: the next chunk fills the one and makes the others again.
  await context.client.query(`TRUNCATE ${q(arrivalName(load))}`);
  const peopleLists = load.references.filter((reference) => reference.kind === 'person').map(personRefsName);
  if (peopleLists.length) await context.client.query(`DROP TABLE ${peopleLists.map(q).join(', ')}`);
  // The key lets later steps join the stage by row id (a conflict, a changed row) whatever the
  // planner expects of it; a first chunk kept whole for a reconcile brings it along. A table
  // whose rows are all new is only read whole, chunk by chunk, and needs neither.
  if (lineageHeld || context.keepStagedValues) {
    await context.client.query(`ALTER TABLE ${q(stageName(load))} ADD PRIMARY KEY (_coda_row_id)`);
    await context.client.query(`ANALYZE ${q(stageName(load))} (_coda_row_id, _target_id)`);
  }
}

/**
 * The erp id of each Coda row that a link column may name, through the lineage (a row deleted in
 * erp since does not resolve), read once for the whole table: the linked tables loaded before it
 * (the load plan refuses self-links) and do not change while it loads, and reading them for every
 * chunk was half of each chunk's link resolution at 1M tasks.
 */
export async function tabulateLinkedRows(
  context: LoadContext,
  load: TableLoad,
): Promise<Map<ReferenceColumn, string>> {
  const tables = new Map<ReferenceColumn, string>();
  for (const [index, reference] of load.references.entries()) {
    if (reference.kind !== 'row') continue;
    const name = linkedRowsName(index);
    await context.client.query(
      `CREATE TEMP TABLE ${q(name)} ON COMMIT DROP AS
       SELECT l.coda_row_id, t.id FROM ${lineageWithRows(quoteQualified(reference.referencedTable))}`,
      [context.docId, reference.codaTable, reference.referencedTable],
    );
    await context.client.query(`ANALYZE ${q(name)}`);
    tables.set(reference, name);
  }
  return tables;
}

/** The sequence of the target's ids, looked up once per table: pg_get_serial_sequence per row is a catalog lookup per row. */
export async function idSequenceOf(context: LoadContext, load: TableLoad): Promise<string> {
  const { rows } = await context.client.query<{ sequence: string | null }>(
    `SELECT pg_get_serial_sequence($1, 'id') AS sequence`,
    [targetSql(load)],
  );
  const sequence = rows[0]?.sequence;
  if (!sequence) throw new Error(`${load.target.name} has no id sequence to number new rows with`);
  return sequence;
}

/** What later steps read of a staged row once its chunk is done (see keepStagedValues). */
const KEPT_STAGE_COLUMNS = ['_coda_row_id', '_row_name', '_browser_link', '_target_id'];

/**
 * The chunk's stage joins the rows staged so far. Once every chunk is in, they are the table's
 * stage again, for "gone from Coda", the list of inserted rows and a reconcile's totals.
 */
export async function keepStagedRows(context: LoadContext, load: TableLoad, first: boolean): Promise<void> {
  const stage = q(stageName(load));
  const staged = q(stagedRowsName(load));
  const kept = context.keepStagedValues ? '*' : KEPT_STAGE_COLUMNS.map(q).join(', ');
  if (first && context.keepStagedValues) {
    // The whole first chunk is kept: no copy.
    await context.client.query(`ALTER TABLE ${stage} RENAME TO ${staged}`);
    return;
  }
  await context.client.query(
    first
      ? `CREATE TEMP TABLE ${staged} ON COMMIT DROP AS SELECT ${kept} FROM ${stage}`
      : `INSERT INTO ${staged} SELECT ${kept} FROM ${stage}`,
  );
  await context.client.query(`DROP TABLE ${stage}`);
}
