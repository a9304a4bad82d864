/**
 * Plans skip the rows that did not change since the last committed load (same Coda row, same
 * mapping, same converter), and still show everything that did change; a reconcile compares
 * every row, so an edit made in Postgres shows up there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { runLoad, type RunOptions } from '../../src/load/run.ts';
import { findUnchangedRows, rowId, sourceHash } from '../../src/load/table/unchanged-rows.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: LoadedMapping[];
let run = 0;

const load = (overrides: Partial<RunOptions>) =>
  runLoad({
    databaseUrl: db.url,
    source: snapshot,
    mappings,
    mode: 'plan',
    runDir: path.join(workDir, `run-${++run}`),
    ...overrides,
  });

const projectsMapping = () => mappings.find((mapping) => mapping.spec.target === 'erp.projects')!;

/** How many rows of erp.projects a plan would skip, with the given mapping (of the given snapshot). */
async function skippableProjects(mapping: LoadedMapping, source: Snapshot = snapshot): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const unchanged = await findUnchangedRows(
      client,
      {
        docId: snapshot.manifest().doc.id,
        codaTableId: projectsTable.id,
        target: 'erp.projects',
        targetTable: 'erp.projects',
      },
      source,
      mapping,
    );
    return unchanged?.count ?? 0;
  } finally {
    await client.query('ROLLBACK');
    await client.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-unchanged-'));
  snapshot = await snapshotOf(fixtureDoc, workDir);
  mappings = await loadMappings();
  const cutover = await load({ mode: 'cutover' });
  expect(cutover.outcome, JSON.stringify(cutover.outcomeNote)).toBe('committed');
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('rowId', () => {
  it('reads the id JSON.parse would, even when a later key names it again', () => {
    const idOf = (text: string) =>
      rowId({
        text,
        row: () => {
          throw new Error('parsed in full');
        },
      });
    expect(idOf('{"id":"i-1","values":{"c-1":"a \\"quoted\\" id"}}')).toBe('i-1');
    expect(idOf('{"id":"i-1","values":{},"id":"i-2"}')).toBe('i-2');
    expect(idOf('{"id":"i-1","values":{},"id" : "i-2"}')).toBe('i-2');
    expect(idOf('{"id":"i-1","values":{},"\\u0069d":"i-2"}')).toBe('i-2');
    expect(idOf('{"id":"i-\\u0031","values":{}}')).toBe('i-1');
  });
});

describe('sourceHash', () => {
  const row = (address: string, name: string) =>
    `{"id":"i-1","type":"row","href":"${address}/apis/v1/docs/d/tables/t/rows/i-1","name":"${name}","values":{"c-1":"${name}","c-2":{"href":"kept"}}}`;

  it('hashes what a row holds, not the API address it was read through', () => {
    expect(sourceHash('f', row('http://127.0.0.1:4001', 'a'))).toBe(
      sourceHash('f', row('https://coda.io', 'a')),
    );
    expect(sourceHash('f', row('https://coda.io', 'a'))).not.toBe(
      sourceHash('f', row('https://coda.io', 'b')),
    );
    expect(sourceHash('f', row('https://coda.io', 'a'))).not.toBe(
      sourceHash('g', row('https://coda.io', 'a')),
    );
    // An href among the values is content.
    const inValues = (value: string) => `{"id":"i-1","values":{"c-2":{"href":"${value}"}}}`;
    expect(sourceHash('f', inValues('x'))).not.toBe(sourceHash('f', inValues('y')));
  });
});

describe('a plan after a cutover', () => {
  it('skips every loaded row of an unchanged doc and still accounts for every row read', async () => {
    const loaded = Number(
      (await db.query(`SELECT count(*) AS n FROM pipeline.coda_lineage WHERE target_table = 'erp.projects'`))
        .rows[0]?.n,
    );
    expect(loaded).toBeGreaterThan(0);
    expect(await skippableProjects(projectsMapping())).toBe(loaded);

    const plan = await load({});
    for (const table of plan.tables) {
      expect(table.inserted.slice(), table.target).toEqual([]);
      expect(table.updated.slice(), table.target).toEqual([]);
      expect(table.goneFromCoda.slice(), table.target).toEqual([]);
      expect(table.unchanged + table.rejects.length, table.target).toBe(table.read);
    }
  });

  it('compares every row again when the mapping changed', async () => {
    const mapping = projectsMapping();
    const relabelled: LoadedMapping = {
      ...mapping,
      spec: { ...mapping.spec, coda: { ...mapping.spec.coda, name: `${mapping.spec.coda.name} (renamed)` } },
    };
    expect(await skippableProjects(relabelled)).toBe(0);
  });

  it('shows a row changed in Coda', async () => {
    const edited = await snapshotOf(fixtureDoc, workDir, (server) =>
      server.editRow(projectsTable.id, 'i-jNwDisc1A', {
        [projectsTable.columnIds.name]: 'Northwind discovery (renamed)',
      }),
    );
    const plan = await load({ source: edited });
    const projects = plan.tables.find((table) => table.target === 'erp.projects')!;
    expect(projects.updated.slice().map((row) => row.rowId)).toEqual(['i-jNwDisc1A']);
    // Read again through another server (another port in every row's href): only the edited row is compared.
    expect(await skippableProjects(projectsMapping(), edited)).toBe(
      (await skippableProjects(projectsMapping())) - 1,
    );
  });

  it('reads no row ahead for a table the lineage holds no hash of', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const unread: Snapshot = {
        ...snapshot,
        entries: () => {
          throw new Error('read ahead');
        },
      };
      const lineage = {
        docId: 'never-loaded',
        codaTableId: projectsTable.id,
        target: 'erp.projects',
        targetTable: 'erp.projects',
      };
      expect(await findUnchangedRows(client, lineage, unread, projectsMapping())).toBeNull();
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });

  it('leaves a Postgres-side edit to the reconcile, which compares in full', async () => {
    await db.query(
      `UPDATE erp.projects SET name = 'Edited in Postgres'
        WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE coda_row_id = 'i-jNwDisc1A')`,
    );
    const reconcile = await load({ mode: 'reconcile' });
    const projects = reconcile.reconciliation!.tables.find((table) => table.target === 'erp.projects')!;
    expect(projects.differ).toBe(1);
  });
});
