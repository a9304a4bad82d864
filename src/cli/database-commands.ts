import path from 'node:path';
import type { Command } from 'commander';
import { type AppliedState, migrate, migrationStatus, newerThanCode } from '../db/migrations.ts';
import {
  DATABASE_NAME,
  EXAMPLE_DATABASE_NAME,
  openDatabase,
  psqlCommand,
  withDatabase,
  type DatabaseTarget,
} from '../db/target.ts';
import { validateSchema } from '../db/validate.ts';
import { MAPPINGS_DIR } from '../transform/mapping-spec.ts';
import { EXAMPLE_SNAPSHOT } from './example.ts';
import { runMigration } from './migration-commands.ts';

async function migrateAndReport(target: DatabaseTarget): Promise<void> {
  const { applied, newerThanCode: ahead } = await migrate(target.url, {
    log: (line) => console.log(`  ${line}`),
  });
  if (ahead.length) {
    console.log(
      `${target.label} is ahead of this version of the code: it has ${ahead.join(', ')}, applied by a newer ` +
        'version and not in migrations/. Nothing was changed: migrations only roll forward, so the database ' +
        'keeps them and this version runs against it. To undo a migration, add a new numbered migration ' +
        'that reverses it (docs/RUNBOOK.md, "Rolling back").',
    );
    return;
  }
  console.log(
    applied.length
      ? `Applied ${applied.length} migration(s) to ${target.label}`
      : `Nothing to migrate: ${target.label} is up to date`,
  );
}

const STATUS_NOTES: Record<AppliedState, string> = {
  ok: '',
  edited: '  EDITED SINCE APPLIED',
  'missing-file': '  FILE MISSING',
  'newer-than-code': '  applied by a newer version of the code (the database is ahead; migrate leaves it)',
};

async function validateAndReport(target: DatabaseTarget): Promise<boolean> {
  const result = await validateSchema(target.url);
  for (const message of result.messages) (result.ok ? console.log : console.error)(message);
  return result.ok;
}

/** The example doc in its own database, so `portfolio`, where a real cutover goes, never holds it. */
async function loadExample(example: DatabaseTarget): Promise<void> {
  await migrate(example.url);
  await runMigration(example, 'cutover', {
    snapshot: EXAMPLE_SNAPSHOT,
    mappings: MAPPINGS_DIR,
    // Its reports stay with its data, apart from the runs/ of real migrations.
    runs: path.join(example.embedded?.dataDir ?? '.', 'example-runs'),
    timeout: 60,
    // `npm ci && npm start` needs no Postgres client tools, and this database holds only the example.
    withoutBackup: true,
  });
  console.log(`
The example doc is in its own database, ${EXAMPLE_DATABASE_NAME}:
  ${psqlCommand(example)}
${DATABASE_NAME}, the database a real migration loads into, holds none of it. For your own doc: \`npm run erp -- up\`,
then \`npm run erp -- mappings draft --doc <docId> --table <names...>\` (see docs/MIGRATING_CODA.md).`);
}

function printConnection(target: DatabaseTarget): void {
  console.log(`\nConnect with:\n  ${psqlCommand(target)}`);
}

export function registerDatabaseCommands(program: Command): void {
  program
    .command('up')
    .description(
      'bring the database up (embedded unless DATABASE_URL is set), migrate it, print how to connect, exit',
    )
    .option(
      '--with-example',
      `then, on the embedded database only, run a cutover of the example doc in ${path.relative(process.cwd(), EXAMPLE_SNAPSHOT)}`,
    )
    .action((options: { withExample?: boolean }) =>
      withDatabase(async (target) => {
        await migrateAndReport(target);
        if (!(await validateAndReport(target))) process.exitCode = 1;
        // The example's made-up business must never land in a real database, nor beside real data.
        if (options.withExample && !target.embedded)
          console.log(
            'DATABASE_URL is set: the example doc is migrated only into the embedded database, so it was skipped.',
          );
        else if (options.withExample) await withDatabase(loadExample, { database: EXAMPLE_DATABASE_NAME });
        printConnection(target);
        if (target.embedded && !target.embedded.server.attached) {
          console.log(
            `The data stays in ${target.embedded.dataDir}; run \`npm run erp -- serve\` to keep the server running.`,
          );
        }
      }),
    );

  program
    .command('serve')
    .description('run the embedded database in the foreground until interrupted (Ctrl-C)')
    .action(async () => {
      if (process.env.DATABASE_URL)
        throw new Error('serve runs the embedded database; unset DATABASE_URL to use it');
      const target = await openDatabase();
      if (target.embedded?.server.attached) {
        console.log(`The embedded database is already running (another process serves it).`);
        printConnection(target);
        return;
      }
      await migrateAndReport(target);
      printConnection(target);
      console.log('Serving; press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await target.close();
      console.log('Stopped; the data is kept.');
    });

  program
    .command('migrate')
    .description('apply pending migrations from migrations/ (each file in one transaction)')
    .action(() => withDatabase(migrateAndReport));

  program
    .command('status')
    .description('list applied and pending migrations, and applied files that were edited since')
    .action(() =>
      withDatabase(async (target) => {
        const status = await migrationStatus(target.url);
        for (const migration of status.applied) {
          console.log(
            `applied  ${migration.name}  ${migration.appliedAt.toISOString()}${STATUS_NOTES[migration.state]}`,
          );
        }
        for (const migration of status.pending) console.log(`pending  ${migration.name}`);
        if (!status.applied.length && !status.pending.length) console.log('No migrations found.');
        const wrong = status.applied.some(({ state }) => state === 'edited' || state === 'missing-file');
        const diverged = newerThanCode(status).length > 0 && status.pending.length > 0;
        if (wrong || diverged) process.exitCode = 1;
      }),
    );

  program
    .command('validate')
    .description('check the schema with migrations/validate_schema.sql')
    .action(() =>
      withDatabase(async (target) => {
        if (!(await validateAndReport(target))) process.exitCode = 1;
      }),
    );
}
