/**
 * Loading one table, inside the caller's transaction:
 *
 *   1. stage: COPY the transformed rows into a temporary table shaped like the target;
 *   2. resolve: linked rows through the lineage map, people by email then exact name, and each
 *      row's own erp row, all in ONE pass that writes the stage the later steps read (updating
 *      the stage once per link would rewrite every row of it each time);
 *   3. check: rows that would break one of the target's CHECK constraints become rejects
 *      (evaluated with the constraint's own expression from the catalog), so one bad row does
 *      not abort the whole load;
 *   4. upsert, keyed by Coda lineage (not by name): rows whose values differ are updated, new
 *      rows are inserted, unchanged rows are not touched (their updated_at stays put);
 *   5. lineage: every loaded row's Coda doc, table, row, link and content hash.
 *
 * Steps 1-5 run a chunk of rows at a time (DEFAULT_CHUNK_ROWS), the next chunk transformed by
 * Node while Postgres works on this one. Then, once for the table: the rows inserted and changed
 * are listed in row-id order, and the rows gone from Coda are found.
 *
 * Every name in the SQL comes from the catalog (see load-plan.ts) and is quoted.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CodaRow, CodaSource } from '../extract/index.ts';
import {
  transformTable,
  type Reference,
  type Reject,
  type RejectedParent,
  type TableContext,
  type TargetRow,
} from '../transform/transform.ts';
import { settleConflicts, type Conflict, type ConflictChoices } from './conflicts.ts';
import { encodeCopyField, encodeCopyRow } from './copy-encoding.ts';
import { forEachBatch } from './cursor-batches.ts';
import { deferKeysOfEmptyTable } from './deferred-keys.ts';
import { PEOPLE_TABLE, type ReferenceColumn, type TableLoad } from './load-plan.ts';
import { appendAll } from '../shared/append.ts';
import { hasName, namedRow, personTitle } from '../shared/names.ts';
import { collectGarbage } from '../shared/collect-garbage.ts';
import { SpooledList } from '../shared/spooled-list.ts';
import { findUnchangedRows, sourceFingerprint, sourceHash, type UnchangedRows } from './unchanged-rows.ts';
import type { CoverageCounter } from '../transform/coverage.ts';

const { escapeIdentifier: q } = pg;

export interface FieldChange {
  column: string;
  before: unknown;
  after: unknown;
  /** For a link: the names of the rows it pointed at and points at now (ids mean nothing to the owner). */
  linked?: { before: string | null; after: string | null };
}

export interface RowSummary {
  rowId: string;
  rowName: string;
  browserLink: string;
}

export interface UnresolvedReference extends RowSummary {
  column: string;
  label: string;
  reason: string;
  /** Left empty because the linked row was rejected in this run (links.rejected_parent: load_without_link). */
  parentRejected: boolean;
}

/** A row rejected earlier in the run, by `codaTableId/rowId`: its children name it, link to it and give its reasons. */
type RejectedRows = Map<string, Omit<RejectedParent, 'linkRequired'>>;

export type UpdatedRow = RowSummary & { changes: FieldChange[] };
export type GoneRow = RowSummary & { targetId: string };

/**
 * What loading one table did. The lists that can be as long as the table (inserted, updated,
 * gone) are spooled to disk past their first rows, in row-id order (byte order, which is
 * code-unit order for Coda's ASCII row ids).
 */
export interface TableLoadReport {
  mappingFile: string;
  codaTable: { id: string; name: string };
  target: string;
  read: number;
  inserted: SpooledList<RowSummary>;
  updated: SpooledList<UpdatedRow>;
  unchanged: number;
  rejects: Reject[];
  /**
   * Optional links that could not be resolved and were loaded as NULL, and the people a column
   * that keeps one left out of a cell naming several (multiple: first).
   */
  unresolved: UnresolvedReference[];
  /** Rows loaded by earlier runs whose Coda row is gone from the table now (never deleted). */
  goneFromCoda: SpooledList<GoneRow>;
  peopleCreated: number;
  /** Fields edited in Postgres since the last load that this load would change. */
  conflicts: Conflict[];
}

export interface LoadContext {
  client: pg.ClientBase;
  docId: string;
  runId: string;
  /**
   * The pass a cutover commits: it records every row it saw in the lineage (last_run_id). A plan
   * or reconcile pass is rolled back, so it records only the rows it inserts, which later tables'
   * links resolve through.
   */
  committing: boolean;
  /** Which side wins where a row edited in Postgres would be changed by the load (conflicts.ts). */
  conflictChoices?: ConflictChoices;
  /** Filled as tables load, parents first. */
  rejectedRows: RejectedRows;
  /** A plan skips rows unchanged since the last committed load (see unchanged-rows.ts); a cutover or reconcile reads every row. */
  skipUnchanged: boolean;
  chunkRows: ChunkRows;
  /**
   * A reconcile's totals read the converted values of every staged row once the table is loaded;
   * otherwise only each row's id, name, link and erp row are kept past its chunk.
   */
  keepStagedValues: boolean;
  /** When the lineage's statistics were last refreshed in this run (see refreshLineageStatistics). */
  lineageStatistics: LineageStatistics;
  /** Counts the cells of the columns no mapping loads as the rows go by (transform/coverage.ts). */
  coverage?: CoverageCounter;
}

interface LineageStatistics {
  /** false until the run's first table: what it finds may be a rolled-back plan's statistics. */
  refreshed: boolean;
  rowsWhenRefreshed: number;
  insertedSince: number;
}

export const freshLineageStatistics = (): LineageStatistics => ({
  refreshed: false,
  rowsWhenRefreshed: 0,
  insertedSince: 0,
});

const STAGE_COLUMNS = [
  '_coda_row_id',
  '_row_name',
  '_browser_link',
  '_content_hash',
  '_source_hash',
] as const;
const refColumn = (column: string) => `_ref_${column}`;
/** The linked Coda row's id of a row link, as plain text in the arrival: the stage joins on it. */
const linkedRowIdColumn = (column: string) => `_linked_row_${column}`;
const rowReferences = (load: TableLoad) => load.references.filter((reference) => reference.kind === 'row');
/** Only the columns loads join on: statistics of every column cost seconds at 100k rows, on every table. */
const ANALYZE_LINEAGE_KEYS =
  'ANALYZE pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id)';
