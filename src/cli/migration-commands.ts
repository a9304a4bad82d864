/**
 * The Coda migration commands: plan (dry run), cutover, and the mapping bootstrap.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { runLoad, type RunMode, type RunReport } from '../load/run.ts';
import { formatOutcome, formatSummaryTable } from '../report/terminal.ts';
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

const REJECTS_SHOWN = 20;

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return parsed;
}

/** runs/20250102T030405Z-cutover: one folder per run, for its backup and reports. */
function runDirectory(root: string, mode: RunMode, at: Date): string {
  return path.join(root, `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${mode}`);
}

export function printRunReport(report: RunReport): void {
  console.log(`\n${report.mode === 'plan' ? 'Plan' : 'Cutover'} of "${report.doc.name}" (${report.doc.id}) from ${displayPath(report.source)}\n`);
  console.log(formatSummaryTable(report));
  const rejects = report.tables.flatMap((table) => table.rejects);
  if (rejects.length) {
    console.log(`\nRejected rows (${rejects.length}):`);
    for (const reject of rejects.slice(0, REJECTS_SHOWN)) {
      console.log(`  ${reject.source.tableName} / ${reject.source.rowName || reject.source.rowId}: ${reject.problems.map((problem) => problem.reason).join('; ')}`);
      console.log(`    ${reject.source.browserLink}`);
    }
    if (rejects.length > REJECTS_SHOWN) console.log(`  … and ${rejects.length - REJECTS_SHOWN} more in the report`);
  }
  const unresolved = report.tables.flatMap((table) => table.unresolved);
  if (unresolved.length) console.log(`\n${unresolved.length} optional link(s) could not be resolved and were left empty; see the report.`);
  console.log(`\n${formatOutcome(report)}`);
}

/** One plan or cutover against an open database; its report is printed and kept in its run folder. */
export async function runMigration(target: DatabaseTarget, mode: RunMode, options: RunCommandOptions): Promise<RunReport> {
  const mappings = await loadMappings(options.mappings);
  const source = await openSource(options);
  const runDir = runDirectory(options.runs, mode, new Date());
  const report = await runLoad({ databaseUrl: target.url, source, mappings, mode, maxRejects: options.maxRejects, runDir });
  await mkdir(runDir, { recursive: true });
  await writeFile(path.join(runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  printRunReport(report);
  console.log(`Report: ${displayPath(path.join(runDir, 'report.json'))}`);
  if (report.outcome === 'rolled_back') process.exitCode = 1;
  return report;
}

function addRunOptions(command: Command): Command {
  return addCodaOptions(command, { snapshot: true })
    .option('--out <dir>', 'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)')
    .option('--mappings <dir>', 'the mapping files', MAPPINGS_DIR)
    .option('--runs <dir>', 'where each run keeps its backup and reports', 'runs');
}

async function draftTables(options: CodaOptions): Promise<DraftTable[]> {
  if (options.snapshot || !options.doc) return (await openSource(options)).manifest().tables;
  const client = await codaClient(options);
  const tables = await client.listBaseTables(options.doc);
  return Promise.all(tables.map(async (table) => ({ id: table.id, name: table.name, columns: await client.listColumns(options.doc!, table) })));
}

export function registerMigrationCommands(program: Command): void {
  addRunOptions(program.command('plan').description('dry run: what a cutover would insert, update and reject, without writing anything')).action(
    async (options: RunCommandOptions) => {
      await withDatabase((target) => runMigration(target, 'plan', options));
    },
  );

  addRunOptions(program.command('cutover').description('back up erp, load every mapped table in one transaction, commit only if clean'))
    .option('--max-rejects <n>', 'roll back when more rows than this are rejected', count, 0)
    .action(async (options: RunCommandOptions) => {
      await withDatabase((target) => runMigration(target, 'cutover', options));
    });

  const mappings = program.command('mappings').description('list a doc\'s tables and columns, and write draft mapping files');
  addCodaOptions(mappings.command('list').description('every base table and column: name, id, format, formula, link target'), { snapshot: true }).action(
    async (options: CodaOptions) => {
      const tables = await draftTables(options);
      for (const table of tables) {
        console.log(`${table.name} (${table.id})`);
        for (const column of table.columns) {
          const format = column.format as { type: string; isArray?: boolean; table?: { id?: string; name?: string } };
          const link = format.table ? ` -> ${format.table.name ?? ''} (${format.table.id ?? '?'})` : '';
          console.log(`  ${column.id}  ${column.name}  ${format.type}${format.isArray ? ' list' : ''}${column.calculated ? ' formula' : ''}${link}`);
        }
      }
    },
  );
  addCodaOptions(
    mappings
      .command('draft')
      .description('write draft mapping files for the named tables, keyed by column id, with suggested erp columns')
      .requiredOption('--table <names...>', 'Coda table names or ids to draft')
      .option('--mappings <dir>', 'where to write the drafts', MAPPINGS_DIR)
      .option('--force', 'overwrite existing mapping files'),
    { snapshot: true },
  ).action(async (options: CodaOptions & { table: string[]; mappings: string; force?: boolean }) => {
    const tables = await draftTables(options);
    const written = await withDatabase((target) => writeDraftMappings({ databaseUrl: target.url, tables, wanted: options.table, dir: options.mappings, force: options.force ?? false }));
    for (const draft of written) console.log(`wrote ${displayPath(draft.file)}${draft.target ? ` (-> ${draft.target})` : ' (choose its target table)'}`);
  });
}
