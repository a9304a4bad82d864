/**
 * Edits made in Postgres are never silently overwritten by a load from Coda.
 *
 * The value at the last load of a row is the after image of the last run that wrote it
 * (pipeline.row_changes, migration 007; this run's own writes do not count). A field was edited
 * in Postgres when its value now differs from that image; it is in conflict when the load would
 * also change it. Each conflict is settled by the owner's choice for the row (a decisions file),
 * else for the run (--prefer): `postgres` keeps the edited value (the row's other fields still
 * take Coda's), `coda` lets the load overwrite it. A conflict nobody settled is reported, and a
 * cutover with one is refused (see run.ts).
 *
 * Rows loaded before there was row history have no value at the last load and never conflict.
 * A row deleted in Postgres that Coda still has is a conflict too: `postgres` leaves it deleted.
 * Runs inside the load, on its stage, before the upsert.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { TableLoad } from './load-plan.ts';
import type { LoadContext, RowSummary } from './load-table.ts';

const { escapeIdentifier: q, escapeLiteral: literal } = pg;

export type Side = 'coda' | 'postgres';

/** Which side wins: per Coda row id (from a decisions file), else for every row of the run. */
export interface ConflictChoices {
  prefer?: Side;
  byRowId?: ReadonlyMap<string, Side>;
}

export interface ConflictField {
  column: string;
  /** The Coda column's name. */
  label: string;
  coda: unknown;
  postgres: unknown;
  lastLoad: unknown;
}

export interface Conflict extends RowSummary {
  /** The row was deleted in Postgres after a load; Coda still has it (fields is then empty). */
  deletedInPostgres: boolean;
  fields: ConflictField[];
  /** Who wins, when the owner said; null when nobody did (a cutover is then refused). */
  winner: Side | null;
}

/** Where the load being checked stands: its stage and target (quoted), and its columns' Coda names. */
interface StagedLoad {
  load: TableLoad;
  codaTableId: string;
  stage: string;
  target: string;
  labelOf: (column: string) => string;
}

export async function settleConflicts(
  context: LoadContext,
  { load, codaTableId, stage, target, labelOf }: StagedLoad,
): Promise<Conflict[]> {
  const edited = (column: string) =>
    `t.${q(column)} IS DISTINCT FROM s.${q(column)} AND coalesce(to_jsonb(t.${q(column)}), 'null') IS DISTINCT FROM coalesce(h.after -> ${literal(column)}, 'null')`;
  const { rows } = await context.client.query<{
    row_id: string;
    row_name: string;
    browser_link: string;
    columns: string[];
    coda: Record<string, unknown>;
    postgres: Record<string, unknown>;
    last_load: Record<string, unknown>;
  }>(
    `WITH changing AS MATERIALIZED (
       SELECT s._coda_row_id, t.id
         FROM ${stage} s
         JOIN pipeline.coda_lineage l ON l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3 AND l.coda_row_id = s._coda_row_id
         JOIN ${target} t ON t.id = l.target_id
        WHERE ROW(${load.columns.map((column) => `t.${q(column)}`).join(', ')}) IS DISTINCT FROM ROW(${load.columns.map((column) => `s.${q(column)}`).join(', ')})
     )
     SELECT s._coda_row_id AS row_id, s._row_name AS row_name, s._browser_link AS browser_link,
            array_remove(ARRAY[${load.columns.map((column) => `CASE WHEN ${edited(column)} THEN ${literal(column)} END`).join(', ')}], NULL) AS columns,
            to_jsonb(s) AS coda, to_jsonb(t) AS postgres, h.after AS last_load
       FROM changing c
       JOIN ${stage} s ON s._coda_row_id = c._coda_row_id
       JOIN ${target} t ON t.id = c.id
       JOIN LATERAL (SELECT r.after FROM pipeline.row_changes r
                      WHERE r.target_table = $3 AND r.target_id = c.id AND r.run_id <> $4
                      ORDER BY r.id DESC LIMIT 1) h ON h.after IS NOT NULL
      WHERE ${load.columns.map(edited).join(' OR ')}
      ORDER BY s._coda_row_id`,
    [context.docId, codaTableId, load.target.name, context.runId],
  );
  const winnerOf = (rowId: string) =>
    context.conflictChoices?.byRowId?.get(rowId) ?? context.conflictChoices?.prefer ?? null;
  const conflicts = rows.map(
    (row): Conflict => ({
      rowId: row.row_id,
      rowName: row.row_name,
      browserLink: row.browser_link,
      deletedInPostgres: false,
      fields: row.columns.map((column) => ({
        column,
        label: labelOf(column),
        coda: row.coda[column] ?? null,
        postgres: row.postgres[column] ?? null,
        lastLoad: row.last_load[column] ?? null,
      })),
      winner: winnerOf(row.row_id),
    }),
  );
  // Postgres wins: the stage takes the edited value, so the upsert leaves that field as it is.
  const keep = new Map<string, string[]>();
  for (const conflict of conflicts.filter((entry) => entry.winner === 'postgres'))
    for (const field of conflict.fields)
      keep.set(field.column, [...(keep.get(field.column) ?? []), conflict.rowId]);
  for (const [column, rowIds] of keep) {
    await context.client.query(
      `UPDATE ${stage} s SET ${q(column)} = t.${q(column)}
         FROM pipeline.coda_lineage l JOIN ${target} t ON t.id = l.target_id
        WHERE l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3 AND l.coda_row_id = s._coda_row_id
          AND s._coda_row_id = ANY ($4::text[])`,
      [context.docId, codaTableId, load.target.name, rowIds],
    );
  }
  return [...conflicts, ...(await settleDeletions(context, { load, codaTableId, stage, target }, winnerOf))];
}

