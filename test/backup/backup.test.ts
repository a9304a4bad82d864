/**
 * `erp backup` end to end against a folder and a local S3-compatible server (s3rver): a verified
 * dump kept locally and copied off, the older copies pruned on both sides to --keep (and nothing
 * else touched), a copy restored into a fresh database with its data, and a dump that cannot be
 * restored reported as failed verification, copied nowhere.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTool } from '../../src/backup/pg-tools.ts';
import { withClient } from '../../src/db/client.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { erp, REPO_ROOT } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const BUCKET = 'erp-backups';
const SECRET = 'S3RVER';
const EVENT = 'gardé par la sauvegarde ✓';
/** Older than anything the tests take, so pruning must remove exactly these. */
const OLD = ['portfolio-20200101T000000Z.dump', 'portfolio-20200102T000000Z-cutover.dump'];

let db: TestDatabase;
let workDir: string;
let server: S3rver;
let endpoint: string;
let s3: S3Client;
const restored: string[] = [];

const databaseUrl = (database: string) => {
  const url = new URL(db.superuserUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

function eventsIn(database: string): Promise<string[]> {
  return withClient(databaseUrl(database), async (client) =>
    (await client.query<{ message: string }>('SELECT message FROM agent.events ORDER BY id')).rows.map(
      (row) => row.message,
    ),
  );
}

/** As the compose service runs it: the owner's URL may create databases there (a superuser here). */
const backupEnv = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.superuserUrl,
  BACKUP_TARGET: undefined,
  ...extra,
});

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(
    `INSERT INTO agent.events (client_id, event_type, message) VALUES ('client_a', 'observation', $1)`,
    [EVENT],
  );
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-backup-'));
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: path.join(workDir, 's3'),
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET },
  });
}, 60_000);

afterAll(async () => {
  for (const database of restored)
    await withClient(db.superuserUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
    );
  await db.drop();
  s3.destroy();
  await server.close();
  await rm(workDir, { recursive: true, force: true });
});

async function seed(dir: string, names: string[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const name of names) await writeFile(path.join(dir, name), 'an old backup');
}

const backupsIn = async (dir: string) => (await readdir(dir)).sort();

describe('erp backup to a folder', () => {
  it('keeps --keep verified backups here and there, leaves other files alone, and restores the copy into a fresh database', async () => {
    const local = path.join(workDir, 'local');
    const offsite = path.join(workDir, 'offsite');
    await seed(local, OLD);
    await seed(offsite, [...OLD, 'notes.txt']);

    const result = await erp(
      ['backup', '--dir', local, '--keep', '2', '--to', `dir:${offsite}`],
      backupEnv(),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const name = /Backup (portfolio-\d{8}T\d{6}Z\.dump): verified/.exec(result.stdout)?.[1];
    expect(name, result.stdout).toBeDefined();
    expect(result.stdout).toContain(`Copied to dir:${offsite}.`);
    expect(await backupsIn(local)).toEqual([OLD[1], name].sort());
    expect(await backupsIn(offsite)).toEqual([OLD[1], name, 'notes.txt'].sort());
    expect(await readFile(path.join(offsite, name!))).toEqual(await readFile(path.join(local, name!)));
    const doctor = await erp(['doctor', '--backups', local], { DATABASE_URL: db.url });
    expect(doctor.stdout).toContain(`Backup: newest is ${path.join(local, name!)}`);

    const into = `${db.name}_from_dir`;
    restored.push(into);
    const restore = await erp(
      ['backup', 'restore', '--from', `dir:${offsite}`, '--latest', '--into', into, '--dir', local],
      backupEnv(),
    );
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`Restored ${name} from dir:${offsite} into the new database ${into}`);
    expect(await eventsIn(into)).toContain(EVENT);
    // The live database is untouched, and the fetched copy does not stay behind.
    expect(await eventsIn(db.name)).toContain(EVENT);
    expect(await backupsIn(local)).toEqual([OLD[1], name].sort());

    const again = await erp(['backup', 'restore', '--from', offsite, '--into', into], backupEnv());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`The database ${into} already exists`);
  }, 120_000);

  it('reports a dump that cannot be restored as failed verification, and copies and prunes nothing', async () => {
    const local = path.join(workDir, 'corrupt-local');
    const offsite = path.join(workDir, 'corrupt-offsite');
    await seed(local, OLD);
    await seed(offsite, OLD);
    // A pg_dump whose output is cut short, as a full disk or a killed dump leaves it.
    const truncating = path.join(workDir, 'truncating-pg_dump');
    await writeFile(
      truncating,
      `#!/bin/sh\nif [ "$1" = --version ]; then exec "${await findPgTool('pg_dump')}" --version; fi\n"${await findPgTool('pg_dump')}" "$@" | head -c 4000\n`,
    );
    await chmod(truncating, 0o755);

    const result = await erp(
      ['backup', '--dir', local, '--keep', '1', '--to', offsite],
      backupEnv({ PG_DUMP: truncating }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /BACKUP FAILED VERIFICATION: portfolio-\d{8}T\d{6}Z\.dump could not be restored/,
    );
    const kept = (await backupsIn(local)).filter((name) => !OLD.includes(name));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/\.dump\.unverified$/);
    expect(await backupsIn(offsite)).toEqual([...OLD].sort());
    // The doctor does not count it as a backup.
    const doctor = await erp(['doctor', '--backups', local], { DATABASE_URL: db.url });
    expect(doctor.stdout).toContain(`Backup: newest is ${local}/portfolio-2020`);
    // The scratch database is gone.
    const scratch = await withClient(
      db.superuserUrl,
      async (client) =>
        (await client.query(`SELECT datname FROM pg_database WHERE datname LIKE '%verify%'`)).rows,
    );
    expect(scratch).toEqual([]);
  }, 120_000);
});

