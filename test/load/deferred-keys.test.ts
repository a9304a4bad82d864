/**
 * A first load into empty tables drops their non-unique indexes and foreign keys and makes them
 * again once the rows are in (deferred-keys.ts): the catalog ends as it began, comments included;
 * a row breaking a key still fails the load; and a table another session holds is loaded the
 * row-by-row way rather than waited for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { deferKeysOfEmptyTable } from '../../src/load/table/deferred-keys.ts';
import { runLoad } from '../../src/load/run.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: LoadedMapping[];

/** Every key, index and their comments in erp, as the catalog describes them. */
const catalog = async () =>
  (
    await db.query<{ item: string }>(
      `SELECT c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) || ' ' || c.convalidated
              || ' ' || coalesce(obj_description(c.oid, 'pg_constraint'), '-') AS item
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'erp'
       UNION ALL
       SELECT i.indexrelid::regclass || ' ' || pg_get_indexdef(i.indexrelid) || ' ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'erp'
       ORDER BY 1`,
    )
  ).rows.map((row) => row.item);

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-deferred-keys-'));
  snapshot = await snapshotOf(fixtureDoc, workDir);
  mappings = await loadMappings();
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('a first load into empty tables', () => {
  it('leaves every index and foreign key as it was, validated and with its comment', async () => {
    const before = await catalog();
    expect(before.some((item) => item.includes('tasks_project_id_fkey'))).toBe(true);
    const report = await runLoad({
      databaseUrl: db.url,
      source: snapshot,
      mappings,
      mode: 'cutover',
      runDir: path.join(workDir, 'cutover'),
    });
    expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('committed');
    expect(await catalog()).toEqual(before);
  });

  it('still refuses a row that breaks a foreign key, naming the key', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const deferred = await deferKeysOfEmptyTable(client, { schema: 'erp', table: 'deliverables' });
      expect(deferred).not.toBeNull();
      await client.query(
        `INSERT INTO erp.deliverables (name, engagement_id) VALUES ('Final report', 987654321)`,
      );
      await expect(deferred!.restore()).rejects.toThrow(/deliverables_engagement_id_fkey/);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await client.end();
    }
  });

  it('is loaded row by row when another session holds a table its keys point at', async () => {
    const other = await createTestDatabase();
    const holder = new pg.Client({ connectionString: other.url });
    const loader = new pg.Client({ connectionString: other.url });
    await holder.connect();
    await loader.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE erp.people IN ACCESS SHARE MODE');
      // Nothing deferred, nothing dropped, and the load's transaction still usable.
      await loader.query('BEGIN');
      expect(await deferKeysOfEmptyTable(loader, { schema: 'erp', table: 'tasks' })).toBeNull();
      const { rows } = await loader.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'erp.tasks'::regclass AND contype = 'f'`,
      );
      expect(rows[0]!.n).toBe(5);
      await loader.query('ROLLBACK');
      // And a whole plan goes through, the row-by-row way.
      const report = await runLoad({
        databaseUrl: other.url,
        source: snapshot,
        mappings,
        mode: 'plan',
        runDir: path.join(workDir, 'plan-while-held'),
      });
      expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('planned');
      expect(report.tables.reduce((sum, table) => sum + table.inserted.length, 0)).toBeGreaterThan(0);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
      await loader.end();
      await other.drop();
    }
  });
});
