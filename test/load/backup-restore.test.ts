/**
 * The backup a cutover takes restores, by exactly the command docs/RUNBOOK.md shows, onto the
 * same server and onto a fresh one; the database then validates and accepts a new cutover.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, SUPERUSER } from '../../src/db/embedded.ts';
import { connectionUrl, ensureOwnedDatabase, OWNER_ROLE } from '../../src/db/target.ts';
import type { Snapshot } from '../../src/extract/index.ts';
import { erp as runErp, REPO_ROOT } from '../support/cli.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { renamedProjectSnapshot } from '../support/cutover-cli.ts';
import { createTestDatabase, testCluster, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import pg from 'pg';

let db: TestDatabase;
let workDir: string;
let original: Snapshot;
let renamed: Snapshot;
let backupFile: string;
let atBackup: Record<string, unknown[]>;

const erp = (args: string[], databaseUrl: string) => runErp(args, { DATABASE_URL: databaseUrl });

/**
 * The options of the runbook's restore command into `portfolio`; it must show the same one for
 * both ways (the trial restore into a scratch database is a different command).
 */
async function runbookRestoreOptions(): Promise<string[]> {
  const runbook = await readFile(path.join(REPO_ROOT, 'docs/RUNBOOK.md'), 'utf8');
  const commands = [
    ...runbook.matchAll(/docker compose exec -T postgres-erp pg_restore (-U .*) < backups\//g),
  ]
    .map((match) => match[1]!)
    .filter((options) => options.includes('-d portfolio '));
  expect(commands).toHaveLength(2);
  expect(new Set(commands).size).toBe(1);
  return commands[0]!.split(/\s+/);
}

/** The runbook's restore, with `-d portfolio` pointed at this test's database, the dump on stdin. */
async function restore(options: { host: string; port: number; password: string; database: string }) {
  const args = (await runbookRestoreOptions()).map((arg, index, all) =>
    all[index - 1] === '-d' ? options.database : arg,
  );
  expect(args.slice(0, 4)).toEqual(['-U', OWNER_ROLE, '-d', options.database]);
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'pg_restore',
      args,
      {
        env: {
          ...process.env,
          PGHOST: options.host,
          PGPORT: String(options.port),
          PGPASSWORD: options.password,
        },
      },
      (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
    );
    createReadStream(backupFile).pipe(child.stdin!);
  });
}

/** Business data, agent data and the pipeline's runs, row by row. */
async function dumpData(url: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' ORDER BY 1`,
    );
    const dump: Record<string, unknown[]> = {};
    for (const { name } of tables) dump[name] = (await client.query(`SELECT * FROM ${name} ORDER BY 1`)).rows;
    dump.lineage = (await client.query(`SELECT * FROM pipeline.coda_lineage ORDER BY 1, 2, 3`)).rows;
    dump.runs = (await client.query(`SELECT id, mode, outcome FROM pipeline.runs ORDER BY id`)).rows;
    return dump;
  } finally {
    await client.end();
  }
}

async function validatesAndTakesACutover(url: string) {
  const validate = await erp(['validate'], url);
  expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  const cutover = await erp(
    ['cutover', '--snapshot', renamed.dir, '--runs', path.join(workDir, 'runs')],
    url,
  );
  expect(cutover.code, cutover.stdout + cutover.stderr).toBe(0);
  expect(cutover.stdout).toContain('Cutover committed.');
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-restore-'));
  original = await snapshotOf(fixtureDoc, workDir);
  renamed = await renamedProjectSnapshot(workDir);
  expect(
    (await erp(['cutover', '--snapshot', original.dir, '--runs', path.join(workDir, 'runs')], db.url)).code,
  ).toBe(0);
  await db.query(
    `INSERT INTO agent.events (client_id, event_type, message) VALUES ('acme', 'observation', 'kept by the backup')`,
  );
  atBackup = await dumpData(db.url);
  // The second cutover's backup holds the database as it was just before it.
  const second = await erp(
    ['cutover', '--snapshot', renamed.dir, '--runs', path.join(workDir, 'runs')],
    db.url,
  );
  expect(second.code, second.stdout + second.stderr).toBe(0);
  backupFile = second.stdout.match(/Backup \(pg_dump\): (\S+)/)![1]!;
  backupFile = path.resolve(REPO_ROOT, backupFile);
}, 180_000);
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('the backup a cutover takes', () => {
  it('is the whole database, readable by its owner only', async () => {
    expect((await stat(backupFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(backupFile))).mode & 0o777).toBe(0o700);
    const listing = await new Promise<string>((resolve, reject) =>
      execFile('pg_restore', ['--list', backupFile], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    );
    for (const schema of [
      'erp projects',
      'agent events',
      'pipeline coda_lineage',
      'pipeline schema_migrations',
    ])
      expect(listing).toMatch(new RegExp(`TABLE DATA ${schema} `));
  });

  it('restores in place with the runbook command; the database then validates and takes a cutover', async () => {
    const cluster = testCluster();
    await restore({
      host: cluster.host,
      port: cluster.port,
      password: cluster.owner.password,
      database: db.name,
    });
    expect(await dumpData(db.url)).toEqual(atBackup);
    await validatesAndTakesACutover(db.url);
  });

  it('restores onto a fresh server after `erp migrate`, with the same command', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-fresh-pg-'));
    const server = await startEmbeddedPostgres({ dataDir, persistent: false });
    try {
      const password = 'fresh-owner-password';
      const at = (user: string, secret: string, database: string) =>
        connectionUrl({ user, password: secret, host: server.host, port: server.port, database });
      // What the compose file's postgres image does on an empty volume: the owner and its database.
      await ensureOwnedDatabase(at(SUPERUSER, server.superuserPassword, 'postgres'), {
        database: 'portfolio',
        owner: OWNER_ROLE,
        ownerPassword: password,
      });
      const url = at(OWNER_ROLE, password, 'portfolio');
      const migrate = await erp(['migrate'], url);
      expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
      await restore({ host: server.host, port: server.port, password, database: 'portfolio' });
      expect(await dumpData(url)).toEqual(atBackup);
      await validatesAndTakesACutover(url);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
