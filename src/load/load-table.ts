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
  type TableContext,
  type TargetRow,
} from '../transform/transform.ts';
import { encodeCopyField, encodeCopyRow } from './copy-encoding.ts';
import { PEOPLE_TABLE, type ReferenceColumn, type TableLoad } from './load-plan.ts';
import { findUnchangedRows, sourceFingerprint, sourceHash, type UnchangedRows } from './unchanged-rows.ts';

const { escapeIdentifier: q } = pg;

export interface FieldChange {
  column: string;
  before: unknown;
  after: unknown;
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
}

export interface TableLoadReport {
  mappingFile: string;
  codaTable: { id: string; name: string };
  target: string;
  read: number;
  inserted: RowSummary[];
  updated: (RowSummary & { changes: FieldChange[] })[];
  unchanged: number;
  rejects: Reject[];
  /** Optional links that could not be resolved and were loaded as NULL. */
  unresolved: UnresolvedReference[];
  /** Rows loaded by earlier runs whose Coda row is gone from the table now (never deleted). */
  goneFromCoda: (RowSummary & { targetId: string })[];
  peopleCreated: number;
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
  /** A plan skips rows unchanged since the last committed load (see unchanged-rows.ts); a cutover or reconcile reads every row. */
  skipUnchanged: boolean;
}

const STAGE_COLUMNS = [
  '_coda_row_id',
  '_row_name',
  '_browser_link',
  '_content_hash',
  '_source_hash',
] as const;
const refColumn = (column: string) => `_ref_${column}`;
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
  await client.query(
    `CREATE TEMP TABLE ${arrival} ON COMMIT DROP AS SELECT ${columns} FROM ${targetSql(load)} WITH NO DATA`,
  );
  const extra = [
    `ADD COLUMN _coda_row_id text NOT NULL`,
    `ADD COLUMN _row_name text`,
    `ADD COLUMN _browser_link text`,
    `ADD COLUMN _content_hash text NOT NULL`,
    `ADD COLUMN _source_hash text NOT NULL`,
    ...load.references.map((reference) => `ADD COLUMN ${q(refColumn(reference.column))} jsonb`),
  ];
  await client.query(`ALTER TABLE ${arrival} ${extra.join(', ')}`);
}

/** Mapped columns that hold a converted value, not a link. */
function valueColumnsOf(load: TableLoad): string[] {
  return load.columns.filter((column) => !load.references.some((reference) => reference.column === column));
}

/**
 * Streams transformed rows into the stage with COPY, except the unchanged rows a plan skips;
 * returns the transform's rejects and how many rows were read (skipped ones included).
 */
