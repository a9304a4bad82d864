/**
 * `erp doctor` as the operator runs it, against a real database of the test cluster, a stand-in
 * for PostgREST's admin server (its /ready answers what the test says) and a backup folder.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let backups: string;
let postgrest: Server;
let readyStatus = 200;
let postgrestUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  backups = await mkdtemp(path.join(os.tmpdir(), 'erp-doctor-backups-'));
  postgrest = createServer((request, response) => {
    response.writeHead(request.url === '/ready' ? readyStatus : 404).end();
  });
  postgrest.listen(0, '127.0.0.1');
  await once(postgrest, 'listening');
  postgrestUrl = `http://127.0.0.1:${(postgrest.address() as AddressInfo).port}`;
});

afterAll(async () => {
  postgrest?.close();
  await db?.drop();
  if (backups) await rm(backups, { recursive: true, force: true });
});

const doctor = () =>
  erp(['doctor', '--postgrest-url', postgrestUrl, '--backups', backups], { DATABASE_URL: db.url });

describe('erp doctor', () => {
  it('says OK for a migrated database, a ready API and a fresh backup', async () => {
    const run = path.join(backups, '20261207T020000Z-cutover');
    await mkdir(run);
    await writeFile(path.join(run, 'portfolio-backup.dump'), 'PGDMP stand-in');
    const result = await doctor();
    const lines = result.stdout.split('\n').filter((line) => /^(OK|WARN|FAIL)/.test(line));
    // One Disk line per file system: the working folder and the backups may be on two.
    expect([...new Set(lines.map((line) => line.split(':')[0]!.slice(6)))]).toEqual([
      'Database',
      'Migrations',
      'PostgREST',
      'Backup',
      'Disk',
      'Cutover',
      'Reconcile',
      'Agent memory',
    ]);
    // This machine's disk is what it is; every other line is OK.
    for (const line of lines.filter((one) => !one.includes('Disk:'))) expect(line).toMatch(/^OK {4}/);
    expect(result.stdout).toMatch(/Backup: newest is .*portfolio-backup\.dump, \d+ minutes old, 14 bytes/);
    const disks = lines.filter((line) => line.includes('Disk:'));
    const worst = disks.some((line) => line.startsWith('FAIL'))
      ? 2
      : disks.some((line) => line.startsWith('WARN'))
        ? 1
        : 0;
    expect(result.code).toBe(worst);
  });

  it('fails when PostgREST is not ready, and warns about an unreconciled cutover, a stale backup and an unswept memory', async () => {
    readyStatus = 503;
    await db.query(
      `INSERT INTO pipeline.runs (mode, coda_doc_id, source, tool_version, outcome, finished_at)
       VALUES ('cutover', 'doc', 'snapshots/x', 'test', 'committed', clock_timestamp())`,
    );
    await db.query(
      `INSERT INTO agent.memory_entries (client_id, content, created_at, ttl_minutes)
       VALUES ('doctor-client', 'forgotten long ago', now() - interval '2 days', 1)`,
    );
    const old = new Date(Date.now() - 3 * 24 * 3_600_000);
    await utimes(path.join(backups, '20261207T020000Z-cutover', 'portfolio-backup.dump'), old, old);

    const result = await doctor();
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toMatch(
      /^FAIL {2}PostgREST: not ready at http:\/\/127\.0\.0\.1:\d+ \(HTTP 503\)\n {6}fix: /m,
    );
    expect(result.stdout).toMatch(/^WARN {2}Backup: newest is .*, 3 days old/m);
    expect(result.stdout).toMatch(/^OK {4}Cutover: last cutover \(.+\): committed$/m);
    expect(result.stdout).toMatch(/^WARN {2}Reconcile: the cutover of .+ has not been reconciled$/m);
    expect(result.stdout).toMatch(/^WARN {2}Agent memory: 1 expired agent memories waiting/m);
  });

  it('fails, with the fix, when the database cannot be reached', async () => {
    const result = await erp(['doctor', '--postgrest-url', postgrestUrl, '--backups', backups], {
      DATABASE_URL: 'postgresql://erp_admin:x@127.0.0.1:1/portfolio',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^FAIL {2}Database: cannot be reached/m);
    expect(result.stdout).not.toMatch(/Migrations:|Cutover:/);
  });
});
