/**
 * One plan, cutover or reconcile run: every mapped table loaded in dependency order inside ONE
 * transaction, which a plan always rolls back and a cutover commits only when the result is clean
 * and reconciles with Coda. A reconcile runs only the comparison (see reconcile.ts), and rolls back.
 *
 * A plan runs exactly the code a cutover runs, so what it reports is what a cutover would do.
 * The run itself is recorded on a second connection (pipeline.runs, pipeline.rejects), so a run
 * that rolled back or failed is still on record with its reason.
 */
import type pg from 'pg';
import { openClient } from '../db/client.ts';
import type { Snapshot } from '../extract/index.ts';
import { MappingError, type LoadedMapping, type SkippedTable } from '../transform/mapping-spec.ts';
import { CoverageCounter, leftBehind, type Coverage } from '../transform/coverage.ts';
import { visible } from '../shared/visible.ts';
import { readPackageVersion } from '../shared/version.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { vocabularyOf, type Vocabulary } from '../transform/vocabulary.ts';
import { backupDatabase, type BackupResult } from './backup.ts';
import type { ConflictChoices } from './conflicts.ts';
import { prepareLoads } from './load-plan.ts';
import {
  DEFAULT_CHUNK_ROWS,
  freshLineageStatistics,
  loadTable,
  type ChunkRows,
  type TableLoadReport,
} from './load-table.ts';
import {
  classifyDifferences,
  isAcceptable,
  isLeftBehind,
  leftBehindDifferences,
  readAcceptedDifferences,
  reconcileWithinTransaction,
  recordAcceptedDifferences,
  type Difference,
  type Reconciliation,
  type TimedTableReport,
} from './reconcile.ts';

export type RunMode = 'plan' | 'cutover' | 'reconcile';

/** Held for the whole of a run: a second one is refused at once instead of queueing. */
export const LOAD_LOCK_KEY = 7_301_452_907;

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
  /** Rows staged at a time (load-table.ts); tests stage a row or two at a time to cross chunk boundaries. */
  chunkRows?: ChunkRows;
}

export interface CodaRequests {
  requests: number;
  rateLimited: number;
  retried: number;
}

/** The cutover committed, and something after the commit failed. */
export class CommittedRunError extends Error {
  constructor(
    readonly runId: string,
    failure: string,
  ) {
    super(`COMMITTED; then this failed: ${failure}`);
  }
}