/** Inserting fewer rows than this leaves the planner's picture of a table about right. */
const REFRESH_STATISTICS_AFTER_ROWS = 1_000;
/** About 64 k characters of COPY text per write. */
const COPY_CHUNK_CHARACTERS = 64 * 1024;

/** The session's temporary staging table of one load; it lives until the transaction ends. */
export function stageName(load: TableLoad): string {
  return `stage_${load.target.table}`;
}

export function targetSql(load: TableLoad): string {
  return `${q(load.target.schema)}.${q(load.target.table)}`;
}

/** Where COPY writes the transformed rows, before step 2 resolves them into the stage. */
function arrivalName(load: TableLoad): string {
  return `arrival_${load.target.table}`;
}

/** The distinct people of one Person column, while they are resolved. */
function personRefsName(reference: ReferenceColumn): string {
  return `person_refs_${reference.column}`;
}

async function createArrival({ client }: LoadContext, load: TableLoad): Promise<void> {
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

/** Mapped columns that hold a converted value, not a link. */
function valueColumnsOf(load: TableLoad): string[] {
  return load.columns.filter((column) => !load.references.some((reference) => reference.column === column));
}

/** The transformed rows of one chunk, as COPY text, with the rows read and rejected to get them. */
interface TransformedChunk {
  copyText: string[];
  read: number;
  rejects: Reject[];
  /** The distinct people of each Person column, as the JSON text the arrival holds. */
  people: Map<string, Set<string>>;
  /** Cells of the chunk's rows loaded in part (several people, one kept), as links left out. */
  leftOut: UnresolvedReference[];
}

/**
 * The table's rows, transformed and encoded for COPY, a chunk at a time, except the unchanged rows
 * a plan skips. Always at least one chunk, empty for an empty table, so every table is staged.
 */
async function* transformedChunks(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  source: CodaSource,
  unchanged: UnchangedRows | null,
): AsyncGenerator<TransformedChunk> {
  const valueColumns = valueColumnsOf(load);
  const types = valueColumns.map((column) => load.target.columns.get(column)?.type ?? 'text');

  // The transform gives one result per row, in order: each row's source hash waits here for it.
  const fingerprint = sourceFingerprint(load.mapping);
  const sourceHashes: string[] = [];
  // A row a plan skips still holds what no mapping loads: it is parsed only when there is such a column.
  const countCells = context.coverage?.rowCounter(table.id) ?? null;
  async function* rowsToTransform(): AsyncGenerator<CodaRow> {
    if (unchanged?.all && !countCells) return;
    let position = 0;
    for await (const entry of source.entries(table.id)) {
      if (unchanged?.has(position++)) {
        countCells?.(entry.row());
        continue;
      }
      sourceHashes.push(sourceHash(fingerprint, entry.text));
      const row = entry.row();
      countCells?.(row);
      yield row;
    }
  }
  const encode = (row: TargetRow, rowSourceHash: string): string => {
    const byColumn = new Map<string, Reference>(
      row.references.map((reference) => [reference.column, reference]),
    );
    return encodeCopyRow([
      encodeCopyField(row.source.rowId, 'text'),
      encodeCopyField(row.source.rowName, 'text'),
      encodeCopyField(row.source.browserLink, 'text'),
      encodeCopyField(row.contentHash, 'text'),
      encodeCopyField(rowSourceHash, 'text'),
      ...valueColumns.map((column, index) =>
        encodeCopyField(row.values[column] ?? null, types[index] ?? 'text'),
      ),
      ...load.references.map((reference) => {
        const ref = byColumn.get(reference.column);
        if (ref?.kind !== 'person') return encodeCopyField(ref?.ref ?? null, 'json');
        const text = JSON.stringify(ref.ref);
        chunk.people.get(reference.column)?.add(text);
        return encodeCopyField(text, 'json');
      }),
      ...rowReferences(load).map((reference) => {
        const linked = byColumn.get(reference.column);
        return encodeCopyField(linked?.kind === 'row' ? linked.ref.rowId : null, 'text');
      }),
    ]);
  };
  const newChunk = (): TransformedChunk => ({
    copyText: [],
    read: 0,
    rejects: [],
    leftOut: [],
    people: new Map(
      load.references
        .filter((reference) => reference.kind === 'person')
        .map((reference) => [reference.column, new Set<string>()]),
    ),
  });
  let chunk = newChunk();
  let piece = '';
  let chunksYielded = 0;
  const transformContext = { mapping: load.mapping, docId: context.docId, table };
  for await (const result of transformTable(transformContext, rowsToTransform())) {
    chunk.read += 1;
    const rowSourceHash = sourceHashes.shift()!;
    if ('reject' in result) chunk.rejects.push(result.reject);
    else {
      // Lines go out in pieces of many rows: a write (and a COPY message) per row costs more than the row.
      piece += encode(result.row, rowSourceHash);
      const { source: row, notes } = result.row;
      for (const note of notes)
        chunk.leftOut.push({
          rowId: row.rowId,
          rowName: row.rowName,
          browserLink: row.browserLink,
          column: note.column,
          label: note.codaColumn,
          reason: note.reason,
          parentRejected: false,
        });
      if (piece.length >= COPY_CHUNK_CHARACTERS) {
        chunk.copyText.push(piece);
        piece = '';
      }
    }
    if (chunk.read >= Math.min(context.chunkRows.largest, context.chunkRows.first * 2 ** chunksYielded)) {
      if (piece) chunk.copyText.push(piece);
      piece = '';
      yield chunk;
      chunksYielded += 1;
      chunk = newChunk();
    }
  }
  if (piece) chunk.copyText.push(piece);
  if (chunk.read || !chunksYielded) yield chunk;
}

/**
 * Rows per chunk: Node transforms the next chunk while Postgres resolves, checks and inserts this
 * one, so a table of several chunks keeps both busy. The first chunk is small, since nothing
 * overlaps its transform; then they double. A chunk costs a few fixed statements (statistics,
 * the stage's key), hence not too small; and its COPY text is held in memory, hence not too large.
 */
export interface ChunkRows {
  first: number;
  largest: number;
}

export const DEFAULT_CHUNK_ROWS: ChunkRows = { first: 2_000, largest: 25_000 };
/** Smaller chunks leave too little garbage to be worth a full collection (see collect-garbage.ts). */
const GARBAGE_COLLECTION_AFTER_ROWS = 10_000;

/** The next chunk is transformed while the caller works on this one (awaiting Postgres). */
async function* transformedAhead<T>(chunks: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = chunks.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = chunks.next();
      // A failed read of the next chunk is reported when the loop reaches it, not as unhandled.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    // When the load stops early, the chunk under way finishes and the snapshot's files are closed.
    await chunks.return(undefined);
  }
}

