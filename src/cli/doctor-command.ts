import type { Command } from 'commander';
import { databaseUrlFromEnvironment, withDatabase } from '../db/target.ts';
import { doctorExitCode, judgeHealth } from '../health/checks.ts';
import { gatherHealthFacts } from '../health/facts.ts';
import { renderDoctor } from '../report/doctor.ts';

interface DoctorOptions {
  postgrestUrl?: string;
  backups: string[];
  disk: string[];
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function doctor(databaseUrl: string, options: DoctorOptions): Promise<void> {
  const facts = await gatherHealthFacts({
    databaseUrl,
    postgrestUrl: options.postgrestUrl,
    backupFolders: options.backups,
    // The working folder too: in the container it is on the disk Docker (and its volumes) use.
    diskPaths: [...new Set(['.', ...options.backups, ...options.disk])],
  });
  const findings = judgeHealth(facts, new Date());
  console.log(renderDoctor(findings));
  process.exitCode = doctorExitCode(findings);
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the stack in one go: database and migrations, PostgREST, the newest backup, disk space, the last cutover and reconcile, the agent memory sweep. Exit 0 all OK, 1 a warning, 2 a failure',
    )
    .option(
      '--postgrest-url <url>',
      "PostgREST's admin address, whose /ready is checked (default: POSTGREST_ADMIN_URL; unchecked, with a warning, without one)",
      process.env.POSTGREST_ADMIN_URL,
    )
    .option(
      '--backups <dir>',
      'a folder holding backups (*.dump, also one level down); repeatable (default: runs, backups)',
      collect,
    )
    .option(
      '--disk <path>',
      'another path whose disk is checked for free space (the backup folders always are); repeatable',
      collect,
    )
    .action((options: Partial<DoctorOptions>) => {
      const resolved = {
        ...options,
        backups: options.backups ?? ['runs', 'backups'],
        disk: options.disk ?? [],
      };
      // Against the production database as it is: never created or migrated by a check.
      const url = databaseUrlFromEnvironment();
      if (url) return doctor(url, resolved);
      return withDatabase((target) => doctor(target.url, resolved));
    });
}
