/**
 * One plan, cutover or reconcile run: every mapped table loaded in dependency order inside ONE
 * transaction, which a plan always rolls back and a cutover commits only when the result is clean
 * and reconciles with Coda. A reconcile runs only the comparison (see reconcile/reconcile.ts), and rolls back.
 *
 * A plan runs the cutover's load over the same rows, with three differences that keep it quick
 * and leave nothing behind: it skips rows unchanged since the last cutover (table/unchanged-rows.ts),
 * records lineage only for the rows it inserts (which later tables' links resolve through), and
 * does not reconcile. What it reports is what a cutover would change. The run's life (lock,
 * record, signals) is lifecycle/with-run.ts's; its rejects are recorded beside it (pipeline.rejects).
 */
import type pg from 'pg';
import type { Snapshot } from '../extract/index.ts';
import { MappingError } from '../transform/mapping-problems.ts';
import type { LoadedMapping, SkippedTable } from '../transform/mapping-spec.ts';
import { CoverageCounter, leftBehind, type Coverage } from '../transform/coverage.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { vocabularyOf, type Vocabulary } from '../transform/vocabulary.ts';
import { backupDatabase, type BackupResult } from './backup.ts';
import {
  DEFAULT_CHUNK_ROWS,
  freshLineageStatistics,
  type ChunkRows,
  type LoadContext,
} from './core/context.ts';
import { jsonbText } from './core/jsonb-text.ts';
import { prepareLoads } from './core/load-plan.ts';
import type { OutcomeNote } from './core/outcomes.ts';
import type { ConflictChoices, TableLoadReport } from './core/reports.ts';
import { recordRowHistoryAs } from './lifecycle/connection.ts';
import { withRun, type AbandonedRun } from './lifecycle/with-run.ts';
import {
  classifyDifferences,
  isAcceptable,
  isLeftBehind,
  leftBehindDifferences,
  readAcceptedDifferences,
  recordAcceptedDifferences,
} from './reconcile/differences.ts';
import { reconcileWithinTransaction } from './reconcile/reconcile.ts';
import type { Difference, Reconciliation, TimedTableReport } from './reconcile/types.ts';
import { loadTable } from './table/load-table.ts';
import { refreshStaleBookkeepingStatistics } from './table/statistics.ts';

export type RunMode = 'plan' | 'cutover' | 'reconcile';

export interface RunOptions {
  databaseUrl: string;
  source: Snapshot;
  mappings: LoadedMapping[];
  /** Coda tables the mapping folder declares skipped: not left behind, only listed with their reason. */
  skippedTables?: SkippedTable[];
  mode: RunMode;
  /**
   * A cutover commits although Coda columns or tables holding data are neither loaded nor skipped;
   * they become accepted differences of the cutover. Without it, it refuses before the backup.
   */
  acceptUnmapped?: boolean;
  /** A cutover rolls back when more rows than this are rejected. */
  maxRejects?: number;
  /**
   * Cutover without the whole-database backup: only for `npm start`'s example database, which
   * holds nothing but the example and is loaded on machines without Postgres client tools.
   */
  withoutBackup?: boolean;
  /** Where a cutover writes its backup. */
  runDir: string;
  /** Which side wins where a row edited in Postgres since the last load would be changed. */
  conflictChoices?: ConflictChoices;
  onTableLoaded?: (report: TableLoadReport) => void | Promise<void>;
  /** What reading Coda took, when this run read it live: shown in every report of the run. */
  codaRequests?: CodaRequests | null;
  /** Rows staged at a time (core/context.ts); tests stage a row or two at a time to cross chunk boundaries. */
  chunkRows?: ChunkRows;
}

export interface CodaRequests {
  requests: number;
  rateLimited: number;
  retried: number;
}

export interface RunReport {
  runId: string;
  mode: RunMode;
  doc: { id: string; name: string };
  source: string;
  startedAt: string;
  finishedAt: string;
  outcome: 'planned' | 'committed' | 'rolled_back' | 'reconciled' | 'differences';
  /** Why a cutover rolled back, or that a reconcile found differences (src/report words it). */
  outcomeNote: OutcomeNote | null;
  /**
   * Everything that keeps Postgres from being exactly Coda, accepted or not; for a plan, only the
   * Coda data no mapping loads (which a cutover would refuse unless accepted).
   */
  differences: Difference[];
  /** What of the doc is loaded, skipped on purpose, or left behind. */
  coverage: Coverage;
  codaRequests: CodaRequests | null;
  backup: BackupResult | null;
  /** Earlier runs this one found left running by a process that died, and marked abandoned. */
  abandonedRuns: AbandonedRun[];
  /** What the load did, or for a reconcile what loading again would do (inserted = missing, updated = differ). */
  tables: TimedTableReport[];
  /** Coda against Postgres after a cutover's load, or of a reconcile; none for a plan. */
  reconciliation: Reconciliation | null;
  /** Coda's names for the erp tables, columns and choice values the report shows. */
  vocabulary: Vocabulary;
  /** The rejects a cutover was allowed (--max-rejects); null for a plan or reconcile. */
  maxRejects: number | null;
  /** A cutover told to leave Coda data no mapping loads behind (--accept-unmapped). */
  acceptUnmapped: boolean;
}