async function copyIntoArrival(context: LoadContext, load: TableLoad, copyText: string[]): Promise<void> {
  const copyColumns = [
    ...STAGE_COLUMNS,
    ...valueColumnsOf(load),
    ...load.references.map((reference) => refColumn(reference.column)),
    ...rowReferences(load).map((reference) => linkedRowIdColumn(reference.column)),
  ];
  const copy = context.client.query(
    copyFrom(`COPY ${q(arrivalName(load))} (${copyColumns.map(q).join(', ')}) FROM STDIN`),
  );
  await pipeline(Readable.from(copyText), copy);
}

/**
 * Autovacuum never analyses temporary tables, and cannot see what this transaction wrote to the
 * lineage (after a plan rolled back, it even takes the lineage for empty). With such counts the
 * planner joins the stage and the lineage in nested loops, which at 100k rows turns resolving one
 * link column into minutes. The stage's key column is enough to record the stage's row count.
 * A table whose rows are all new joins its chunks only to the linked rows read before the first:
 * what its first chunk measured holds for the rest (the planner scales row counts by the pages a
 * table has now).
 */
async function analyzeArrival(
  context: LoadContext,
  load: TableLoad,
  { lineageHeld }: TableState,
  firstChunk: boolean,
): Promise<void> {
  if (firstChunk || lineageHeld) await context.client.query(`ANALYZE ${q(arrivalName(load))} (_coda_row_id)`);
}

/**
 * The lineage's statistics, refreshed once it has grown by half since they were taken (or by
 * REFRESH_STATISTICS_AFTER_ROWS, when small): estimates within that much keep the planner's joins
 * right, and analysing it after every chunk cost half a second per 100k rows.
 */
async function refreshLineageStatistics(context: LoadContext, inserted: number): Promise<void> {
  const statistics = context.lineageStatistics;
  statistics.insertedSince += inserted;
  const grownEnough =
    statistics.insertedSince >= Math.max(REFRESH_STATISTICS_AFTER_ROWS, statistics.rowsWhenRefreshed / 2);
  if (statistics.refreshed && !grownEnough) return;
  await context.client.query(ANALYZE_LINEAGE_KEYS);
  const { rows } = await context.client.query<{ rows: number }>(
    `SELECT greatest(reltuples, 0)::float8 AS rows FROM pg_class WHERE oid = 'pipeline.coda_lineage'::regclass`,
  );
  statistics.rowsWhenRefreshed = rows[0]?.rows ?? 0;
  statistics.insertedSince = 0;
  statistics.refreshed = true;
}

interface StagedRowProblem extends RowSummary {
  column: string;
  label: string;
  value: unknown;
  reason: string;
  rejectedParent?: RejectedParent;
  /** The staged row as JSON: what did convert, for the row's share of Coda's totals. */
  staged: Record<string, unknown>;
}

/** The converted values and link names of a staged row, as a reject carries them. */
function stagedParts(load: TableLoad, staged: Record<string, unknown>): Pick<Reject, 'values' | 'links'> {
  const values: NonNullable<Reject['values']> = {};
  const links: NonNullable<Reject['links']> = {};
  for (const column of load.columns) {
    const reference = load.references.find((candidate) => candidate.column === column);
    if (reference) {
      const name = (staged[refColumn(column)] as { name?: string } | null)?.name;
      if (name !== undefined) links[column] = name;
    } else {
      const value = staged[column];
      values[column] =
        value === null || value === undefined
          ? null
          : Array.isArray(value) || typeof value === 'boolean'
            ? (value as string[] | boolean)
            : String(value);
    }
  }
  return { values, links };
}

function problemReject(
  load: TableLoad,
  table: TableContext['table'],
  docId: string,
  problems: StagedRowProblem[],
): Reject[] {
  const byRow = new Map<string, Reject>();
  for (const problem of problems) {
    const reject = byRow.get(problem.rowId) ?? {
      ...stagedParts(load, problem.staged),
      source: {
        docId,
        tableId: table.id,
        tableName: table.name,
        rowId: problem.rowId,
        rowName: problem.rowName,
        browserLink: problem.browserLink,
      },
      problems: [],
    };
    reject.problems.push({
      column: problem.column,
      codaColumn: problem.label,
      value: problem.value,
      reason: problem.reason,
      ...(problem.rejectedParent ? { rejectedParent: problem.rejectedParent } : {}),
    });
    byRow.set(problem.rowId, reject);
  }
  return [...byRow.values()];
}

function isRequired(load: TableLoad, column: string): boolean {
  const spec = load.mapping.spec.columns[column];
  return spec !== undefined && spec.as !== 'constant' && spec.required;
}

/** The Coda column's name as the doc has it now, else as the mapping remembers it. */
function labelOf(load: TableLoad, table: TableContext['table'], column: string): string {
  const spec = load.mapping.spec.columns[column];
  if (!spec || spec.as === 'constant') return column;
  return table.columns.find((candidate) => candidate.id === spec.from)?.name ?? spec.label ?? spec.from;
}

