/**
 * A failed run leaves the database exactly as it was; a plan writes nothing; a second load is
 * refused while one runs; links resolve through rows loaded by earlier runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOAD_LOCK_KEY, LoadRefusedError, RunStoppedError } from '../../src/load/lifecycle/with-run.ts';
import { runLoad, type RunOptions } from '../../src/load/run.ts';
import { outcomeNoteText, reasonText, refusalText, stoppedText } from '../../src/report/reasons.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { executionRunsTable, fixtureDoc, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

let db: TestDatabase;
let workDir: string;
let mappings: LoadedMapping[];
let run = 0;

const load = async (overrides: Partial<RunOptions> & Pick<RunOptions, 'source'>) =>
  runLoad({
    databaseUrl: db.url,
    mappings,
    mode: 'cutover',
    runDir: path.join(workDir, `run-${++run}`),
    ...overrides,
  });

/** Every erp table and the lineage, row by row: equal states mean nothing was written. */
async function databaseState(): Promise<Record<string, string>> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'erp' AND c.relkind = 'r' ORDER BY 1`,
  );
  const state: Record<string, string> = {};
  for (const { name } of [...rows, { name: 'pipeline.coda_lineage' }]) {
    const [schema, table] = name.split('.') as [string, string];
    const result = await db.query<{ digest: string | null; n: string }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*) AS n FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} t`,
    );
    state[name] = `${result.rows[0]?.n}:${result.rows[0]?.digest}`;
  }
  return state;
}

const renameProject = (server: {
  editRow: (table: string, row: string, values: Record<string, string>) => void;
}) =>
  server.editRow(projectsTable.id, 'i-jNwDisc1A', {
    [projectsTable.columnIds.name]: 'Northwind discovery (renamed)',
  });

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-transactions-'));
  mappings = await loadMappings();
  const baseline = await load({ source: await snapshotOf(fixtureDoc, workDir) });
  expect(baseline.outcome).toBe('committed');
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('a failed cutover', () => {
  it('rolls back everything when a late row breaks a unique constraint', async () => {
    const before = await databaseState();
    const source = await snapshotOf(fixtureDoc, workDir, (server) => {
      renameProject(server);
      // The last run copies the first run's identifier: erp.execution_runs.run_identifier is unique.
      const last = executionRunsTable.rows.at(-1)!;
      server.editRow(executionRunsTable.id, last.id, {
        [executionRunsTable.columnIds.runId]: 'RUN-2024-031',
      });
    });
    await expect(load({ source })).rejects.toThrow(/execution_runs_run_identifier_key/);
    expect(await databaseState()).toEqual(before);
    const { rows } = await db.query(
      `SELECT outcome, outcome_note FROM pipeline.runs ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toEqual({
      outcome: 'failed',
      outcome_note: expect.stringMatching(/"failed".*run_identifier/),
    });
  });

  it('rolls back everything when its connection is killed half way', async () => {
    const before = await databaseState();
    const source = await snapshotOf(fixtureDoc, workDir, renameProject);
    let tablesLoaded = 0;
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    try {
      const stopped = await load({
        source,
        onTableLoaded: async () => {
          tablesLoaded += 1;
          if (tablesLoaded === 5) {
            await killer.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'erp cutover' AND datname = current_database()`,
            );
          }
        },
      }).catch((error: unknown) => error);
      expect(stopped).toBeInstanceOf(RunStoppedError);
      expect(stoppedText((stopped as RunStoppedError).note)).toMatch(
        /connection to the database was lost during the cutover .*; nothing was committed/,
      );
    } finally {
      await killer.end();
    }
    expect(tablesLoaded).toBe(5);
    expect(await databaseState()).toEqual(before);
  });

  it('rolls back when more rows are rejected than allowed, and says why', async () => {
    const before = await databaseState();
    const source = await snapshotOf(fixtureDoc, workDir, (server) => {
      renameProject(server);
      server.editRow(projectsTable.id, 'i-jVpAudt2B', { [projectsTable.columnIds.status]: 'Someday' });
    });
    const report = await load({ source });
    expect(report.outcome).toBe('rolled_back');
    expect(outcomeNoteText(report.outcomeNote!)).toMatch(/1 row\(s\) were rejected and at most 0 may be/);
    expect(await databaseState()).toEqual(before);
    const allowed = await load({ source, mode: 'plan', maxRejects: 1 });
    expect(
      reasonText(
        allowed.tables.find((table) => table.target === 'erp.projects')!.rejects[0]!.problems[0]!.reason,
      ),
    ).toMatch(/"Someday" is not one of the known choices/);
  });
});

describe('a plan', () => {
  it('reports what would change and writes nothing', async () => {
    const before = await databaseState();
    const report = await load({ source: await snapshotOf(fixtureDoc, workDir, renameProject), mode: 'plan' });
    expect(report.outcome).toBe('planned');
    const projects = report.tables.find((table) => table.target === 'erp.projects')!;
    expect(projects.updated.slice()).toEqual([
      expect.objectContaining({
        rowId: 'i-jNwDisc1A',
        changes: [{ column: 'name', before: expect.any(String), after: 'Northwind discovery (renamed)' }],
      }),
    ]);
    expect(await databaseState()).toEqual(before);
  });
});

describe('concurrency', () => {
  it('refuses a second cutover at once while one holds the lock', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOAD_LOCK_KEY]);
      const source = await snapshotOf(fixtureDoc, workDir);
      const started = performance.now();
      const attempt = load({ source });
      const refused = await attempt.catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(LoadRefusedError);
      expect(refusalText((refused as LoadRefusedError).refusal)).toMatch(
        /^another run \(a plan, cutover, reconcile or undo\) is in progress; wait for it to finish/,
      );
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await holder.end();
    }
  });
});

describe('links across runs', () => {
  it('resolves links to rows that an earlier run loaded, when this run does not load their table', async () => {
    const childrenOnly = mappings.filter((mapping) =>
      ['erp.tasks', 'erp.execution_runs'].includes(mapping.spec.target),
    );
    // The tables this run does not load hold data: left behind on purpose.
    const report = await load({
      source: await snapshotOf(fixtureDoc, workDir),
      mappings: childrenOnly,
      acceptUnmapped: true,
    });
    expect(report.outcome).toBe('committed');
    expect(report.tables.map((table) => table.target)).toEqual(['erp.execution_runs', 'erp.tasks']);
    for (const table of report.tables) {
      expect([table.target, table.unresolved, table.inserted.length, table.updated.length]).toEqual([
        table.target,
        [],
        0,
        0,
      ]);
    }
  });
});
