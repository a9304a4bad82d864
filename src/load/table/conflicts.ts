/**
 * Edits made in Postgres are never silently overwritten by a load from Coda.
 *
 * A field's value at the last load is the value the cutovers last set it to (pipeline.load_writes,
 * migration 015: their row history that still stands; this run's own writes do not count). An
 * undo restores rows but loads nothing, so an edit it brings back is still an edit; and a field a
 * cutover kept as edited was never set by it, so the edit stays one after the row's other fields
 * changed. A field was edited in Postgres when its value now differs from that; it is in conflict
 * when the load would also change it. Each conflict is settled by the owner's choice for the row
 * (a decisions file), else for the run (--prefer), else by what an earlier cutover kept while
 * both sides still hold the values it kept: `postgres` keeps the edited value (the row's other
 * fields still take Coda's), `coda` lets the load overwrite it. A conflict nobody settled is
 * reported, and a cutover with one is refused (see ../run.ts). What Postgres keeps is an accepted
 * difference of the cutover (reconcile/differences.ts).
 *
 * Rows loaded before there was row history have no value at the last load and never conflict.
 * A row deleted in Postgres that Coda still has is a conflict too: `postgres` leaves it deleted.
 * Runs inside the load, on its stage, before the upsert.
 */
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import type { LoadContext } from '../core/context.ts';
import { lineageRowProbe, rowByIdProbe } from '../core/lineage-sql.ts';
import type { TableLoad } from '../core/load-plan.ts';
import type { Conflict } from '../core/reports.ts';
import { stageName } from '../core/temp-tables.ts';
import { labelOf, targetSql } from './shape.ts';

const { escapeIdentifier: q, escapeLiteral: literal } = pg;

/** What a cutover kept of a row edited in Postgres, as pipeline.accepted_differences.kept holds it. */
export type Kept = { deleted: true } | { fields: Record<string, { coda: unknown; postgres: unknown }> };

export function keptOf(conflict: Conflict): Kept {
  return conflict.deletedInPostgres
    ? { deleted: true }
    : {
        fields: Object.fromEntries(
          conflict.fields.map((field) => [field.column, { coda: field.coda, postgres: field.postgres }]),
        ),
      };
}

