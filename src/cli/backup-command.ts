/**
 * `erp backup`: a verified whole-database backup, kept locally and copied off the machine
 * (src/backup); `--daily-at` keeps doing it every day until stopped (the compose service
 * `backup`). `erp backup list` and `erp backup restore` read the copies back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { type BackupOutcome, DEFAULT_KEEP, secureBackup, takeBackup } from '../backup/backup.ts';
import { restoreFromTarget } from '../backup/restore.ts';
import { type BackupTarget, parseTarget } from '../backup/targets.ts';
import { databaseNameOf } from '../backup/verify.ts';
import { SUPERUSER } from '../db/embedded.ts';
import { connectionUrl, type DatabaseTarget, withDatabase } from '../db/target.ts';
import { renderBackup, renderRestore } from '../report/backup.ts';
import { untilStopped } from './agent-commands.ts';

const BACKUP_DIR = 'backups';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected a whole number above 0');
  return parsed;
}

function timeOfDay(value: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected HH:MM, in UTC (e.g. 02:30)');
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** BACKUP_KEEP, else DEFAULT_KEEP: the number a cutover's copy keeps too. */
function keepFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  return env.BACKUP_KEEP ? positiveInteger(env.BACKUP_KEEP) : DEFAULT_KEEP;
}

/** BACKUP_TARGET, when the operator set one. */
function targetFromEnvironment(env: NodeJS.ProcessEnv = process.env): BackupTarget | undefined {
  return env.BACKUP_TARGET ? parseTarget(env.BACKUP_TARGET, env) : undefined;
}

/**
 * A connection that may create and drop databases on the server: the owner's under compose (the
 * image makes it a superuser); the superuser's for the embedded database, whose owner may not.
 */
function serverUrlOf(target: DatabaseTarget): string {
  const server = target.embedded?.server;
  if (!server) return target.url;
  return connectionUrl({
    user: SUPERUSER,
    password: server.superuserPassword,
    host: server.host,
    port: server.port,
    database: databaseNameOf(target.url),
  });
}

/** After a committed cutover: its backup verified and copied like a nightly one, when a target is set. */
export async function secureCutoverBackup(target: DatabaseTarget, file: string, name: string): Promise<void> {
  const offsite = targetFromEnvironment();
  if (!offsite) return;
  const keep = keepFromEnvironment();
  const outcome = await secureBackup(file, name, { databaseUrl: serverUrlOf(target), keep, target: offsite });
  const { text, failed } = renderBackup(outcome, keep);
  (failed ? console.error : console.log)(text);
}

interface BackupOptions {
  dir: string;
  keep: number;
  to?: string;
  dailyAt?: { hour: number; minute: number };
}

function msUntil({ hour, minute }: { hour: number; minute: number }, now: Date): number {
  const next = new Date(now);
  next.setUTCHours(hour, minute, 0, 0);
  if (next <= now) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}

async function backupOnce(databaseUrl: string, options: BackupOptions, offsite?: BackupTarget) {
  let outcome: BackupOutcome;
  try {
    outcome = await takeBackup({ databaseUrl, dir: options.dir, keep: options.keep, target: offsite });
  } catch (error) {
    console.error(`BACKUP FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  const { text, failed } = renderBackup(outcome, options.keep);
  (failed ? console.error : console.log)(text);
  return !failed;
}

export function registerBackupCommand(program: Command): void {
  const backup = program
    .command('backup')
    .description(
      'back up the whole database, verify it by restoring it into a scratch database, keep the newest --keep, copy it off the machine (--to); exit 1 when it fails verification or the copy',
    )
    .option('--dir <dir>', 'the local folder of backups', BACKUP_DIR)
    .option(
      '--keep <n>',
      `how many backups to keep, here and at the target (default: BACKUP_KEEP, else ${DEFAULT_KEEP})`,
      positiveInteger,
    )
    .option(
      '--to <target>',
      'copy it to a folder (a path or dir:/path) or a bucket (s3://bucket/prefix); default: BACKUP_TARGET',
    )
    .option('--daily-at <HH:MM>', 'keep running, one backup a day at this UTC time, until stopped', timeOfDay)
    .action((options: Omit<BackupOptions, 'keep'> & { keep?: number }) =>
      withDatabase(async (target) => {
        const offsite = options.to ? parseTarget(options.to) : targetFromEnvironment();
        const resolved: BackupOptions = { ...options, keep: options.keep ?? keepFromEnvironment() };
        // The trial restore needs a connection that may create a database.
        const once = () => backupOnce(serverUrlOf(target), resolved, offsite);
        if (!options.dailyAt) {
          if (!(await once())) process.exitCode = 1;
          return;
        }
        const { stopped, isStopped } = untilStopped();
        console.log(
          `Backing up every day at ${options.dailyAt.hour.toString().padStart(2, '0')}:${options.dailyAt.minute.toString().padStart(2, '0')} UTC.`,
        );
        for (;;) {
          await Promise.race([sleep(msUntil(options.dailyAt, new Date())), stopped]);
          if (isStopped()) return;
          await once();
        }
      }),
    );

  backup
    .command('list')
    .description('the backups at a target, newest first')
    .requiredOption('--from <target>', 'a folder (a path or dir:/path) or a bucket (s3://bucket/prefix)')
    .action(async (options: { from: string }) => {
      const stored = await parseTarget(options.from).list();
      if (!stored.length) console.log(`No backup at ${options.from}.`);
      for (const { name, sizeBytes } of stored)
        console.log(`${name}  ${sizeBytes.toLocaleString('en-US')} bytes`);
    });

  backup
    .command('restore')
    .description(
      'fetch a backup back from a target and restore it into a NEW database on the same server (never over the live one)',
    )
    .argument('[name]', 'the backup to restore (erp backup list --from shows them)')
    .requiredOption('--from <target>', 'a folder (a path or dir:/path) or a bucket (s3://bucket/prefix)')
    .option('--latest', 'the newest backup there (the default when no name is given)')
    .requiredOption('--into <database>', 'the new database, e.g. portfolio_restored; it must not exist')
    .option('--dir <dir>', 'where the copy is fetched to while it is restored', BACKUP_DIR)
    .action(
      (name: string | undefined, options: { from: string; latest?: boolean; into: string; dir: string }) => {
        if (name && options.latest)
          throw new InvalidArgumentError('give a backup name or --latest, not both');
        return withDatabase(async (target) => {
          const outcome = await restoreFromTarget({
            serverUrl: serverUrlOf(target),
            target: parseTarget(options.from),
            name,
            into: options.into,
            workDir: options.dir,
          });
          (outcome.ok ? console.log : console.error)(renderRestore(outcome));
          if (!outcome.ok) process.exitCode = 1;
        });
      },
    );
}