/**
 * Person cells, resolved once per distinct person rather than once per row: a table of 100k tasks
 * names a few dozen people. The distinct values go into their own table, are matched there (by
 * email, then by exact name when exactly one person has it and no email says otherwise), and
 * unknown ones are created when the mapping says so; resolveIntoStage joins them to the rows.
 */
async function resolvePeople(
  context: LoadContext,
  reference: ReferenceColumn,
  people: Set<string>,
  createUnknown: boolean,
): Promise<number> {
  const refs = q(personRefsName(reference));
  // The chunk's distinct people come from Node, which wrote them, as the very text the arrival
  // holds (the stage joins on it): no pass over the arrival to find them.
  await context.client.query(
    `CREATE TEMP TABLE ${refs} ON COMMIT DROP AS
     SELECT ref_text, ref_text::jsonb AS ref, NULL::bigint AS person_id FROM unnest($1::text[]) AS ref_text`,
    [[...people]],
  );
  const match = async () => {
    await context.client.query(
      `UPDATE ${refs} r SET person_id = p.id FROM erp.people p
        WHERE r.person_id IS NULL AND r.ref ->> 'email' IS NOT NULL AND lower(p.email) = lower(r.ref ->> 'email')`,
    );
    await context.client.query(
      `UPDATE ${refs} r SET person_id = m.id
         FROM (SELECT full_name, min(id) AS id, min(email) AS email FROM erp.people GROUP BY full_name HAVING count(*) = 1) m
        WHERE r.person_id IS NULL AND m.full_name = r.ref ->> 'name' AND (r.ref ->> 'email' IS NULL OR m.email IS NULL)`,
    );
  };
  await match();
  const created = createUnknown ? await createPeople(context, refs) : 0;
  // Only people just created can match now.
  if (created) await match();
  return created;
}

/**
 * Step 2 in one pass: the stage is the arrival with every link resolved (through the lineage of
 * the linked table, or the people matched above) and each row's own erp row found through its
 * lineage (_target_id, NULL for a row to insert).
 */
async function resolveIntoStage(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  { lineageHeld, idSequence, linkedRowTables }: TableState,
) {
  const joins: string[] = [];
  // Only the parameters the statement uses: Postgres cannot type one it does not see.
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  let docId: string | undefined;
  const docIdParam = () => {
    docId ??= param(context.docId);
    return docId;
  };
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
      `LEFT JOIN (SELECT l.coda_row_id, t.id AS target_id FROM pipeline.coda_lineage l JOIN ${targetSql(load)} t ON t.id = l.target_id
                   WHERE l.coda_doc_id = ${docIdParam()} AND l.coda_table_id = ${param(table.id)} AND l.target_table = ${param(load.target.name)}) own
         ON own.coda_row_id = a._coda_row_id`,
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
async function tabulateLinkedRows(
  context: LoadContext,
  load: TableLoad,
): Promise<Map<ReferenceColumn, string>> {
  const tables = new Map<ReferenceColumn, string>();
  for (const [index, reference] of load.references.entries()) {
    if (reference.kind !== 'row') continue;
    const name = `linked_rows_${index}`;
    const [schema = '', linked = ''] = reference.referencedTable.split('.');
    await context.client.query(
      `CREATE TEMP TABLE ${q(name)} ON COMMIT DROP AS
       SELECT l.coda_row_id, t.id FROM pipeline.coda_lineage l JOIN ${q(schema)}.${q(linked)} t ON t.id = l.target_id
        WHERE l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3`,
      [context.docId, reference.codaTable, reference.referencedTable],
    );
    await context.client.query(`ANALYZE ${q(name)}`);
    tables.set(reference, name);
  }
  return tables;
}

/** The sequence of the target's ids, looked up once per table: pg_get_serial_sequence per row is a catalog lookup per row. */
async function idSequenceOf(context: LoadContext, load: TableLoad): Promise<string> {
  const { rows } = await context.client.query<{ sequence: string | null }>(
    `SELECT pg_get_serial_sequence($1, 'id') AS sequence`,
    [targetSql(load)],
  );
  const sequence = rows[0]?.sequence;
  if (!sequence) throw new Error(`${load.target.name} has no id sequence to number new rows with`);
  return sequence;
}

/** People named in Person cells and found nowhere, added to erp.people with their lineage. */
async function createPeople(context: LoadContext, refs: string): Promise<number> {
  const created = await context.client.query<{ id: string }>(
    `INSERT INTO erp.people (full_name, email)
     SELECT DISTINCT ON (coalesce(lower(ref ->> 'email'), ref ->> 'name')) ref ->> 'name', ref ->> 'email'
       FROM ${refs}
      WHERE person_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM erp.people p WHERE p.full_name = ref ->> 'name' AND (ref ->> 'email' IS NULL OR p.email IS NULL))
     RETURNING id`,
  );
  if (!created.rowCount) return 0;
  await context.client.query(
    `INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, content_hash, first_run_id, last_run_id)
     SELECT $1, 'person-values', coalesce(lower(p.email), 'name:' || p.full_name), $2, p.id, md5(p.full_name || coalesce(p.email, '')), $3, $3
       FROM unnest($4::bigint[]) AS created(id) JOIN erp.people p USING (id)
     ON CONFLICT (coda_doc_id, coda_table_id, coda_row_id) DO UPDATE SET target_id = EXCLUDED.target_id, last_run_id = EXCLUDED.last_run_id`,
    [context.docId, PEOPLE_TABLE, context.runId, created.rows.map((row) => row.id)],
  );
  return created.rowCount;
}

/**
 * Links that did not resolve: they reject their row, or stay NULL and are listed. A link to a row
 * rejected earlier in this run rejects its row too, naming the parent and why, unless the mapping
 * says to load such rows without the link (never for a required link). One scan of the stage finds
 * the rows of every link column; a row rejected for one column is not reported for the next.
 */
async function settleUnresolved(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  rejectsUnresolved: Map<ReferenceColumn, boolean>,
): Promise<{ rejected: StagedRowProblem[]; leftEmpty: UnresolvedReference[] }> {
  const rejected: StagedRowProblem[] = [];
  const leftEmpty: UnresolvedReference[] = [];
  if (!rejectsUnresolved.size) return { rejected, leftEmpty };
  const stage = q(stageName(load));
  const references = [...rejectsUnresolved.keys()];
  const unresolvedIn = (reference: ReferenceColumn) =>
    `(${q(reference.column)} IS NULL AND ${q(refColumn(reference.column))} IS NOT NULL)`;
  type Ref = { name: string; email?: string | null; rowId?: string };
  const { rows } = await context.client.query<{
    row_id: string;
    row_name: string;
    browser_link: string;
    refs: (Ref | null)[];
    staged: Record<string, unknown>;
  }>(
    `SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link, to_jsonb(s) AS staged,
            json_build_array(${references.map((reference) => `CASE WHEN ${unresolvedIn(reference)} THEN ${q(refColumn(reference.column))} END`).join(', ')}) AS refs
       FROM ${stage} s WHERE ${references.map(unresolvedIn).join(' OR ')} ORDER BY _coda_row_id`,
  );
  const rejectedRows = new Set<string>();
  for (const [index, reference] of references.entries()) {
    const label = labelOf(load, table, reference.column);
    const loadWithoutLink =
      !isRequired(load, reference.column) && load.mapping.spec.links.rejected_parent === 'load_without_link';
    for (const row of rows) {
      const ref = row.refs[index];
      if (!ref || rejectedRows.has(row.row_id)) continue;
      const parent =
        reference.kind === 'row'
          ? context.rejectedRows.get(`${reference.codaTable}/${ref.rowId}`)
          : undefined;
      const summary = { rowId: row.row_id, rowName: row.row_name, browserLink: row.browser_link };
      const reason = parent
        ? `${label} links to ${namedRow(parent.rowName, parent.table)}${parent.browserLink ? ` (${parent.browserLink})` : ''}, which was rejected in this run (${parent.reasons.join('; ')})${loadWithoutLink ? '; loaded without the link, as the mapping says (links.rejected_parent)' : ''}`
        : reference.kind === 'row'
          ? `${label} links to "${ref.name}", which is not in the database: that row is missing from Coda or was never loaded`
          : `${label} names ${personTitle(ref)}${ref.email && hasName(ref.name) ? ` <${ref.email}>` : ''}, who is not in erp.people${ref.email ? '' : ' (or shares the name with someone else)'}; add them, give them an email in Coda, or set "unknown: create" in ${load.mapping.file}`;
      if (parent ? !loadWithoutLink : rejectsUnresolved.get(reference)) {
        rejectedRows.add(row.row_id);
        rejected.push({
          ...summary,
          column: reference.column,
          label,
          value: ref,
          reason,
          ...(parent
            ? { rejectedParent: { ...parent, linkRequired: isRequired(load, reference.column) } }
            : {}),
          staged: row.staged,
        });
      } else {
        leftEmpty.push({
          ...summary,
          column: reference.column,
          label,
          reason,
          parentRejected: parent !== undefined,
        });
      }
    }
  }
  if (rejectedRows.size)
    await context.client.query(`DELETE FROM ${stage} WHERE _coda_row_id = ANY ($1::text[])`, [
      [...rejectedRows],
    ]);
  return { rejected, leftEmpty };
}

function showStaged(value: unknown): string {
  return value === null || value === undefined
    ? '(empty)'
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);
}