async function stageRows(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  source: CodaSource,
  unchanged: UnchangedRows | null,
) {
  const rejects: Reject[] = [];
  let read = 0;
  const valueColumns = valueColumnsOf(load);
  const types = valueColumns.map((column) => load.target.columns.get(column)?.type ?? 'text');
  const copyColumns = [
    ...STAGE_COLUMNS,
    ...valueColumns,
    ...load.references.map((reference) => refColumn(reference.column)),
  ];

  // The transform gives one result per row, in order: each row's source hash waits here for it.
  const fingerprint = sourceFingerprint(load.mapping);
  const sourceHashes: string[] = [];
  async function* rowsToTransform(): AsyncGenerator<CodaRow> {
    if (unchanged?.all) return;
    let position = 0;
    for await (const entry of source.entries(table.id)) {
      if (unchanged?.has(position++)) continue;
      sourceHashes.push(sourceHash(fingerprint, entry.text));
      yield entry.row();
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
      ...load.references.map((reference) =>
        encodeCopyField(byColumn.get(reference.column)?.ref ?? null, 'jsonb'),
      ),
    ]);
  };
  // Lines go out in chunks of many rows: a write (and a COPY message) per row costs more than the row.
  async function* copyChunks() {
    let chunk = '';
    const transformContext = { mapping: load.mapping, docId: context.docId, table };
    for await (const result of transformTable(transformContext, rowsToTransform())) {
      read += 1;
      const rowSourceHash = sourceHashes.shift()!;
      if ('reject' in result) {
        rejects.push(result.reject);
        continue;
      }
      chunk += encode(result.row, rowSourceHash);
      if (chunk.length >= COPY_CHUNK_CHARACTERS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const copy = context.client.query(
    copyFrom(`COPY ${q(arrivalName(load))} (${copyColumns.map(q).join(', ')}) FROM STDIN`),
  );
  await pipeline(Readable.from(copyChunks()), copy);
  return { rejects, read: read + (unchanged?.count ?? 0) };
}

/**
 * Autovacuum never analyses temporary tables, and cannot see what this transaction wrote to the
 * lineage (after a plan rolled back, it even takes the lineage for empty). With such counts the
 * planner joins the stage and the lineage in nested loops, which at 100k rows turns resolving one
 * link column into minutes. The stage's key column is enough to record the stage's row count.
 */
async function refreshStatistics({ client }: LoadContext, load: TableLoad): Promise<void> {
  await client.query(`ANALYZE ${q(arrivalName(load))} (_coda_row_id)`);
  await client.query(ANALYZE_LINEAGE_KEYS);
}

interface StagedRowProblem extends RowSummary {
  column: string;
  label: string;
  value: unknown;
  reason: string;
}

function problemReject(table: TableContext['table'], docId: string, problems: StagedRowProblem[]): Reject[] {
  const byRow = new Map<string, Reject>();
  for (const problem of problems) {
    const reject = byRow.get(problem.rowId) ?? {
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
    });
    byRow.set(problem.rowId, reject);
  }
  return [...byRow.values()];
}

function isRequired(load: TableLoad, column: string): boolean {
  const spec = load.mapping.spec.columns[column];
  return spec !== undefined && spec.as !== 'constant' && spec.required;
}

function labelOf(load: TableLoad, column: string): string {
  const spec = load.mapping.spec.columns[column];
  return spec && spec.as !== 'constant' ? (spec.label ?? spec.from) : column;
}

/**
 * Person cells, resolved once per distinct person rather than once per row: a table of 100k tasks
 * names a few dozen people. The distinct values go into their own table, are matched there (by
 * email, then by exact name when exactly one person has it and no email says otherwise), and
 * unknown ones are created when the mapping says so; resolveIntoStage joins them to the rows.
 */
async function resolvePeople(
  context: LoadContext,
  load: TableLoad,
  reference: ReferenceColumn,
  createUnknown: boolean,
): Promise<number> {
  const ref = q(refColumn(reference.column));
  const refs = q(personRefsName(reference));
  await context.client.query(
    `CREATE TEMP TABLE ${refs} ON COMMIT DROP AS SELECT DISTINCT ${ref} AS ref, NULL::bigint AS person_id FROM ${q(arrivalName(load))} WHERE ${ref} IS NOT NULL`,
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
async function resolveIntoStage(context: LoadContext, load: TableLoad, table: TableContext['table']) {
  const joins: string[] = [];
  const params: unknown[] = [context.docId, table.id, load.target.name];
  const resolved = new Map<string, string>();
  for (const [index, reference] of load.references.entries()) {
    const alias = q(`link_${index}`);
    const ref = `a.${q(refColumn(reference.column))}`;
    if (reference.kind === 'row') {
      const [schema = '', linked = ''] = reference.referencedTable.split('.');
      params.push(reference.codaTable, reference.referencedTable);
      joins.push(
        `LEFT JOIN (SELECT l.coda_row_id, t.id FROM pipeline.coda_lineage l JOIN ${q(schema)}.${q(linked)} t ON t.id = l.target_id
                     WHERE l.coda_doc_id = $1 AND l.coda_table_id = $${params.length - 1} AND l.target_table = $${params.length}) ${alias}
           ON ${alias}.coda_row_id = ${ref} ->> 'rowId'`,
      );
      resolved.set(reference.column, `${alias}.id`);
    } else {
      joins.push(`LEFT JOIN ${q(personRefsName(reference))} ${alias} ON ${alias}.ref = ${ref}`);
      resolved.set(reference.column, `${alias}.person_id`);
    }
  }
  const selected = [
    ...load.columns.map((column) => `${resolved.get(column) ?? `a.${q(column)}`} AS ${q(column)}`),
    ...STAGE_COLUMNS.map((column) => `a.${column}`),
    ...load.references.map((reference) => `a.${q(refColumn(reference.column))}`),
    'own.target_id AS _target_id',
  ];
  await context.client.query(
    `CREATE TEMP TABLE ${q(stageName(load))} ON COMMIT DROP AS
     SELECT ${selected.join(', ')}
       FROM ${q(arrivalName(load))} a
       ${joins.join('\n       ')}
       LEFT JOIN (SELECT l.coda_row_id, t.id AS target_id FROM pipeline.coda_lineage l JOIN ${targetSql(load)} t ON t.id = l.target_id
                   WHERE l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3) own
         ON own.coda_row_id = a._coda_row_id`,
    params,
  );
  // The arrival and the people lists have served; a reconcile pass in the same transaction makes them again.
  await context.client.query(
    `DROP TABLE ${[arrivalName(load), ...load.references.filter((reference) => reference.kind === 'person').map(personRefsName)].map(q).join(', ')}`,
  );
  // The key lets "gone from Coda" probe the stage by row id whatever the planner expects of it.
  await context.client.query(`ALTER TABLE ${q(stageName(load))} ADD PRIMARY KEY (_coda_row_id)`);
  await context.client.query(`ANALYZE ${q(stageName(load))} (_coda_row_id, _target_id)`);
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

/** Links that did not resolve: they reject their row, or stay NULL and are listed. */
async function settleUnresolved(
  context: LoadContext,
  load: TableLoad,
  reference: ReferenceColumn,
  rejectRows: boolean,
): Promise<StagedRowProblem[]> {
  const stage = q(stageName(load));
  const unresolvedRows = `${q(reference.column)} IS NULL AND ${q(refColumn(reference.column))} IS NOT NULL`;
  const { rows } = await context.client.query<{
    row_id: string;
    row_name: string;
    browser_link: string;
    ref: { name: string; email?: string | null; rowId?: string };
  }>(
    `SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link, ${q(refColumn(reference.column))} AS ref
       FROM ${stage} WHERE ${unresolvedRows} ORDER BY _coda_row_id`,
  );
  if (rejectRows && rows.length) await context.client.query(`DELETE FROM ${stage} WHERE ${unresolvedRows}`);
  const label = labelOf(load, reference.column);
  return rows.map((row) => ({
    rowId: row.row_id,
    rowName: row.row_name,
    browserLink: row.browser_link,
    column: reference.column,
    label,
    value: row.ref,
    reason:
      reference.kind === 'row'
        ? `${label} links to "${row.ref.name}" (${row.ref.rowId}), which is not in the database: that row was rejected or is missing from Coda`
        : `${label} names ${row.ref.name}${row.ref.email ? ` <${row.ref.email}>` : ''}, who is not in erp.people${row.ref.email ? '' : ' (or shares the name with someone else)'}; add them, give them an email in Coda, or set "unknown: create" in ${load.mapping.file}`,
  }));
}

/** Step 3: CHECK constraints evaluated on the stage, with the constraint's own expression. */
async function rejectConstraintBreaks(context: LoadContext, load: TableLoad): Promise<StagedRowProblem[]> {
  const problems: StagedRowProblem[] = [];
  const mapped = new Set(load.columns);
  for (const check of load.target.checks) {
    if (!check.columns.every((column) => mapped.has(column))) continue;
    const expression = check.expression.replace(/^CHECK /, '').replace(/ NOT VALID$/, '');
    const { rows } = await context.client.query<
      Record<string, unknown> & { _coda_row_id: string; _row_name: string; _browser_link: string }
    >(
      `DELETE FROM ${q(stageName(load))} WHERE NOT (${expression}) RETURNING _coda_row_id, _row_name, _browser_link, ${check.columns.map(q).join(', ')}`,
    );
    for (const row of rows) {
      const shown = check.columns
        .map((column) => `${labelOf(load, column)} = ${JSON.stringify(row[column])}`)
        .join(', ');
      problems.push({
        rowId: row._coda_row_id,
        rowName: row._row_name,
        browserLink: row._browser_link,
        column: check.columns.join(', '),
        label: check.columns.map((column) => labelOf(load, column)).join(', '),
        value: Object.fromEntries(check.columns.map((column) => [column, row[column]])),
        reason: `${shown} breaks the database rule ${check.name} (${expression}); fix the value in Coda or the mapping's values`,
      });
    }
  }
  return problems;
}

async function upsert(context: LoadContext, load: TableLoad, table: TableContext['table']) {
  const stage = q(stageName(load));
  const target = targetSql(load);
  const columns = load.columns.map(q);
  const targetRow = `ROW(${columns.map((column) => `t.${column}`).join(', ')})`;
  const stageRow = `ROW(${columns.map((column) => `s.${column}`).join(', ')})`;
  type Summary = { row_id: string; row_name: string; browser_link: string };
  // A row with a link that did not resolve is always compared again: its parent may be loaded by now.
  const unresolvedLink = load.references.map(
    (reference) => `(${q(reference.column)} IS NULL AND ${q(refColumn(reference.column))} IS NOT NULL)`,
  );
  const recordedSourceHash = unresolvedLink.length
    ? `CASE WHEN ${unresolvedLink.join(' OR ')} THEN NULL ELSE _source_hash END`
    : '_source_hash';

  const changed = await context.client.query<
    Summary & { changed: string[]; before: Record<string, unknown>; after: Record<string, unknown> }
  >(
    `SELECT s._coda_row_id AS row_id, s._row_name AS row_name, s._browser_link AS browser_link,
            array_remove(ARRAY[${load.columns.map((column) => `CASE WHEN t.${q(column)} IS DISTINCT FROM s.${q(column)} THEN ${pg.escapeLiteral(column)} END`).join(', ')}], NULL) AS changed,
            to_jsonb(t) AS before, to_jsonb(s) AS after
       FROM ${stage} s JOIN ${target} t ON t.id = s._target_id
      WHERE ${targetRow} IS DISTINCT FROM ${stageRow}
      ORDER BY s._coda_row_id`,
  );
  // The query above found every row that differs; with none, the update would scan the table for nothing.
  if (changed.rowCount) {
    await context.client.query(
      `UPDATE ${target} t SET (${columns.join(', ')}) = ${stageRow} FROM ${stage} s WHERE t.id = s._target_id AND ${targetRow} IS DISTINCT FROM ${stageRow}`,
    );
  }
  // New rows get their ids, go into the target and into the lineage in one statement: one pass
  // over the stage instead of an UPDATE that rewrites it and two more reads.
  // The sequence is looked up once: pg_get_serial_sequence per row costs a catalog lookup per row.
  const sequence = (
    await context.client.query<{ sequence: string }>(`SELECT pg_get_serial_sequence($1, 'id') AS sequence`, [
      target,
    ])
  ).rows[0]?.sequence;
  const inserted = await context.client.query<Summary>(
    `WITH new_rows AS MATERIALIZED (
       SELECT nextval($1::regclass) AS id, ${columns.join(', ')}, _coda_row_id, _row_name, _browser_link, _content_hash,
              ${recordedSourceHash} AS _source_hash
         FROM ${stage} WHERE _target_id IS NULL),
     into_target AS (INSERT INTO ${target} (id, ${columns.join(', ')}) SELECT id, ${columns.join(', ')} FROM new_rows),
     into_lineage AS (
       INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, browser_link, content_hash, source_hash, first_run_id, last_run_id)
       SELECT $2, $3, _coda_row_id, $4, id, _browser_link, _content_hash, _source_hash, $5, $5 FROM new_rows
       ON CONFLICT (coda_doc_id, coda_table_id, coda_row_id) DO UPDATE
         SET target_id = EXCLUDED.target_id, browser_link = EXCLUDED.browser_link, content_hash = EXCLUDED.content_hash,
             source_hash = EXCLUDED.source_hash, last_run_id = EXCLUDED.last_run_id)
     SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link FROM new_rows`,
    [sequence, context.docId, table.id, load.target.name, context.runId],
  );
  // Autovacuum cannot see rows this transaction wrote: without fresh counts the planner takes the
  // target and the lineage for as small as they were, and joins them row by row (minutes at 100k).
  // The row counts matter, and the columns joined on: statistics of every column cost a second more.
  if ((inserted.rowCount ?? 0) >= REFRESH_STATISTICS_AFTER_ROWS) {
    await context.client.query(`ANALYZE ${target} (id)`);
    await context.client.query(ANALYZE_LINEAGE_KEYS);
  }
  // A cutover records every row it saw; a plan only the new rows, which later tables' links resolve through.
  if (context.committing) {
    await context.client.query(
      `UPDATE pipeline.coda_lineage l
          SET browser_link = s._browser_link, content_hash = s._content_hash, source_hash = s._recorded_source_hash, last_run_id = $4
         FROM (SELECT *, ${recordedSourceHash} AS _recorded_source_hash FROM ${stage}) s
        WHERE s._target_id IS NOT NULL AND l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3 AND l.coda_row_id = s._coda_row_id`,
      [context.docId, table.id, load.target.name, context.runId],
    );
  }
  const staged = Number(
    (await context.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${stage}`)).rows[0]?.n ?? 0,
  );
  const toSummary = (row: Summary): RowSummary => ({
    rowId: row.row_id,
    rowName: row.row_name,
    browserLink: row.browser_link,
  });
  return {
    inserted: inserted.rows.map(toSummary).sort((a, b) => a.rowId.localeCompare(b.rowId)),
    updated: changed.rows.map((row) => ({
      ...toSummary(row),
      changes: row.changed.map((column) => ({
        column,
        before: row.before[column] ?? null,
        after: row.after[column] ?? null,
      })),
    })),
    unchanged: staged - inserted.rowCount! - changed.rowCount!,
  };
}

/** Rows a Coda row of this table produced in an earlier run, and that this run did not read: neither staged nor rejected. */
async function findGoneFromCoda(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  rejectedIds: string[],
  unchanged: UnchangedRows | null,
) {
  const { rows } = await context.client.query<{
    row_id: string;
    browser_link: string | null;
    target_id: string;
  }>(
    `SELECT l.coda_row_id AS row_id, l.browser_link, l.target_id
       FROM pipeline.coda_lineage l JOIN ${targetSql(load)} t ON t.id = l.target_id
      WHERE l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3
        AND NOT EXISTS (SELECT FROM ${q(stageName(load))} s WHERE s._coda_row_id = l.coda_row_id)
        ${unchanged ? `AND NOT EXISTS (SELECT FROM ${q(unchanged.table)} u WHERE u.row_id = l.coda_row_id)` : ''}
        AND NOT (l.coda_row_id = ANY ($4::text[]))
      ORDER BY l.coda_row_id`,
    [context.docId, table.id, load.target.name, rejectedIds],
  );
  return rows.map((row) => ({
    rowId: row.row_id,
    rowName: '',
    browserLink: row.browser_link ?? '',
    targetId: row.target_id,
  }));
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
  await createArrival(context, load);
  const { rejects, read } = await stageRows(context, load, table, source, unchangedRows);
  await refreshStatistics(context, load);

  let peopleCreated = 0;
  const rejectsUnresolved = new Map<ReferenceColumn, boolean>();
  for (const reference of load.references) {
    // A person the mapping says to reject when unknown rejects the row even in an optional column.
    let rejectUnresolved = isRequired(load, reference.column);
    if (reference.kind === 'person') {
      const spec = load.mapping.spec.columns[reference.column];
      const createUnknown =
        spec?.as === 'person' && (spec.unknown ?? load.mapping.spec.people.unknown) === 'create';
      peopleCreated += await resolvePeople(context, load, reference, createUnknown);
      if (!createUnknown) rejectUnresolved = true;
    }
    rejectsUnresolved.set(reference, rejectUnresolved);
  }
  await resolveIntoStage(context, load, table);

  const unresolved: UnresolvedReference[] = [];
  const stagedProblems: StagedRowProblem[] = [];
  for (const [reference, rejectUnresolved] of rejectsUnresolved) {
    const settled = await settleUnresolved(context, load, reference, rejectUnresolved);
    if (rejectUnresolved) stagedProblems.push(...settled);
    else unresolved.push(...settled.map(({ value: _value, ...rest }) => rest));
  }
  stagedProblems.push(...(await rejectConstraintBreaks(context, load)));
  const { inserted, updated, unchanged } = await upsert(context, load, table);
  const allRejects = [...rejects, ...problemReject(table, context.docId, stagedProblems)].sort((a, b) =>
    a.source.rowId.localeCompare(b.source.rowId),
  );

  return {
    mappingFile: load.mapping.file,
    codaTable: { id: table.id, name: table.name },
    target: load.target.name,
    read,
    inserted,
    updated,
    unchanged: unchanged + (unchangedRows?.count ?? 0),
    rejects: allRejects,
    unresolved: unresolved.sort((a, b) => a.rowId.localeCompare(b.rowId) || a.column.localeCompare(b.column)),
    goneFromCoda: await findGoneFromCoda(
      context,
      load,
      table,
      allRejects.map((reject) => reject.source.rowId),
      unchangedRows,
    ),
    peopleCreated,
  };
}