function tableCounts(
  report: RunReport,
): Record<string, { read: number; inserted: number; updated: number; unchanged: number; rejected: number }> {
  return Object.fromEntries(
    report.tables.map((table) => [
      table.target,
      {
        read: table.read,
        inserted: table.inserted.length,
        updated: table.updated.length,
        unchanged: table.unchanged,
        rejected: table.rejects.length,
      },
    ]),
  );
}

/** Why a cutover refuses to leave Coda data behind; null when nothing is, or the owner accepted it. */
function leftBehindRefusal(found: Difference[], acceptUnmapped: boolean): OutcomeNote | null {
  const fresh = found.filter((item) => isLeftBehind(item.kind) && item.acceptedByRun === null).length;
  return fresh && !acceptUnmapped ? { code: 'data_left_behind', count: fresh } : null;
}

function rollbackReason(
  tables: TableLoadReport[],
  maxRejects: number,
  found: Difference[],
  acceptUnmapped: boolean,
): OutcomeNote | null {
  const refusal = leftBehindRefusal(found, acceptUnmapped);
  if (refusal) return refusal;
  const rejected = tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (rejected > maxRejects) return { code: 'too_many_rejects', rejected, maxRejects };
  const unsettled = tables.reduce(
    (sum, table) => sum + table.conflicts.filter((conflict) => conflict.winner === null).length,
    0,
  );
  if (unsettled) return { code: 'unsettled_conflicts', count: unsettled };
  const blocking = found.filter((item) => !isAcceptable(item.kind)).length;
  return blocking ? { code: 'differences_remain', count: blocking } : null;
}

async function recordRejects(
  bookkeeping: pg.Client,
  runId: string,
  tables: TableLoadReport[],
): Promise<void> {
  const lines = tables.flatMap((table) =>
    table.rejects.flatMap((reject) =>
      reject.problems.map((problem) => [
        reject.source.tableId,
        reject.source.tableName,
        reject.source.rowId,
        reject.source.browserLink,
        problem.column,
        problem.codaColumn,
        jsonbText(problem.value),
        // As its code and data (src/report/reasons.ts words it); it can quote a rejected parent's name.
        jsonbText(problem.reason),
      ]),
    ),
  );
  if (!lines.length) return;
  const columns = [
    'coda_table_id',
    'coda_table',
    'coda_row_id',
    'browser_link',
    'target_column',
    'coda_column',
    'value',
    'reason',
  ];
  await bookkeeping.query(
    `INSERT INTO pipeline.rejects (run_id, ${columns.join(', ')})
     SELECT $1, ${columns.map((column) => (column === 'value' ? 'r.value::jsonb' : `r.${column}`)).join(', ')}
       FROM unnest(${columns.map((_, index) => `$${index + 2}::text[]`).join(', ')}) AS r(${columns.join(', ')})`,
    [runId, ...columns.map((_, index) => lines.map((line) => line[index]))],
  );
}