/**
 * Step 3: CHECK constraints evaluated on the stage, with the constraint's own expression, all in
 * one pass; a row is told every rule it breaks.
 */
async function rejectConstraintBreaks(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
): Promise<StagedRowProblem[]> {
  const mapped = new Set(load.columns);
  const checks = load.target.checks
    .filter((check) => check.columns.every((column) => mapped.has(column)))
    .map((check) => ({
      check,
      // NULL passes a CHECK: only a rule that is false is broken.
      broken: `(NOT (${check.expression.replace(/^CHECK /, '').replace(/ NOT VALID$/, '')})) IS TRUE`,
    }));
  if (!checks.length) return [];
  // As JSON, dates read as dates (2025-12-01), not as a JavaScript timestamp.
  const { rows } = await context.client.query<{ staged: Record<string, unknown>; broken: boolean[] }>(
    `DELETE FROM ${q(stageName(load))} s WHERE ${checks.map(({ broken }) => broken).join(' OR ')}
     RETURNING to_jsonb(s) AS staged, ARRAY[${checks.map(({ broken }) => broken).join(', ')}] AS broken`,
  );
  const problems: StagedRowProblem[] = [];
  for (const { staged, broken } of rows) {
    for (const [index, { check }] of checks.entries()) {
      if (!broken[index]) continue;
      const rule = check.comment ? `the rule "${check.comment}"` : `the database rule ${check.name}`;
      const shown = check.columns
        .map((column) => `${labelOf(load, table, column)} is ${showStaged(staged[column])}`)
        .join(', ');
      problems.push({
        rowId: String(staged._coda_row_id),
        rowName: String(staged._row_name ?? ''),
        browserLink: String(staged._browser_link ?? ''),
        column: check.columns.join(', '),
        label: check.columns.map((column) => labelOf(load, table, column)).join(', '),
        value: Object.fromEntries(check.columns.map((column) => [column, staged[column]])),
        reason: `${shown}, which breaks ${rule}; fix the value in Coda or the mapping's values`,
        staged,
      });
    }
  }
  return problems;
}

/** The rows of the table that differ from their erp row, kept (with both sides) until the table is listed. */
function changedRowsName(load: TableLoad): string {
  return `changed_${load.target.table}`;
}

/** The rows every chunk staged, which later steps and a reconcile read as the table's stage. */
function stagedRowsName(load: TableLoad): string {
  return `staged_${load.target.table}`;
}

/** How many rows the chunk's stage holds, and how many of them have an erp row already. */
interface StagedCounts {
  staged: number;
  existing: number;
}

