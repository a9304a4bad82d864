/**
 * What every step of a table's load shares within one run: the connection (inside the run's
 * transaction), the run, and what earlier tables of the run left for later ones.
 */
import type pg from 'pg';
import type { CoverageCounter } from '../../transform/coverage.ts';
import type { LinkedRow, RejectReason } from './reasons.ts';
import type { ConflictChoices } from './reports.ts';

/** A row rejected earlier in the run, by `codaTableId/rowId`: its children name it, link to it and give its reasons. */
export type RejectedRows = Map<string, { row: LinkedRow; reasons: RejectReason[] }>;

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
  /** Which side wins where a row edited in Postgres would be changed by the load (table/conflicts.ts). */
  conflictChoices?: ConflictChoices;
  /** Filled as tables load, parents first. */
  rejectedRows: RejectedRows;
  /** A plan skips rows unchanged since the last committed load (see table/unchanged-rows.ts); a cutover or reconcile reads every row. */
  skipUnchanged: boolean;
  chunkRows: ChunkRows;
  /**
   * A reconcile's totals read the converted values of every staged row once the table is loaded;
   * otherwise only each row's id, name, link and erp row are kept past its chunk.
   */
  keepStagedValues: boolean;
  /** When the lineage's statistics were last refreshed in this run (see table/statistics.ts). */
  lineageStatistics: LineageStatistics;
  /** Counts the cells of the columns no mapping loads as the rows go by (transform/coverage.ts). */
  coverage?: CoverageCounter;
}

export interface LineageStatistics {
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
