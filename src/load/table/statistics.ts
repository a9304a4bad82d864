/**
 * The planner's picture of what the load reads and writes. Autovacuum never analyses temporary
 * tables, and cannot see what this transaction wrote: the load refreshes what it needs itself.
 */
import pg from 'pg';
import type { LoadContext } from '../core/context.ts';
import { arrivalName } from '../core/temp-tables.ts';
import type { TableLoad } from '../core/load-plan.ts';
import type { TableState } from './shape.ts';

const { escapeIdentifier: q } = pg;

/** Only the columns loads join on: statistics of every column cost seconds at 100k rows, on every table. */
const ANALYZE_LINEAGE_KEYS =
  'ANALYZE pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id)';
/** Inserting fewer rows than this leaves the planner's picture of a table about right. */
export const REFRESH_STATISTICS_AFTER_ROWS = 1_000;

/**
 * Autovacuum never analyses temporary tables, and cannot see what this transaction wrote to the
 * lineage (after a plan rolled back, it even takes the lineage for empty). With such counts the
 * planner joins the stage and the lineage in nested loops, which at 100k rows turns resolving one
 * link column into minutes. The stage's key column is enough to record the stage's row count.
 * A table whose rows are all new joins its chunks only to the linked rows read before the first:
 * what its first chunk measured holds for the rest (the planner scales row counts by the pages a
 * table has now).
 */
export async function analyzeArrival(
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
export async function refreshLineageStatistics(context: LoadContext, inserted: number): Promise<void> {
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

/** Bookkeeping tables a load reads one row at a time, through pipeline.load_writes. */
const BOOKKEEPING_TABLES = ['pipeline.row_changes', 'pipeline.runs'] as const;

/**
 * Right after a cutover, autovacuum has usually not analysed the row history it wrote: the planner
 * still takes it for a few rows, and looking up one erp row's last write became a scan of every
 * change of the run, per row (two minutes for a plan of 100k tasks started right after their
 * cutover). A run refreshes these statistics first when they lag that far behind.
 */
export async function refreshStaleBookkeepingStatistics(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ table: (typeof BOOKKEEPING_TABLES)[number] }>(
    `SELECT t.name AS table
       FROM unnest($1::text[]) AS t(name)
       JOIN pg_stat_user_tables s ON s.relid = t.name::regclass
      WHERE s.n_mod_since_analyze > greatest($2, s.n_live_tup / 10)`,
    [BOOKKEEPING_TABLES, REFRESH_STATISTICS_AFTER_ROWS],
  );
  for (const { table } of rows)
    if (BOOKKEEPING_TABLES.includes(table)) await client.query(`ANALYZE ${table}`);
}