async function countStaged(context: LoadContext, load: TableLoad): Promise<StagedCounts> {
  const { rows } = await context.client.query<{ staged: string; existing: string }>(
    `SELECT count(*) AS staged, count(_target_id) AS existing FROM ${q(stageName(load))}`,
  );
  return { staged: Number(rows[0]?.staged ?? 0), existing: Number(rows[0]?.existing ?? 0) };
}

/**
 * Step 4 for one chunk: rows that differ are recorded (both sides, for the report) and updated,
 * new rows are inserted with their lineage; returns how many rows were unchanged. Statements that only
 * concern rows with an erp row, or only new rows, are skipped when there are none.
 */
async function upsertChunk(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  counts: StagedCounts | null,
  { lineageHeld }: TableState,
) {
  const existing = counts?.existing ?? 0;
  const stage = q(stageName(load));
  const target = targetSql(load);
  const columns = load.columns.map(q);
  const targetRow = `ROW(${columns.map((column) => `t.${column}`).join(', ')})`;
  const stageRow = `ROW(${columns.map((column) => `s.${column}`).join(', ')})`;
  // A row with a link that did not resolve is always compared again: its parent may be loaded by now.
  const unresolvedLink = load.references.map(
    (reference) => `(${q(reference.column)} IS NULL AND ${q(refColumn(reference.column))} IS NOT NULL)`,
  );
  const recordedSourceHash = unresolvedLink.length
    ? `CASE WHEN ${unresolvedLink.join(' OR ')} THEN NULL ELSE _source_hash END`
    : '_source_hash';

  const updated = !existing
    ? 0
    : ((
        await context.client.query(
          `INSERT INTO ${q(changedRowsName(load))}
         SELECT s._coda_row_id, s._row_name, s._browser_link,
                array_remove(ARRAY[${load.columns.map((column) => `CASE WHEN t.${q(column)} IS DISTINCT FROM s.${q(column)} THEN ${pg.escapeLiteral(column)} END`).join(', ')}], NULL),
                to_jsonb(t), to_jsonb(s)
           FROM ${stage} s JOIN ${target} t ON t.id = s._target_id
          WHERE ${targetRow} IS DISTINCT FROM ${stageRow}`,
        )
      ).rowCount ?? 0);
  // The query above found every row that differs; with none, the update would scan the table for nothing.
  if (updated)
    await context.client.query(
      `UPDATE ${target} t SET (${columns.join(', ')}) = ${stageRow} FROM ${stage} s WHERE t.id = s._target_id AND ${targetRow} IS DISTINCT FROM ${stageRow}`,
    );
  // Without counts every staged row is new, and the insert says how many there were.
  const inserted =
    counts && counts.staged === counts.existing
      ? 0
      : ((
          await context.client.query(
            `INSERT INTO ${target} (id, ${columns.join(', ')}) SELECT _new_id, ${columns.join(', ')} FROM ${stage} WHERE _target_id IS NULL`,
          )
        ).rowCount ?? 0);
  if (inserted) {
    await context.client.query(
      `INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, browser_link, content_hash, source_hash, first_run_id, last_run_id)
     SELECT $1, $2, _coda_row_id, $3, _new_id, _browser_link, _content_hash, ${recordedSourceHash}, $4, $4 FROM ${stage} WHERE _target_id IS NULL
     ${
       // A lineage row without its erp row (deleted in Postgres) is pointed at the new one. When the
       // table had no lineage at all, none can exist, and a plain insert skips a lookup per row.
       lineageHeld
         ? `ON CONFLICT (coda_doc_id, coda_table_id, coda_row_id) DO UPDATE
              SET target_id = EXCLUDED.target_id, browser_link = EXCLUDED.browser_link, content_hash = EXCLUDED.content_hash,
                  source_hash = EXCLUDED.source_hash, last_run_id = EXCLUDED.last_run_id`
         : ''
     }`,
      [context.docId, table.id, load.target.name, context.runId],
    );
  }
  // Autovacuum cannot see rows this transaction wrote: without fresh counts the planner takes the
  // target and the lineage for as small as they were, and joins them row by row (minutes at 100k).
  // The row counts matter, and the columns joined on: statistics of every column cost a second more.
  // A first load's chunks never join the target (no own rows): its counts are refreshed once, at the end.
  if (lineageHeld && inserted >= REFRESH_STATISTICS_AFTER_ROWS)
    await context.client.query(`ANALYZE ${target} (id)`);
  if (lineageHeld) await refreshLineageStatistics(context, inserted);
  else context.lineageStatistics.insertedSince += inserted;
  // A cutover records every row it saw; a plan only the new rows, which later tables' links resolve through.
  if (context.committing && existing) {
    await context.client.query(
      `UPDATE pipeline.coda_lineage l
          SET browser_link = s._browser_link, content_hash = s._content_hash, source_hash = s._recorded_source_hash, last_run_id = $4
         FROM (SELECT *, ${recordedSourceHash} AS _recorded_source_hash FROM ${stage}) s
        WHERE s._target_id IS NOT NULL AND l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3 AND l.coda_row_id = s._coda_row_id`,
      [context.docId, table.id, load.target.name, context.runId],
    );
  }
  return existing - updated;
}

/** The rows the table's chunks inserted, in row-id order. */
async function listInserted(context: LoadContext, load: TableLoad): Promise<SpooledList<RowSummary>> {
  const inserted = new SpooledList<RowSummary>();
  await forEachBatch<Summary>(
    context.client,
    `inserted_${load.target.table}`,
    {
      text: `SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link
               FROM ${q(stageName(load))} WHERE _target_id IS NULL ORDER BY _coda_row_id COLLATE "C"`,
    },
    (rows) => {
      for (const row of rows) inserted.push(toSummary(row));
    },
  );
  return inserted;
}