describe('erp backup to an S3-compatible bucket', () => {
  it('uploads with keys from files, prunes the prefix to --keep, and restores the copy into a fresh database', async () => {
    const prefix = 'nightly';
    for (const key of [...OLD.map((name) => `${prefix}/${name}`), `${prefix}/README.txt`, `other/${OLD[0]}`])
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'an old backup' }));
    const secretFile = path.join(workDir, 'aws_secret_access_key');
    await writeFile(secretFile, `${SECRET}\n`);
    const env = backupEnv({
      BACKUP_S3_ENDPOINT: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY_FILE: secretFile,
    });
    const local = path.join(workDir, 's3-local');

    const result = await erp(
      ['backup', '--dir', local, '--keep', '2', '--to', `s3://${BUCKET}/${prefix}`],
      env,
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const name = /Backup (portfolio-\S+\.dump): verified/.exec(result.stdout)![1]!;
    expect(result.stdout).toContain(`Copied to s3://${BUCKET}/${prefix}/.`);
    expect(result.stdout).toContain(`Kept the newest 2 there; removed ${OLD[0]}.`);
    // The SDK's warning about Node versions does not reach the operator's output.
    expect(result.stderr).toBe('');
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents!.map(
      (object) => object.Key,
    );
    expect(keys.sort()).toEqual(
      [`${prefix}/${OLD[1]}`, `${prefix}/${name}`, `${prefix}/README.txt`, `other/${OLD[0]}`].sort(),
    );

    const listing = await erp(['backup', 'list', '--from', `s3://${BUCKET}/${prefix}`], env);
    expect(listing.stdout.split('\n')[0]).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')} `));

    const into = `${db.name}_from_s3`;
    restored.push(into);
    const restore = await erp(
      ['backup', 'restore', '--from', `s3://${BUCKET}/${prefix}`, '--into', into, '--dir', local],
      env,
    );
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(await eventsIn(into)).toContain(EVENT);
  }, 120_000);
});

describe('the backup a cutover takes', () => {
  it('is verified and copied to BACKUP_TARGET after the cutover, keeping BACKUP_KEEP there', async () => {
    const offsite = path.join(workDir, 'cutover-offsite');
    await seed(offsite, OLD);
    const snapshot = await snapshotOf(fixtureDoc, workDir);
    const result = await erp(
      ['cutover', '--snapshot', snapshot.dir, '--runs', path.join(workDir, 'runs')],
      backupEnv({ BACKUP_TARGET: `dir:${offsite}`, BACKUP_KEEP: '1' }),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Cutover committed.');
    const [copy, ...rest] = await backupsIn(offsite);
    expect(rest).toEqual([]);
    expect(copy).toMatch(/^portfolio-\d{8}T\d{6}Z-cutover\.dump$/);
    expect(result.stdout).toContain(`Backup ${copy}: verified`);
    const inRunFolder = /Backup \(pg_dump\): (\S+)/.exec(result.stdout)![1]!;
    expect(await readFile(path.join(offsite, copy!))).toEqual(
      await readFile(path.resolve(REPO_ROOT, inRunFolder)),
    );
  }, 120_000);
});