/**
 * Runs never delete, so a row with lineage and no erp row was deleted in Postgres. The load would
 * add it again; when Postgres wins, it leaves the stage and stays deleted.
 */
async function settleDeletions(
  context: LoadContext,
  { codaTableId, stage, target, load }: Omit<StagedLoad, 'labelOf'>,
  winnerOf: (rowId: string) => Side | null,
): Promise<Conflict[]> {
  const { rows } = await context.client.query<{ row_id: string; row_name: string; browser_link: string }>(
    `SELECT s._coda_row_id AS row_id, s._row_name AS row_name, s._browser_link AS browser_link
       FROM ${stage} s
       JOIN pipeline.coda_lineage l ON l.coda_doc_id = $1 AND l.coda_table_id = $2 AND l.target_table = $3 AND l.coda_row_id = s._coda_row_id
      WHERE NOT EXISTS (SELECT FROM ${target} t WHERE t.id = l.target_id)`,
    [context.docId, codaTableId, load.target.name],
  );
  const deletions = rows.map(
    (row): Conflict => ({
      rowId: row.row_id,
      rowName: row.row_name,
      browserLink: row.browser_link,
      deletedInPostgres: true,
      fields: [],
      winner: winnerOf(row.row_id),
    }),
  );
  const staysDeleted = deletions.filter((entry) => entry.winner === 'postgres').map((entry) => entry.rowId);
  if (staysDeleted.length)
    await context.client.query(`DELETE FROM ${stage} WHERE _coda_row_id = ANY ($1::text[])`, [staysDeleted]);
  return deletions;
}

const decisionsFile = z.record(z.string().min(1), z.enum(['coda', 'postgres']));

/**
 * A decisions file: one line per Coda row id (the report shows it beside the row's name), saying
 * which side wins for that row, e.g. `i-jNwDisc1A: postgres`.
 */
export async function readConflictDecisions(file: string): Promise<Map<string, Side>> {
  const parsed = decisionsFile.safeParse(parseYaml(await readFile(file, 'utf8')) ?? {});
  if (!parsed.success)
    throw new Error(
      `${file}: each line must be a Coda row id, a colon, and coda or postgres (e.g. "i-jNwDisc1A: postgres"): ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ')}`,
    );
  return new Map(Object.entries(parsed.data));
}