/** The rows the table's chunks changed, in row-id order, their links named as this load leaves them. */
async function listUpdated(context: LoadContext, load: TableLoad): Promise<SpooledList<UpdatedRow>> {
  const updated = new SpooledList<UpdatedRow>();
  await forEachBatch<
    Summary & { changed: string[]; before: Record<string, unknown>; after: Record<string, unknown> }
  >(
    context.client,
    `list_${changedRowsName(load)}`,
    {
      text: `SELECT row_id, row_name, browser_link, changed, before, after
               FROM ${q(changedRowsName(load))} ORDER BY row_id COLLATE "C"`,
    },
    async (rows) => {
      const batch = rows.map((row) => ({
        ...toSummary(row),
        changes: row.changed.map((column) => ({
          column,
          before: row.before[column] ?? null,
          after: row.after[column] ?? null,
        })),
      }));
      await nameLinkedRows(context, load, batch);
      for (const row of batch) updated.push(row);
    },
  );
  await context.client.query(`DROP TABLE ${q(changedRowsName(load))}`);
  return updated;
}

type Summary = { row_id: string; row_name: string; browser_link: string };

const toSummary = (row: Summary): RowSummary => ({
  rowId: row.row_id,
  rowName: row.row_name,
  browserLink: row.browser_link,
});

/**
 * Link changes by the linked rows' names. A linked erp table names its rows in `name`, `title`
 * or `full_name` (see the data model); the first of them it has is used.
 */
async function nameLinkedRows(
  context: LoadContext,
  load: TableLoad,
  updated: { changes: FieldChange[] }[],
): Promise<void> {
  for (const reference of load.references) {
    const changes = updated.flatMap((row) =>
      row.changes.filter((change) => change.column === reference.column),
    );
    const ids = [
      ...new Set(changes.flatMap((change) => [change.before, change.after]).filter((id) => id !== null)),
    ];
    if (!ids.length) continue;
    const [schema = '', table = ''] = reference.referencedTable.split('.');
    const { rows } = await context.client.query<{ id: string; name: string }>(
      `SELECT t.id::text AS id, coalesce(to_jsonb(t) ->> 'name', to_jsonb(t) ->> 'title', to_jsonb(t) ->> 'full_name', '') AS name
         FROM ${q(schema)}.${q(table)} t WHERE t.id = ANY ($1::bigint[])`,
      [ids.map(String)],
    );
    const names = new Map(rows.map((row) => [row.id, row.name]));
    const nameOf = (id: unknown) => (id === null ? null : (names.get(String(id)) ?? null));
    for (const change of changes)
      change.linked = { before: nameOf(change.before), after: nameOf(change.after) };
  }
}

/** Rows a Coda row of this table produced in an earlier run, and that this run did not read: neither staged nor rejected. */
async function findGoneFromCoda(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  rejectedIds: string[],
  unchanged: UnchangedRows | null,
): Promise<SpooledList<GoneRow>> {
  const gone = new SpooledList<GoneRow>();
  await forEachBatch<{
    row_id: string;
    row_name: string | null;
    browser_link: string | null;
    target_id: string;
  }>(
    context.client,
    `gone_${load.target.table}`,
    {
      // The first mapped column is the one that names the row (name, title, full_name...).
      text: `SELECT l.coda_row_id AS row_id, l.browser_link, l.target_id, to_jsonb(t) ->> $5 AS row_name
               FROM pipeline.coda_lineage l JOIN ${targetSql(load)} t ON t.id = l.target_id
              WHERE l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3
                AND NOT EXISTS (SELECT FROM ${q(stageName(load))} s WHERE s._coda_row_id = l.coda_row_id)
                ${unchanged ? `AND NOT EXISTS (SELECT FROM ${q(unchanged.table)} u WHERE u.row_id = l.coda_row_id)` : ''}
                AND NOT (l.coda_row_id = ANY ($4::text[]))
              ORDER BY l.coda_row_id COLLATE "C"`,
      values: [context.docId, table.id, load.target.name, rejectedIds, load.columns[0]],
    },
    (rows) => {
      for (const row of rows)
        gone.push({
          rowId: row.row_id,
          rowName: row.row_name ?? '',
          browserLink: row.browser_link ?? '',
          targetId: row.target_id,
        });
    },
  );
  return gone;
}

/** What every chunk of a table's load shares, found once before the first. */
interface TableState {
  /** Whether the lineage held any row of the table when its load began (else every row is new). */
  lineageHeld: boolean;
  /** The sequence that numbers the target's new rows. */
  idSequence: string;
  /** The temporary tables of linked rows read once for the table (see tabulateLinkedRows), by link. */
  linkedRowTables: Map<ReferenceColumn, string>;
}

/** What steps 1–4 made of one chunk. */
interface ChunkOutcome {
  rejects: Reject[];
  unresolved: UnresolvedReference[];
  conflicts: Conflict[];
  peopleCreated: number;
  /** Staged rows whose erp row already holds their values; inserted and changed rows are listed from the database. */
  unchanged: number;
}

async function loadChunk(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  chunk: TransformedChunk,
  state: TableState,
  firstChunk: boolean,
): Promise<ChunkOutcome> {
  const { lineageHeld } = state;
  await copyIntoArrival(context, load, chunk.copyText);
  await analyzeArrival(context, load, state, firstChunk);

  let peopleCreated = 0;
  const rejectsUnresolved = new Map<ReferenceColumn, boolean>();
  for (const reference of load.references) {
    // A person the mapping says to reject when unknown rejects the row even in an optional column.
    let rejectUnresolved = isRequired(load, reference.column);
    if (reference.kind === 'person') {
      const spec = load.mapping.spec.columns[reference.column];
      const createUnknown =
        spec?.as === 'person' && (spec.unknown ?? load.mapping.spec.people.unknown) === 'create';
      peopleCreated += await resolvePeople(
        context,
        reference,
        chunk.people.get(reference.column) ?? new Set(),
        createUnknown,
      );
      if (!createUnknown) rejectUnresolved = true;
    }
    rejectsUnresolved.set(reference, rejectUnresolved);
  }
  await resolveIntoStage(context, load, table, state);

  const { rejected: stagedProblems, leftEmpty: unresolved } = await settleUnresolved(
    context,
    load,
    table,
    rejectsUnresolved,
  );
  appendAll(stagedProblems, await rejectConstraintBreaks(context, load, table));
  // A row rejected later in the load lists its reasons; what it would have left out does not matter.
  const rejectedIds = new Set(stagedProblems.map((problem) => problem.rowId));
  const leftOut = chunk.leftOut.filter((link) => !rejectedIds.has(link.rowId));
  // A conflict is an erp row a load wrote, since edited or deleted: none without lineage.
  const conflicts = lineageHeld
    ? await settleConflicts(context, {
        load,
        codaTableId: table.id,
        stage: q(stageName(load)),
        target: targetSql(load),
        labelOf: (column) => labelOf(load, table, column),
      })
    : [];
  // A table the lineage held nothing of stages only new rows: nothing to count.
  const counts = lineageHeld ? await countStaged(context, load) : null;
  const unchanged = await upsertChunk(context, load, table, counts, state);
  return {
    rejects: [...chunk.rejects, ...problemReject(load, table, context.docId, stagedProblems)],
    unresolved: [...unresolved, ...leftOut],
    conflicts,
    peopleCreated,
    unchanged,
  };
}