/** Settled before the upsert, on the chunk's stage; a winner `postgres` is written into the stage. */
export async function settleConflicts(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
): Promise<Conflict[]> {
  const stage = q(stageName(load));
  const target = targetSql(load);
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
         FROM ${stage} s JOIN ${rowByIdProbe(target, 's._target_id')} t ON true
        WHERE ROW(${load.columns.map((column) => `t.${q(column)}`).join(', ')}) IS DISTINCT FROM ROW(${load.columns.map((column) => `s.${q(column)}`).join(', ')})
     )
     SELECT s._coda_row_id AS row_id, s._row_name AS row_name, s._browser_link AS browser_link,
            array_remove(ARRAY[${load.columns.map((column) => `CASE WHEN ${edited(column)} THEN ${literal(column)} END`).join(', ')}], NULL) AS columns,
            to_jsonb(s) AS coda, to_jsonb(t) AS postgres, h.after AS last_load
       FROM changing c
       JOIN ${stage} s ON s._coda_row_id = c._coda_row_id
       JOIN ${rowByIdProbe(target, 'c.id')} t ON true
       -- Each field as the cutovers last set it: a write that left a field as it was (kept) did not set it.
       JOIN LATERAL (SELECT jsonb_object_agg(f.key, f.value) AS after
                       FROM (SELECT DISTINCT ON (e.key) e.key, e.value
                               FROM pipeline.load_writes w, jsonb_each(w.after) e
                              WHERE w.target_table = $1 AND w.target_id = c.id AND w.run_id <> $2
                                AND (w.before IS NULL OR w.before -> e.key IS DISTINCT FROM e.value)
                              ORDER BY e.key, w.id DESC) f) h ON h.after IS NOT NULL
      WHERE ${load.columns.map(edited).join(' OR ')}
      ORDER BY s._coda_row_id`,
    [load.target.name, context.runId],
  );
  const found = rows.map(
    (row): Conflict => ({
      rowId: row.row_id,
      rowName: row.row_name,
      browserLink: row.browser_link,
      deletedInPostgres: false,
      fields: row.columns.map((column) => ({
        column,
        label: labelOf(load, table, column),
        coda: row.coda[column] ?? null,
        postgres: row.postgres[column] ?? null,
        lastLoad: row.last_load[column] ?? null,
      })),
      winner: null,
      keptByRun: null,
    }),
  );
  const deletions = await findDeletions(context, load, table.id);
  const conflicts = await settle(context, load.target.name, [...found, ...deletions]);
  // Postgres wins: the stage takes the edited value, so the upsert leaves that field as it is.
  const keep = new Map<string, string[]>();
  for (const conflict of conflicts.filter((entry) => entry.winner === 'postgres'))
    for (const field of conflict.fields)
      keep.set(field.column, [...(keep.get(field.column) ?? []), conflict.rowId]);
  for (const [column, rowIds] of keep) {
    await context.client.query(
      `UPDATE ${stage} s SET ${q(column)} = t.${q(column)}
         FROM ${target} t
        WHERE t.id = s._target_id AND s._coda_row_id = ANY ($1::text[])`,
      [rowIds],
    );
  }
  const staysDeleted = conflicts
    .filter((entry) => entry.deletedInPostgres && entry.winner === 'postgres')
    .map((entry) => entry.rowId);
  if (staysDeleted.length)
    await context.client.query(`DELETE FROM ${stage} WHERE _coda_row_id = ANY ($1::text[])`, [staysDeleted]);
  // A row that keeps a value Coda does not have is compared by every later plan, never skipped.
  const keptRows = conflicts.filter((entry) => entry.winner === 'postgres').map((entry) => entry.rowId);
  if (keptRows.length)
    await context.client.query(
      `UPDATE ${stage} SET _source_hash = NULL WHERE _coda_row_id = ANY ($1::text[])`,
      [keptRows],
    );
  return conflicts;
}

/**
 * The winner of each conflict: the row's choice, the run's, or else what the last standing
 * cutover kept of the row, when Postgres and Coda still hold the very values it kept.
 */
async function settle(context: LoadContext, targetTable: string, conflicts: Conflict[]): Promise<Conflict[]> {
  if (!conflicts.length) return conflicts;
  const { rows } = await context.client.query<{ row_key: string; run_id: string; kept: Kept }>(
    `SELECT DISTINCT ON (a.row_key) a.row_key, a.run_id::text, a.kept
       FROM pipeline.accepted_differences a JOIN pipeline.runs r ON r.id = a.run_id
      WHERE a.coda_doc_id = $1 AND a.target_table = $2 AND a.kind = 'kept_in_postgres'
        AND r.undone_by_run_id IS NULL AND a.row_key = ANY ($3::text[])
      ORDER BY a.row_key, a.run_id DESC`,
    [context.docId, targetTable, conflicts.map((conflict) => conflict.rowId)],
  );
  const earlier = new Map(rows.map((row) => [row.row_key, row]));
  return conflicts.map((conflict) => {
    const chosen = context.conflictChoices?.byRowId?.get(conflict.rowId) ?? context.conflictChoices?.prefer;
    if (chosen) return { ...conflict, winner: chosen };
    const kept = earlier.get(conflict.rowId);
    return kept && keeps(kept.kept, conflict)
      ? { ...conflict, winner: 'postgres', keptByRun: kept.run_id }
      : conflict;
  });
}

/** Whether what a cutover kept covers this conflict: the same fields, with the same values on both sides. */
function keeps(kept: Kept, conflict: Conflict): boolean {
  if ('deleted' in kept) return conflict.deletedInPostgres;
  return (
    !conflict.deletedInPostgres &&
    conflict.fields.every((field) => {
      const entry = kept.fields[field.column];
      // Through JSON both ways, as the stored values went: dates and numbers read alike.
      return (
        entry !== undefined &&
        isDeepStrictEqual(entry, JSON.parse(JSON.stringify({ coda: field.coda, postgres: field.postgres })))
      );
    })
  );
}

/** Runs never delete, so a row with lineage and no erp row was deleted in Postgres; the load would add it again. */
async function findDeletions(
  context: LoadContext,
  load: TableLoad,
  codaTableId: string,
): Promise<Conflict[]> {
  const { rows } = await context.client.query<{ row_id: string; row_name: string; browser_link: string }>(
    `SELECT s._coda_row_id AS row_id, s._row_name AS row_name, s._browser_link AS browser_link
       FROM ${q(stageName(load))} s
       JOIN ${lineageRowProbe('s._coda_row_id')} l ON true
      -- A staged row with an erp row of its own was not deleted.
      WHERE s._target_id IS NULL
        AND NOT EXISTS (SELECT FROM ${targetSql(load)} t WHERE t.id = l.target_id)`,
    [context.docId, codaTableId, load.target.name],
  );
  return rows.map(
    (row): Conflict => ({
      rowId: row.row_id,
      rowName: row.row_name,
      browserLink: row.browser_link,
      deletedInPostgres: true,
      fields: [],
      winner: null,
      keptByRun: null,
    }),
  );
}
