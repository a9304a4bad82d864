/**
 * The backup a cutover takes before loading, in both forms, and the load order's cycle check.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupErpSchema } from '../../src/load/backup.ts';
import { dependencyOrder, type TableLoad } from '../../src/load/load-plan.ts';
import { runLoad } from '../../src/load/run.ts';
import { loadMappings } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const run = promisify(execFile);
const hasPgDump = await run('pg_dump', ['--version']).then(
  () => true,
  () => false,
);

let db: TestDatabase;
let workDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-backup-'));
  const first = await runLoad({
    databaseUrl: db.url,
    source: await snapshotOf(fixtureDoc, workDir),
    mappings: await loadMappings(),
    mode: 'cutover',
    runDir: path.join(workDir, 'first'),
  });
  expect(first.outcome).toBe('committed');
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('the backup before a cutover', () => {
  it.skipIf(!hasPgDump)(
    'is a pg_dump of the erp schema that pg_restore can read, holding the rows loaded so far',
    async () => {
      const client = await db.pool.connect();
      try {
        const backup = await backupErpSchema(client, db.url, path.join(workDir, 'dump'));
        expect(backup.kind).toBe('pg_dump');
        const { stdout } = await run('pg_restore', ['--list', backup.path]);
        expect(stdout).toMatch(/TABLE DATA erp projects/);
        expect(stdout).not.toMatch(/TABLE DATA pipeline/);
      } finally {
        client.release();
      }
    },
  );

  it('is one CSV per erp table when there is no pg_dump', async () => {
    const client = await db.pool.connect();
    process.env.PG_DUMP = 'none';
    try {
      const backup = await backupErpSchema(client, db.url, path.join(workDir, 'csv'));
      expect(backup.kind).toBe('csv');
      const files = await readdir(backup.path);
      expect(files).toEqual(expect.arrayContaining(['projects.csv', 'tasks.csv', 'people.csv', 'README.md']));
      // Restorable as the README there says: COPY it back and compare with the table.
      await client.query('CREATE TEMP TABLE restored (LIKE erp.projects)');
      await pipeline(
        createReadStream(path.join(backup.path, 'projects.csv')),
        client.query(copyFrom('COPY restored FROM STDIN WITH (FORMAT csv, HEADER)')),
      );
      const { rows } = await client.query(
        `SELECT (SELECT count(*) FROM restored)::int AS restored, (SELECT count(*) FROM erp.projects)::int AS projects,
                (SELECT count(*) FROM (SELECT * FROM erp.projects EXCEPT SELECT * FROM restored) missing)::int AS missing`,
      );
      expect(rows[0]).toEqual({ restored: rows[0].projects, projects: expect.any(Number), missing: 0 });
      expect(rows[0].projects).toBeGreaterThan(0);
    } finally {
      delete process.env.PG_DUMP;
      client.release();
    }
  });

  it('is taken by every cutover, into its run folder, and never by a plan', async () => {
    const source = await snapshotOf(fixtureDoc, workDir);
    const mappings = await loadMappings();
    const cutover = await runLoad({
      databaseUrl: db.url,
      source,
      mappings,
      mode: 'cutover',
      runDir: path.join(workDir, 'cutover'),
    });
    expect(cutover.backup?.path).toMatch(new RegExp(`^${path.join(workDir, 'cutover')}`));
    expect(existsSync(cutover.backup!.path)).toBe(true);
    const plan = await runLoad({
      databaseUrl: db.url,
      source,
      mappings,
      mode: 'plan',
      runDir: path.join(workDir, 'plan'),
    });
    expect(plan.backup).toBeNull();
    expect(existsSync(path.join(workDir, 'plan'))).toBe(false);
  });
});

describe('the load order', () => {
  const load = (file: string, target: string, references: string[]): TableLoad =>
    ({
      mapping: { file, spec: {} },
      target: { name: target },
      columns: [],
      references: references.map((referencedTable) => ({
        column: `${referencedTable}_id`,
        kind: 'row',
        referencedTable,
      })),
    }) as unknown as TableLoad;

  it('puts parents first', () => {
    const order = dependencyOrder([
      load('tasks.yaml', 'erp.tasks', ['erp.projects']),
      load('projects.yaml', 'erp.projects', ['erp.ventures']),
      load('ventures.yaml', 'erp.ventures', []),
    ]);
    expect(order.map((entry) => entry.target.name)).toEqual(['erp.ventures', 'erp.projects', 'erp.tasks']);
  });

  it('names the files of a cycle', () => {
    expect(() =>
      dependencyOrder([
        load('a.yaml', 'erp.a', ['erp.b']),
        load('b.yaml', 'erp.b', ['erp.a']),
        load('c.yaml', 'erp.c', []),
      ]),
    ).toThrow(
      /the mappings link in a cycle, so no table can load first: a\.yaml \(erp\.a\), b\.yaml \(erp\.b\)/,
    );
  });

  it('refuses a table that links to itself', () => {
    expect(() => dependencyOrder([load('goals.yaml', 'erp.goals', ['erp.goals'])])).toThrow(
      /goals\.yaml: erp\.goals links to itself/,
    );
  });
});