export function runLoad(options: RunOptions): Promise<RunReport> {
  const manifest = options.source.manifest();
  // From the doc's columns alone, before the database is touched or a backup taken.
  const problems = mappingProblemsAgainstDoc(options.mappings, manifest.doc, manifest.tables);
  if (problems.length) return Promise.reject(new MappingError(problems));
  return withRun(options.databaseUrl, options.mode, async (run) => {
    const { client } = run;
    const coverage = new CoverageCounter(manifest.tables, {
      mappings: options.mappings,
      skippedTables: options.skippedTables ?? [],
    });
    const accepted = await readAcceptedDifferences(client, manifest.doc.id);
    const leftBehindNow = () => leftBehindDifferences(leftBehind(coverage.result()), accepted);
    // The snapshot is complete: a cutover that would leave data behind refuses before the backup.
    // Only tables with a column neither loaded nor skipped are read ahead; the load counts the rest.
    let refusal: OutcomeNote | null = null;
    if (options.mode === 'cutover' && !options.acceptUnmapped) {
      for (const tableId of coverage.tablesWithUndeclaredColumns()) {
        const countCells = coverage.rowCounter(tableId)!;
        for await (const row of options.source.rows(tableId)) countCells(row);
      }
      refusal = leftBehindRefusal(leftBehindNow(), false);
    }
    // Before the run is on record, so that the database the backup restores has no run left running.
    const backup =
      options.mode === 'cutover' && !options.withoutBackup && !refusal
        ? await backupDatabase(options.databaseUrl, options.runDir)
        : null;
    const runId = await run.begin(manifest.doc.id, options.source.dir);
    const reportOf = (
      outcome: RunReport['outcome'],
      outcomeNote: OutcomeNote | null,
      found: { tables: TimedTableReport[]; reconciliation: Reconciliation | null; differences: Difference[] },
    ): RunReport => ({
      runId,
      mode: options.mode,
      doc: { id: manifest.doc.id, name: manifest.doc.name },
      source: options.source.dir,
      startedAt: run.startedAt,
      finishedAt: new Date().toISOString(),
      outcome,
      outcomeNote,
      backup,
      ...found,
      coverage: coverage.result(),
      codaRequests: options.codaRequests ?? null,
      abandonedRuns: run.abandonedRuns,
      vocabulary: vocabularyOf(options.mappings, manifest.tables),
      maxRejects: options.mode === 'cutover' ? (options.maxRejects ?? 0) : null,
      acceptUnmapped: options.mode === 'cutover' && (options.acceptUnmapped ?? false),
    });
    if (refusal) {
      const report = reportOf('rolled_back', refusal, {
        tables: [],
        reconciliation: null,
        differences: leftBehindNow(),
      });
      await run.finish(report.outcome, refusal, {});
      return report;
    }

    const tablesById = new Map(manifest.tables.map((table) => [table.id, table]));
    const loads = await prepareLoads(client, options.mappings, new Set(tablesById.keys()));
    const context: LoadContext = {
      client,
      docId: manifest.doc.id,
      runId,
      committing: options.mode === 'cutover',
      conflictChoices: options.conflictChoices,
      rejectedRows: new Map(),
      skipUnchanged: options.mode === 'plan',
      chunkRows: options.chunkRows ?? DEFAULT_CHUNK_ROWS,
      keepStagedValues: false,
      lineageStatistics: freshLineageStatistics(),
      coverage,
    };
    let tables: TimedTableReport[] = [];
    let reconciliation: Reconciliation | null = null;
    let found: Difference[] = [];
    await client.query('BEGIN');
    try {
      await refreshStaleBookkeepingStatistics(client);
      if (options.mode === 'cutover') await recordRowHistoryAs(client, runId);
      if (options.mode === 'reconcile') {
        ({ reconciliation, tables } = await reconcileWithinTransaction(
          context,
          loads,
          tablesById,
          options.source,
        ));
        found = await classifyDifferences(tables, reconciliation);
      } else {
        for (const load of loads) {
          const started = performance.now();
          const table = tablesById.get(load.mapping.spec.coda.table)!;
          const report = await loadTable(context, load, table, options.source);
          tables.push({ ...report, seconds: (performance.now() - started) / 1000 });
          await options.onTableLoaded?.(report);
        }
        // The comparison `erp reconcile` makes, over what was just loaded: its verdict decides the
        // commit, so it is the verdict of a reconcile right after.
        if (options.mode === 'cutover') {
          await recordRowHistoryAs(client, null);
          const checked = await reconcileWithinTransaction(context, loads, tablesById, options.source);
          reconciliation = checked.reconciliation;
          found = await classifyDifferences(checked.tables, reconciliation);
        }
      }
      found = [...found, ...leftBehindNow()];
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    const newDifferences = found.filter((item) => item.acceptedByRun === null).length;
    const notes = {
      plan: () => null,
      cutover: () => rollbackReason(tables, options.maxRejects ?? 0, found, options.acceptUnmapped ?? false),
      reconcile: (): OutcomeNote | null =>
        newDifferences ? { code: 'new_differences', count: newDifferences } : null,
    };
    const note = notes[options.mode]();
    const commit = options.mode === 'cutover' && note === null;
    if (commit) await recordAcceptedDifferences(client, runId, manifest.doc.id, found);
    await run.end(commit);
    // What this cutover accepted is listed as accepted by it, as the next reconcile will list it.
    if (commit)
      found = found.map((item) =>
        isAcceptable(item.kind) && item.acceptedByRun === null ? { ...item, acceptedByRun: runId } : item,
      );
    const outcomes = {
      plan: 'planned',
      cutover: commit ? 'committed' : 'rolled_back',
      reconcile: note === null ? 'reconciled' : 'differences',
    } as const;
    const report = reportOf(outcomes[options.mode], note, { tables, reconciliation, differences: found });
    await run.finish(report.outcome, note, tableCounts(report));
    await recordRejects(run.bookkeeping, runId, tables);
    return report;
  });
}
