/**
 * The backup a cutover takes before loading (restores: backup-restore.test.ts), and the load order's cycle check.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyOrder, type TableLoad } from '../../src/load/core/load-plan.ts';
import { LoadRefusedError } from '../../src/load/lifecycle/with-run.ts';
import { runLoad } from '../../src/load/run.ts';
import { refusalText } from '../../src/report/reasons.ts';
import { loadMappings } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { mappingErrorWords } from '../support/mapping-errors.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

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
  it('refuses the cutover, changing nothing, when there is no pg_dump', async () => {
    const before = await db.query('SELECT count(*)::int AS n FROM erp.projects');
    process.env.PG_DUMP = path.join(workDir, 'no-such-pg_dump');
    try {
      const refused = await runLoad({
        databaseUrl: db.url,
        source: await snapshotOf(fixtureDoc, workDir),
        mappings: await loadMappings(),
        mode: 'cutover',
        runDir: path.join(workDir, 'no-pg-dump'),
      }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(LoadRefusedError);
      expect(refusalText((refused as LoadRefusedError).refusal)).toMatch(
        /needs pg_dump, which is not installed; install the Postgres 15 client .* Nothing was changed/,
      );
    } finally {
      delete process.env.PG_DUMP;
    }
    expect((await db.query('SELECT count(*)::int AS n FROM erp.projects')).rows).toEqual(before.rows);
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

  it('names the files of a cycle', async () => {
    expect(
      await mappingErrorWords(() =>
        dependencyOrder([
          load('a.yaml', 'erp.a', ['erp.b']),
          load('b.yaml', 'erp.b', ['erp.a']),
          load('c.yaml', 'erp.c', []),
        ]),
      ),
    ).toBe(
      'the mappings link in a cycle, so no table can load first: a.yaml (erp.a), b.yaml (erp.b); make one of those links a text column',
    );
  });

  it('refuses a table that links to itself', async () => {
    expect(
      await mappingErrorWords(() => dependencyOrder([load('goals.yaml', 'erp.goals', ['erp.goals'])])),
    ).toBe(
      'goals.yaml does not fit the database:\n  erp.goals links to itself; self-links are not supported yet, map that column as text',
    );
  });
});