/** The process was stopped by a signal before anything was committed. */
export class RunInterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted (${signal}): nothing was committed, the database is as it was`);
  }
}

export interface RunReport {
  runId: string;
  mode: RunMode;
  doc: { id: string; name: string };
  source: string;
  startedAt: string;
  finishedAt: string;
  outcome: 'planned' | 'committed' | 'rolled_back' | 'reconciled' | 'differences';
  /** Why a cutover rolled back, or where a reconcile found differences, in words for the owner. */
  outcomeNote: string | null;
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

/** A run whose process died (killed with -9, crashed), found and marked by the next run. */
export interface AbandonedRun {
  runId: string;
  mode: string;
  startedAt: string;
  /** Its load was committed before it died: its rows are in Postgres. */
  committed: boolean;
}

export class LoadRefusedError extends Error {}

/**
 * The row history triggers (migration 007) record what this transaction writes under `runId`;
 * without it (null) they record nothing, which is how edits made in Postgres stay apart. Only
 * what is committed needs a history: plans and reconciliation passes, always rolled back, skip it.
 */
export async function recordRowHistoryAs(client: pg.ClientBase, runId: string | null): Promise<void> {
  await client.query(`SELECT set_config('pipeline.run_id', $1, true)`, [runId ?? '']);
}

/**
 * The load's session keeps a chunk's staging tables in memory: temp_buffers (8 MB by default,
 * 4 MB in deploy/postgresql.conf) holds less than one chunk's stage, which then goes through the
 * file system at every step. 32 MB fits the 300 MB database container. Only a session's first
 * temporary table fixes it, hence at connection.
 */
const LOAD_SESSION_OPTIONS = '-c temp_buffers=32MB';

export async function connect(url: string, purpose: string, { loading = false } = {}): Promise<pg.Client> {
  const client = await openClient(url, {
    application_name: `erp ${purpose}`,
    ...(loading ? { options: LOAD_SESSION_OPTIONS } : {}),
  });
  // A connection lost between queries is reported by the next query, which fails the run and
  // rolls it back; as an event it would only crash the process.
  client.on('error', () => lostConnections.add(client));
  return client;
}

const lostConnections = new WeakSet<pg.Client>();

/** The server ended the session (57P0x) or the connection broke: say so in words the owner can use. */
function isConnectionLoss(error: unknown, client: pg.Client): boolean {
  return lostConnections.has(client) || /^57P0/.test((error as { code?: string }).code ?? '');
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
function leftBehindRefusal(found: Difference[], acceptUnmapped: boolean): string | null {
  const fresh = found.filter((item) => isLeftBehind(item.kind) && item.acceptedByRun === null).length;
  return fresh && !acceptUnmapped
    ? `${fresh} Coda column(s) or table(s) hold data that no mapping loads; map them, declare them skipped in their mapping (skip:), or run the cutover again with --accept-unmapped to leave them behind on purpose`
    : null;
}

function rollbackReason(
  tables: TableLoadReport[],
  maxRejects: number,
  found: Difference[],
  acceptUnmapped: boolean,
): string | null {
  const refusal = leftBehindRefusal(found, acceptUnmapped);
  if (refusal) return refusal;
  const rejected = tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (rejected > maxRejects) {
    return `${rejected} row(s) were rejected and at most ${maxRejects} may be (--max-rejects); fix them in Coda or the mappings, then run again`;
  }
  const unsettled = tables.reduce(
    (sum, table) => sum + table.conflicts.filter((conflict) => conflict.winner === null).length,
    0,
  );
  if (unsettled) {
    return `${unsettled} row(s) were edited or deleted in Postgres since the last load and Coda would change them; say which side wins with --prefer coda|postgres, or per row with --decisions FILE, then run again`;
  }
  const blocking = found.filter((item) => !isAcceptable(item.kind)).length;
  return blocking ? `reconciliation failed: ${blocking} difference(s) with Coda remain after loading` : null;
}

/**
 * Runs left `running` by a process that died (killed, crashed, machine lost). Only called while
 * holding LOAD_LOCK_KEY, which every run holds while it lives: so none of them is alive.
 */
async function markAbandonedRuns(bookkeeping: pg.Client): Promise<AbandonedRun[]> {
  const { rows } = await bookkeeping.query<{
    id: string;
    mode: string;
    started_at: Date;
    committed: boolean;
  }>(
    `UPDATE pipeline.runs r SET outcome = 'abandoned', finished_at = greatest(clock_timestamp(), r.started_at),
            outcome_note = CASE
              WHEN EXISTS (SELECT FROM pipeline.coda_lineage l WHERE l.last_run_id = r.id)
                THEN 'its process ended after the load was COMMITTED, before the run was recorded as finished'
              ELSE 'its process ended before finishing (killed or crashed); nothing of it was committed' END
      WHERE r.outcome = 'running'
      RETURNING r.id::text AS id, r.mode, r.started_at,
                EXISTS (SELECT FROM pipeline.coda_lineage l WHERE l.last_run_id = r.id) AS committed`,
  );
  return rows
    .map((row) => ({
      runId: row.id,
      mode: row.mode,
      startedAt: row.started_at.toISOString(),
      committed: row.committed,
    }))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** After a committed run, writing its reports failed: the run stays committed, and says so. */
export async function recordReportFailure(
  databaseUrl: string,
  runId: string,
  message: string,
): Promise<void> {
  const client = await connect(databaseUrl, 'bookkeeping');
  try {
    await client.query(
      `UPDATE pipeline.runs SET outcome = 'committed_report_failed', outcome_note = $2 WHERE id = $1 AND outcome = 'committed'`,
      [runId, `COMMITTED; writing the reports failed afterwards: ${message}`],
    );
  } finally {
    await client.end();
  }
}

export async function recordFinish(
  bookkeeping: pg.Client,
  runId: string,
  outcome: string,
  note: string | null,
  counts: object,
): Promise<void> {
  await bookkeeping.query(
    `UPDATE pipeline.runs SET finished_at = clock_timestamp(), outcome = $2, outcome_note = $3, counts = $4 WHERE id = $1`,
    [runId, outcome, note, JSON.stringify(counts)],
  );
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
        // jsonb cannot hold U+0000 either: the rejected value shows it as the visible symbol ␀.
        JSON.stringify(problem.value ?? null).replace(/\\u0000/g, '\u2400'),
        // A reason can quote a row name (a rejected parent's) that holds one.
        visible(problem.reason),
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

export async function runLoad(options: RunOptions): Promise<RunReport> {
  const manifest = options.source.manifest();
  // From the doc's columns alone, before the database is touched or a backup taken.
  const problems = mappingProblemsAgainstDoc(options.mappings, manifest.doc, manifest.tables);
  if (problems.length) throw new MappingError(problems.join('\n'));
  const startedAt = new Date().toISOString();
  const bookkeeping = await connect(options.databaseUrl, 'bookkeeping');
  const client = await connect(options.databaseUrl, options.mode, { loading: true });
  let runId: string | undefined;
  // A signal ends the load connection: the server rolls the transaction back, the query under way
  // fails, and the run is recorded as interrupted. Once COMMIT is sent, the run finishes.
  let interrupted: NodeJS.Signals | null = null;
  let committing = false;
  let committed = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (committing || interrupted) return;
    interrupted = signal;
    void client.end().catch(() => {});
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      LOAD_LOCK_KEY,
    ]);
    if (!locked.rows[0]?.locked) {
      const running = await bookkeeping.query<{ id: string; mode: string; started_at: Date }>(
        `SELECT id, mode, started_at FROM pipeline.runs WHERE outcome = 'running' ORDER BY id DESC LIMIT 1`,
      );
      const other = running.rows[0];
      throw new LoadRefusedError(
        `another plan or cutover is running${other ? ` (run ${other.id}, ${other.mode}, started ${other.started_at.toISOString()})` : ''}; wait for it to finish, then try again`,
      );
    }
    const abandonedRuns = await markAbandonedRuns(bookkeeping);
    const coverage = new CoverageCounter(manifest.tables, {
      mappings: options.mappings,
      skippedTables: options.skippedTables ?? [],
    });
    const accepted = await readAcceptedDifferences(client, manifest.doc.id);
    const leftBehindNow = () => leftBehindDifferences(leftBehind(coverage.result()), accepted);
    // The snapshot is complete: a cutover that would leave data behind refuses before the backup.
    // Only tables with a column neither loaded nor skipped are read ahead; the load counts the rest.
    let refusal: string | null = null;
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
    const inserted = await bookkeeping.query<{ id: string }>(
      `INSERT INTO pipeline.runs (mode, coda_doc_id, source, tool_version) VALUES ($1, $2, $3, $4) RETURNING id`,
      [options.mode, manifest.doc.id, options.source.dir, readPackageVersion()],
    );
    runId = inserted.rows[0]!.id;
    if (refusal) {
      const report: RunReport = {
        runId,
        mode: options.mode,
        doc: { id: manifest.doc.id, name: manifest.doc.name },
        source: options.source.dir,
        startedAt,
        finishedAt: new Date().toISOString(),
        outcome: 'rolled_back',
        outcomeNote: refusal,
        backup: null,
        tables: [],
        reconciliation: null,
        differences: leftBehindNow(),
        coverage: coverage.result(),
        abandonedRuns,
        codaRequests: options.codaRequests ?? null,
        vocabulary: vocabularyOf(options.mappings, manifest.tables),
        maxRejects: options.mode === 'cutover' ? (options.maxRejects ?? 0) : null,
        acceptUnmapped: options.mode === 'cutover' && (options.acceptUnmapped ?? false),
      };
      await recordFinish(bookkeeping, runId, report.outcome, refusal, {});
      return report;
    }

    const tablesById = new Map(manifest.tables.map((table) => [table.id, table]));
    const loads = await prepareLoads(client, options.mappings, new Set(tablesById.keys()));

    const context = {
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
      if (options.mode === 'cutover') await recordRowHistoryAs(client, runId);
      if (options.mode === 'reconcile') {
        ({ reconciliation, tables } = await reconcileWithinTransaction(
          context,
          loads,
          tablesById,
          options.source,
        ));
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
      if (options.mode === 'reconcile') found = await classifyDifferences(tables, reconciliation!);
      found = [...found, ...leftBehindNow()];
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    const newDifferences = found.filter((item) => item.acceptedByRun === null).length;
    const notes = {
      plan: () => null,
      cutover: () => rollbackReason(tables, options.maxRejects ?? 0, found, options.acceptUnmapped ?? false),
      reconcile: () =>
        newDifferences ? `${newDifferences} difference(s) with Coda that no cutover accepted` : null,
    };
    const note = notes[options.mode]();
    const commit = options.mode === 'cutover' && note === null;
    if (commit) await recordAcceptedDifferences(client, runId, manifest.doc.id, found);
    committing = commit;
    await client.query(commit ? 'COMMIT' : 'ROLLBACK');
    committed = commit;
    // What this cutover accepted is listed as accepted by it, as the next reconcile will list it.
    if (commit)
      found = found.map((item) =>
        isAcceptable(item.kind) && item.acceptedByRun === null ? { ...item, acceptedByRun: runId! } : item,
      );
    const outcomes = {
      plan: 'planned',
      cutover: commit ? 'committed' : 'rolled_back',
      reconcile: note === null ? 'reconciled' : 'differences',
    } as const;
    const report: RunReport = {
      runId,
      mode: options.mode,
      doc: { id: manifest.doc.id, name: manifest.doc.name },
      source: options.source.dir,
      startedAt,
      finishedAt: new Date().toISOString(),
      outcome: outcomes[options.mode],
      outcomeNote: note,
      backup,
      tables,
      reconciliation,
      differences: found,
      coverage: coverage.result(),
      codaRequests: options.codaRequests ?? null,
      abandonedRuns,
      vocabulary: vocabularyOf(options.mappings, manifest.tables),
      maxRejects: options.mode === 'cutover' ? (options.maxRejects ?? 0) : null,
      acceptUnmapped: options.mode === 'cutover' && (options.acceptUnmapped ?? false),
    };
    await recordFinish(bookkeeping, runId, report.outcome, note, tableCounts(report));
    await recordRejects(bookkeeping, runId, tables);
    return report;
  } catch (caught) {
    if (committed) {
      // Recording the run failed after the commit: the data is in, and the error must say so.
      const error = new CommittedRunError(runId!, (caught as Error).message);
      await recordFinish(bookkeeping, runId!, 'committed_report_failed', error.message, {}).catch(() => {});
      throw error;
    }
    const error = interrupted
      ? new RunInterruptedError(interrupted)
      : isConnectionLoss(caught, client)
        ? new Error(
            `the connection to the database was lost during the ${options.mode} (${(caught as Error).message}); nothing was committed, so the database is as it was`,
            { cause: caught },
          )
        : caught;
    const outcome = error instanceof RunInterruptedError ? 'interrupted' : 'failed';
    if (runId) await recordFinish(bookkeeping, runId, outcome, (error as Error).message, {}).catch(() => {});
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
  }
}
