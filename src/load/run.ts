/**
 * One plan, cutover or reconcile run: every mapped table loaded in dependency order inside ONE
 * transaction, which a plan always rolls back and a cutover commits only when the result is clean
 * and reconciles with Coda. A reconcile runs only the comparison (see reconcile.ts), and rolls back.
 *
 * A plan runs exactly the code a cutover runs, so what it reports is what a cutover would do.
 * The run itself is recorded on a second connection (pipeline.runs, pipeline.rejects), so a run
 * that rolled back or failed is still on record with its reason.
 */
import pg from 'pg';
import type { Snapshot } from '../extract/index.ts';
import { MappingError, type LoadedMapping } from '../transform/mapping-spec.ts';
import { readPackageVersion } from '../version.ts';
import { backupErpSchema, type BackupResult } from './backup.ts';
import { prepareLoads } from './load-plan.ts';
import { loadTable, type TableLoadReport } from './load-table.ts';
import {
  differences,
  loadDifferences,
  reconcileWithinTransaction,
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
  mode: RunMode;
  /** A cutover rolls back when more rows than this are rejected. */
  maxRejects?: number;
  /** Where a cutover writes its backup. */
  runDir: string;
  onTableLoaded?: (report: TableLoadReport) => void | Promise<void>;
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
  backup: BackupResult | null;
  /** What the load did, or for a reconcile what loading again would do (inserted = missing, updated = differ). */
  tables: TimedTableReport[];
  /** Coda against Postgres after a cutover's load, or of a reconcile; none for a plan. */
  reconciliation: Reconciliation | null;
}

export class LoadRefusedError extends Error {}

async function connect(url: string, purpose: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: `erp ${purpose}` });
  // A connection lost between queries is reported by the next query, which fails the run and
  // rolls it back; as an event it would only crash the process.
  client.on('error', () => lostConnections.add(client));
  await client.connect();
  return client;
}

const lostConnections = new WeakSet<pg.Client>();

/** The server ended the session (57P0x) or the connection broke: say so in words the owner can use. */
function isConnectionLoss(error: unknown, client: pg.Client): boolean {
  return lostConnections.has(client) || /^57P0/.test((error as { code?: string }).code ?? '');
}

export function tableCounts(
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

function rollbackReason(tables: TableLoadReport[], maxRejects: number): string | null {
  const rejected = tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (rejected > maxRejects) {
    return `${rejected} row(s) were rejected and at most ${maxRejects} may be (--max-rejects); fix them in Coda or the mappings, then run again`;
  }
  return null;
}

async function recordFinish(
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
        problem.reason,
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
  const startedAt = new Date().toISOString();
  const bookkeeping = await connect(options.databaseUrl, 'bookkeeping');
  const client = await connect(options.databaseUrl, options.mode);
  let runId: string | undefined;
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
    const inserted = await bookkeeping.query<{ id: string }>(
      `INSERT INTO pipeline.runs (mode, coda_doc_id, source, tool_version) VALUES ($1, $2, $3, $4) RETURNING id`,
      [options.mode, manifest.doc.id, options.source.dir, readPackageVersion()],
    );
    runId = inserted.rows[0]!.id;

    const tablesById = new Map(manifest.tables.map((table) => [table.id, table]));
    const loads = await prepareLoads(client, options.mappings, new Set(tablesById.keys()));
    const missing = loads.filter((load) => !tablesById.has(load.mapping.spec.coda.table));
    if (missing.length) {
      throw new MappingError(
        missing
          .map(
            (load) =>
              `${load.mapping.file}: coda.table ${load.mapping.spec.coda.table} ("${load.mapping.spec.coda.name}") is not in doc ${manifest.doc.id}; its tables are ${manifest.tables.map((table) => `${table.id} (${table.name})`).join(', ')}`,
          )
          .join('\n'),
      );
    }

    const backup =
      options.mode === 'cutover' ? await backupErpSchema(client, options.databaseUrl, options.runDir) : null;
    const context = {
      client,
      docId: manifest.doc.id,
      runId,
      committing: options.mode === 'cutover',
      skipUnchanged: options.mode === 'plan',
    };
    let tables: TimedTableReport[] = [];
    let reconciliation: Reconciliation | null = null;
    await client.query('BEGIN');
    try {
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
        // The comparison `erp reconcile` makes, over what was just loaded: it decides the commit.
        if (options.mode === 'cutover')
          ({ reconciliation } = await reconcileWithinTransaction(context, loads, tablesById, options.source));
      }
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    const notes = {
      plan: () => null,
      cutover: () => rollbackReason(tables, options.maxRejects ?? 0) ?? loadDifferences(reconciliation!),
      reconcile: () => differences(reconciliation!).join('; ') || null,
    };
    const note = notes[options.mode]();
    const commit = options.mode === 'cutover' && note === null;
    await client.query(commit ? 'COMMIT' : 'ROLLBACK');
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
    };
    await recordFinish(bookkeeping, runId, report.outcome, note, tableCounts(report));
    await recordRejects(bookkeeping, runId, tables);
    return report;
  } catch (caught) {
    const error = isConnectionLoss(caught, client)
      ? new Error(
          `the connection to the database was lost during the ${options.mode} (${(caught as Error).message}); nothing was committed, so the database is as it was`,
          { cause: caught },
        )
      : caught;
    if (runId) await recordFinish(bookkeeping, runId, 'failed', (error as Error).message, {}).catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
  }
}
