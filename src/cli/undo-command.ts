/**
 * `erp undo`: reverts the last committed cutover (or `--run ID`), or with --dry-run shows what
 * undoing it would do. Its report is printed and kept in its run folder like a plan's.
 */
import type { Command } from 'commander';
import { withDatabase } from '../db/target.ts';
import { runUndo } from '../load/undo/undo.ts';
import { MappingError } from '../transform/mapping-problems.ts';
import { loadMappings, MAPPINGS_DIR } from '../transform/mapping-spec.ts';
import { formatUndoTerminal, writeUndoReports } from '../report/undo.ts';
import { displayPath } from './extract-commands.ts';
import { runDirectory } from './migration-commands.ts';

interface UndoCommandOptions {
  run?: string;
  dryRun?: boolean;
  keepChanged?: boolean;
  runs: string;
  mappings: string;
}

export function registerUndoCommand(program: Command): void {
  program
    .command('undo')
    .description(
      'revert the last committed cutover in one transaction: rows it inserted removed, rows it changed given their earlier values back',
    )
    .option('--run <id>', 'the cutover to undo (default: the last committed one not undone yet)')
    .option('--dry-run', 'show what the undo would do, change nothing')
    .option(
      '--keep-changed',
      'when rows were edited in Postgres or are needed by other rows since the cutover, keep those rows as they are now and undo the rest',
    )
    .option('--runs <dir>', 'where each run keeps its reports', 'runs')
    .option('--mappings <dir>', 'the mapping files, for the Coda names of the fields shown', MAPPINGS_DIR)
    .action(async (options: UndoCommandOptions) => {
      // The way back must work even when the mappings are broken: fields then go by column name.
      const mappings = await loadMappings(options.mappings).catch((error: unknown) => {
        if (error instanceof MappingError) return [];
        throw error;
      });
      const report = await withDatabase((target) =>
        runUndo({
          databaseUrl: target.url,
          runId: options.run,
          dryRun: options.dryRun ?? false,
          keepChanged: options.keepChanged ?? false,
          mappings,
        }),
      );
      const summary = formatUndoTerminal(report);
      const files = await writeUndoReports(runDirectory(options.runs, 'undo', new Date()), report, summary);
      console.log(`\n${summary}`);
      console.log(
        `Reports: ${displayPath(files['report.html'])} (for people), ${displayPath(files['report.md'])}, ${displayPath(files['report.json'])}`,
      );
      if (report.outcome === 'rolled_back') process.exitCode = 1;
    });
}
