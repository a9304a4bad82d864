/**
 * The life of every run, plan, cutover, reconcile and undo alike, written once: two connections,
 * the one lock all runs share (a second run is refused at once instead of queueing), the runs an
 * earlier process left running marked abandoned, the run on record (pipeline.runs) with how it
 * ended, and SIGINT/SIGTERM turned into a rollback that is recorded as such.
 */
import type pg from 'pg';
import { readPackageVersion } from '../../shared/version.ts';
import { jsonbText } from '../core/jsonb-text.ts';
import type { OutcomeNote, Refusal, RunNote, StopNote } from '../core/outcomes.ts';
import { connect, isConnectionLoss } from './connection.ts';

export type RunKind = 'plan' | 'cutover' | 'reconcile' | 'undo';

/** Held for the whole of a run: a second one is refused at once instead of queueing. */
export const LOAD_LOCK_KEY = 7_301_452_907;

/**
 * A run's id is the UTC time it was put on record, as digits to the millisecond
 * (20261207235912345 for 23:59:12.345 on 7 December 2026), or one more than the last id if ever
 * two runs were put on record within the same millisecond.
 * An identity sequence would be set back by restoring a backup in place, and hand a later run
 * the id of one the restore took away, whose reports still name it; time is not set back, so an
 * id names one run for good. Drawn while holding LOAD_LOCK_KEY, so two runs never draw at once.
 */
const NEXT_RUN_ID = `greatest(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSMS')::bigint, coalesce(max(id), 0) + 1)`;

/** The run cannot start, or cannot do what it was asked; nothing was changed. src/report words why. */
export class LoadRefusedError extends Error {
  constructor(readonly refusal: Refusal) {
    super(`refused: ${JSON.stringify(refusal)}`);
  }
}

/** The run committed, and something after the commit failed: the message is that failure's. */
export class CommittedRunError extends Error {
  constructor(
    readonly runId: string,
    failure: string,
  ) {
    super(failure);
  }
}

/** The run stopped before anything was committed (src/report words why). */
export class RunStoppedError extends Error {
  constructor(
    readonly note: StopNote,
    options?: ErrorOptions,
  ) {
    super(`stopped: ${JSON.stringify(note)}`, options);
  }
}

/** The process was stopped by a signal before anything was committed. */
export class RunInterruptedError extends RunStoppedError {
  constructor(readonly signal: NodeJS.Signals) {
    super({ code: 'interrupted', signal });
  }
}

/** A run whose process died (killed with -9, crashed), found and marked by the next run. */
export interface AbandonedRun {
  runId: string;
  mode: string;
  startedAt: string;
  /** Its load was committed before it died: its rows are in Postgres. */
  committed: boolean;
}

/** What the work of a run is given. */
export interface Run {
  /** The work's connection: its transaction, and the lock. */
  client: pg.Client;
  /** The run's record, apart from the work's transaction. */
  bookkeeping: pg.Client;
  startedAt: string;
  /** Earlier runs found left running by a process that died, now marked abandoned. */
  abandonedRuns: AbandonedRun[];
  /**
   * Puts the run on record and gives its id, once the work knows its doc and source (a cutover
   * after its backup, so that the backup holds no run left running).
   */
  begin(docId: string, source: string): Promise<string>;
  /** Sends COMMIT (or ROLLBACK): once COMMIT is on its way, a signal no longer interrupts the run. */
  end(commit: boolean): Promise<void>;
  /** Records how the run ended, why when it did not go through, and what it counted. */
  finish(outcome: string, note: OutcomeNote | null, counts: object): Promise<void>;
}

export async function withRun<T>(
  databaseUrl: string,
  mode: RunKind,
  work: (run: Run) => Promise<T>,
): Promise<T> {
  const bookkeeping = await connect(databaseUrl, 'bookkeeping');
  const client = await connect(databaseUrl, mode, { loading: true });
  let runId: string | undefined;
  // A signal ends the work's connection: the server rolls the transaction back, the query under
  // way fails, and the run is recorded as interrupted. Once COMMIT is sent, the run finishes.
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
    await takeTheLock(client, bookkeeping);
    const run: Run = {
      client,
      bookkeeping,
      startedAt: new Date().toISOString(),
      abandonedRuns: await markAbandonedRuns(bookkeeping),
      begin: async (docId, source) => {
        const inserted = await bookkeeping.query<{ id: string }>(
          `INSERT INTO pipeline.runs (id, mode, coda_doc_id, source, tool_version) OVERRIDING SYSTEM VALUE
           SELECT ${NEXT_RUN_ID}, $1, $2, $3, $4 FROM pipeline.runs RETURNING id::text AS id`,
          [mode, docId, source, readPackageVersion()],
        );
        runId = inserted.rows[0]!.id;
        return runId;
      },
      end: async (commit) => {
        committing = commit;
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
        committed = commit;
      },
      finish: async (outcome, note, counts) => {
        if (runId) await recordFinish(bookkeeping, runId, outcome, note, counts);
      },
    };
    return await work(run);
  } catch (caught) {
    if (committed) {
      // Recording the run failed after the commit: the data is in, and the error must say so.
      const error = new CommittedRunError(runId!, (caught as Error).message);
      const note: RunNote = { code: 'committed_then_failed', error: (caught as Error).message };
      await recordFinish(bookkeeping, runId!, 'committed_report_failed', note, {}).catch(() => {});
      throw error;
    }
    const error = interrupted
      ? new RunInterruptedError(interrupted)
      : isConnectionLoss(caught, client)
        ? new RunStoppedError(
            { code: 'connection_lost', mode, error: (caught as Error).message },
            { cause: caught },
          )
        : caught;
    const note: RunNote =
      error instanceof RunStoppedError ? error.note : { code: 'failed', error: (error as Error).message };
    if (runId)
      await recordFinish(bookkeeping, runId, interrupted ? 'interrupted' : 'failed', note, {}).catch(
        () => {},
      );
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
  }
}

/** One refusal for one cause: another run holds the lock, and which one it is when it is on record. */
async function takeTheLock(client: pg.Client, bookkeeping: pg.Client): Promise<void> {
  const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    LOAD_LOCK_KEY,
  ]);
  if (locked.rows[0]?.locked) return;
  const running = await bookkeeping.query<{ id: string; mode: string; started_at: Date }>(
    `SELECT id, mode, started_at FROM pipeline.runs WHERE outcome = 'running' ORDER BY id DESC LIMIT 1`,
  );
  const other = running.rows[0];
  throw new LoadRefusedError({
    code: 'run_in_progress',
    other: other ? { runId: other.id, mode: other.mode, startedAt: other.started_at.toISOString() } : null,
  });
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
            outcome_note = jsonb_build_object('code', 'abandoned', 'committed',
              EXISTS (SELECT FROM pipeline.coda_lineage l WHERE l.last_run_id = r.id))::text
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

async function recordFinish(
  bookkeeping: pg.Client,
  runId: string,
  outcome: string,
  note: RunNote | null,
  counts: object,
): Promise<void> {
  await bookkeeping.query(
    `UPDATE pipeline.runs SET finished_at = clock_timestamp(), outcome = $2, outcome_note = $3, counts = $4 WHERE id = $1`,
    [runId, outcome, note && jsonbText(note), JSON.stringify(counts)],
  );
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
      [runId, jsonbText({ code: 'committed_then_failed', error: message } satisfies RunNote)],
    );
  } finally {
    await client.end();
  }
}
