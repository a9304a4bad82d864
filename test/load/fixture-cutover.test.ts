/**
 * The owner's doc (the fixture stands in for it) through the real extractor, the default
 * mappings and a cutover into a migrated database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { runLoad, type RunReport } from '../../src/load/run.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const { escapeIdentifier } = pg;

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: LoadedMapping[];
let first: RunReport;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-cutover-'));
  snapshot = await snapshotOf(fixtureDoc, workDir);
  mappings = await loadMappings();
  first = await runLoad({
    databaseUrl: db.url,
    source: snapshot,
    mappings,
    mode: 'cutover',
    runDir: path.join(workDir, 'run-1'),
  });
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

const count = async (table: string) =>
  Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

describe('a cutover of the fixture doc', () => {
  it('commits, accounting for every row read as loaded or rejected', () => {
    expect(first.outcome, JSON.stringify(first.outcomeNote)).toBe('committed');
    for (const table of first.tables) {
      expect(
        table.inserted.length + table.updated.length + table.unchanged + table.rejects.length,
        table.target,
      ).toBe(table.read);
    }
    const sourceRows = snapshot
      .manifest()
      .tables.filter((table) => mappings.some((mapping) => mapping.spec.coda.table === table.id));
    expect(first.tables.map((table) => table.read).reduce((a, b) => a + b)).toBe(
      sourceRows.reduce((sum, table) => sum + table.rowCount, 0),
    );
  });

  it('loads parents before children and resolves every link', async () => {
    const order = first.tables.map((table) => table.target);
    expect(order.indexOf('erp.projects')).toBeLessThan(order.indexOf('erp.tasks'));
    expect(order.indexOf('erp.service_blueprints')).toBeLessThan(order.indexOf('erp.workflows'));
    expect(first.tables.flatMap((table) => table.unresolved)).toEqual([]);
    const { rows } = await db.query(
      `SELECT count(*)::int AS linked FROM erp.tasks t JOIN erp.projects p ON p.id = t.project_id`,
    );
    expect(rows[0]?.linked).toBeGreaterThan(0);
  });

  it('records lineage with browser links for every loaded row', async () => {
    const loaded = first.tables.reduce((sum, table) => sum + table.inserted.length, 0);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(browser_link)::int AS linked FROM pipeline.coda_lineage WHERE coda_table_id LIKE 'grid-%'`,
    );
    expect(rows[0]).toEqual({ n: loaded, linked: loaded });
  });

  it('matches Person values to the People table by email, then by name', async () => {
    // What the fixture says: each Person cell names the People row with its email (any case),
    // or, for a person Coda gives without email, the People row with exactly that name.
    const peopleMapping = mappings.find((mapping) => mapping.spec.target === 'erp.people')?.spec;
    const columnId = (column: string) => {
      const spec = peopleMapping?.columns[column];
      return spec && 'from' in spec ? spec.from : '';
    };
    const peopleTable = fixtureDoc.tables.find((table) => table.id === peopleMapping?.coda.table);
    if (!peopleTable) throw new Error('the fixture has no table the people mapping reads');
    const people = Array.from({ length: peopleTable.rowCount }, (_, index) => {
      const { values } = peopleTable.rowAt(index);
      return {
        name: String(values[columnId('full_name')]),
        email: String(values[columnId('email')] ?? '') || null,
      };
    });
    const expected: Record<string, { full_name: string; email: string | null }> = {};
    const actual: typeof expected = {};
    for (const { spec } of mappings) {
      const table = fixtureDoc.tables.find((candidate) => candidate.id === spec.coda.table);
      for (const [target, column] of Object.entries(spec.columns)) {
        if (column.as !== 'person' || !table) continue;
        for (let index = 0; index < table.rowCount; index += 1) {
          const row = table.rowAt(index);
          const value = row.values[column.from] as { name?: string; email?: string } | '';
          if (!value) continue;
          const match = value.email
            ? people.find((person) => person.email?.toLowerCase() === value.email?.toLowerCase())
            : people.find((person) => person.name === value.name);
          expected[`${spec.target}.${target} ${row.id}`] = {
            full_name: match?.name ?? '?',
            email: match?.email ?? null,
          };
        }
        const { rows } = await db.query<{ row_id: string; full_name: string; email: string | null }>(
          `SELECT l.coda_row_id AS row_id, p.full_name, p.email
             FROM pipeline.coda_lineage l
             JOIN ${spec.target.split('.').map(escapeIdentifier).join('.')} t ON t.id = l.target_id
             JOIN erp.people p ON p.id = t.${escapeIdentifier(target)}
            WHERE l.target_table = $1 AND l.coda_table_id = $2`,
          [spec.target, spec.coda.table],
        );
        for (const row of rows)
          actual[`${spec.target}.${target} ${row.row_id}`] = { full_name: row.full_name, email: row.email };
      }
    }
    const matchedBy = Object.values(expected).map((person) => (person.email ? 'email' : 'name'));
    expect(new Set(matchedBy)).toEqual(new Set(['email', 'name']));
    expect(actual).toEqual(expected);
    // Matched people are not created again: erp.people holds the People rows and the new ones only.
    expect(await count('erp.people')).toBe(
      first.tables.find((table) => table.target === 'erp.people')!.inserted.length +
        first.tables.reduce((sum, table) => sum + table.peopleCreated, 0),
    );
  });

  it('inserts and updates nothing when run again, and leaves updated_at alone', async () => {
    const before = await db.query(`SELECT id, updated_at FROM erp.projects ORDER BY id`);
    const again = await runLoad({
      databaseUrl: db.url,
      source: snapshot,
      mappings,
      mode: 'cutover',
      runDir: path.join(workDir, 'run-2'),
    });
    expect(again.outcome).toBe('committed');
    for (const table of again.tables) {
      expect([table.target, table.inserted.length, table.updated.length]).toEqual([table.target, 0, 0]);
    }
    expect((await db.query(`SELECT id, updated_at FROM erp.projects ORDER BY id`)).rows).toEqual(before.rows);
  });
});