/** What later steps read of a staged row once its chunk is done (see keepStagedValues). */
const KEPT_STAGE_COLUMNS = ['_coda_row_id', '_row_name', '_browser_link', '_target_id'];

/**
 * The chunk's stage joins the rows staged so far. Once every chunk is in, they are the table's
 * stage again, for "gone from Coda", the list of inserted rows and a reconcile's totals.
 */
async function keepStagedRows(context: LoadContext, load: TableLoad, first: boolean): Promise<void> {
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

export async function loadTable(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  source: CodaSource,
): Promise<TableLoadReport> {
  const unchangedRows = context.skipUnchanged
    ? await findUnchangedRows(
        context.client,
        {
          docId: context.docId,
          codaTableId: table.id,
          target: targetSql(load),
          targetTable: load.target.name,
        },
        source,
        load.mapping,
      )
    : null;
  await context.client.query(
    `CREATE TEMP TABLE ${q(changedRowsName(load))} (row_id text, row_name text, browser_link text, changed text[], before jsonb, after jsonb) ON COMMIT DROP`,
  );
  const deferredKeys = await deferKeysOfEmptyTable(context.client, load.target);
  const lineageHeld = (
    await context.client.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT FROM pipeline.coda_lineage WHERE coda_doc_id = $1 AND coda_table_id = $2) AS held`,
      [context.docId, table.id],
    )
  ).rows[0]!.held;
  // The linked rows and the own rows are read through the lineage: its counts must be current.
  await refreshLineageStatistics(context, 0);
  const state: TableState = {
    lineageHeld,
    idSequence: await idSequenceOf(context, load),
    linkedRowTables: await tabulateLinkedRows(context, load),
  };
  await createArrival(context, load);
  let read = unchangedRows?.count ?? 0;
  let chunks = 0;
  const outcome: ChunkOutcome = {
    rejects: [],
    unresolved: [],
    conflicts: [],
    peopleCreated: 0,
    unchanged: unchangedRows?.count ?? 0,
  };
  for await (const chunk of transformedAhead(
    transformedChunks(context, load, table, source, unchangedRows),
  )) {
    read += chunk.read;
    const loaded = await loadChunk(context, load, table, chunk, state, chunks === 0);
    appendAll(outcome.rejects, loaded.rejects);
    appendAll(outcome.unresolved, loaded.unresolved);
    appendAll(outcome.conflicts, loaded.conflicts);
    outcome.peopleCreated += loaded.peopleCreated;
    outcome.unchanged += loaded.unchanged;
    await keepStagedRows(context, load, chunks === 0);
    chunks += 1;
    // The chunk's rows are garbage now, and the next chunk is ready: collect before building another.
    if (chunk.read >= GARBAGE_COLLECTION_AFTER_ROWS) collectGarbage();
  }
  // A reconcile pass in the same transaction makes its own.
  await context.client.query(
    `DROP TABLE ${[arrivalName(load), ...state.linkedRowTables.values()].map(q).join(', ')}`,
  );
  await deferredKeys?.restore();
  if (!lineageHeld) await context.client.query(`ANALYZE ${targetSql(load)} (id)`);
  await context.client.query(`ALTER TABLE ${q(stagedRowsName(load))} RENAME TO ${q(stageName(load))}`);
  // The key lets "gone from Coda" probe the stage by row id whatever the planner expects of it (a
  // whole first chunk kept brought its own). A table the lineage held nothing of has nothing gone.
  if (lineageHeld && !context.keepStagedValues)
    await context.client.query(`ALTER TABLE ${q(stageName(load))} ADD PRIMARY KEY (_coda_row_id)`);
  if ((lineageHeld && !context.keepStagedValues) || (context.keepStagedValues && chunks > 1))
    await context.client.query(`ANALYZE ${q(stageName(load))} (_coda_row_id, _target_id)`);

  const allRejects = outcome.rejects.sort((a, b) => a.source.rowId.localeCompare(b.source.rowId));
  for (const reject of allRejects)
    context.rejectedRows.set(`${table.id}/${reject.source.rowId}`, {
      table: table.name,
      rowId: reject.source.rowId,
      rowName: reject.source.rowName,
      browserLink: reject.source.browserLink,
      reasons: reject.problems.map((problem) => problem.reason),
    });

  return {
    mappingFile: load.mapping.file,
    codaTable: { id: table.id, name: table.name },
    target: load.target.name,
    read,
    inserted: await listInserted(context, load),
    updated: await listUpdated(context, load),
    unchanged: outcome.unchanged,
    rejects: allRejects,
    unresolved: outcome.unresolved.sort(
      (a, b) => a.rowId.localeCompare(b.rowId) || a.column.localeCompare(b.column),
    ),
    goneFromCoda: lineageHeld
      ? await findGoneFromCoda(
          context,
          load,
          table,
          allRejects.map((reject) => reject.source.rowId),
          unchangedRows,
        )
      : new SpooledList<GoneRow>(),
    peopleCreated: outcome.peopleCreated,
    conflicts: outcome.conflicts,
  };
}
