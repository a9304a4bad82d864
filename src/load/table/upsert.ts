/**
 * Step 4 and 5: the chunk's rows written to the target, keyed by lineage, and the lineage of
 * every row written.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import type { LoadContext } from '../core/context.ts';
import { isLineageOf, rowByIdProbe } from '../core/lineage-sql.ts';
import type { TableLoad } from '../core/load-plan.ts';
import { changedRowsName, stageName } from '../core/temp-tables.ts';
import { REFRESH_STATISTICS_AFTER_ROWS, refreshLineageStatistics } from './statistics.ts';
import { targetSql, unresolvedIn, type TableState } from './shape.ts';

const { escapeIdentifier: q } = pg;

/** How many rows the chunk's stage holds, and how many of them have an erp row already. */
export interface StagedCounts {
  staged: number;
  existing: number;
}

export async function countStaged(context: LoadContext, load: TableLoad): Promise<StagedCounts> {
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
export async function upsertChunk(
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
  const unresolvedLink = load.references.map(unresolvedIn);
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
           FROM ${stage} s JOIN ${rowByIdProbe(target, 's._target_id')} t ON true
          WHERE ${targetRow} IS DISTINCT FROM ${stageRow}`,
        )
      ).rowCount ?? 0);
  // The query above found every row that differs; with none, the update would scan the table for nothing.
  if (updated)
    await context.client.query(
      // The chunk's own ids as an array: the target is then read by its key, never scanned (see lineage-sql.ts).
      `UPDATE ${target} t SET (${columns.join(', ')}) = ${stageRow} FROM ${stage} s
        WHERE t.id = ANY (ARRAY(SELECT _target_id FROM ${stage} WHERE _target_id IS NOT NULL))
          AND t.id = s._target_id AND ${targetRow} IS DISTINCT FROM ${stageRow}`,
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
        WHERE s._target_id IS NOT NULL AND ${isLineageOf()} AND l.coda_row_id = s._coda_row_id
          AND l.coda_row_id = ANY (ARRAY(SELECT _coda_row_id FROM ${stage} WHERE _target_id IS NOT NULL))`,
      [context.docId, table.id, load.target.name, context.runId],
    );
  }
  return existing - updated;
}
