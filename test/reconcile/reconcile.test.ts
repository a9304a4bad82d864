/**
 * `erp reconcile`: Coda against Postgres after a cutover, as the owner runs it (the CLI in a child
 * process), and the semantics behind it: matched, missing, extra, differ, business totals.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { runLoad } from '../../src/load/run.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import {
  FIXTURE_DOC_ID,
  fixtureDoc,
  projectsTable,
  tasksTable,
} from '../../bench/coda-server/fixture-doc.ts';
import { startCodaServer } from '../../bench/coda-server/server.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, testCluster, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const TOKEN = 'tok_reconcile-secret-5b9e2a';
const TAMPERED_PROJECT = 'i-jNwDisc1A';

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: LoadedMapping[];
let runsDirs = 0;

/** `erp` against the test database, with a fresh runs folder; stdout then stderr as `output`. */
async function erpWithRuns(args: string[], env: Record<string, string> = {}) {
  const runs = path.join(workDir, `runs-${++runsDirs}`);
  const result = await erp([...args, '--runs', runs], { DATABASE_URL: db.url, ...env });
  return { code: result.code, output: result.stdout + result.stderr, runs };
}

/** The one run folder a command wrote, with its four reports. */
async function reportsIn(runs: string): Promise<Record<string, string>> {
  const [runDir, ...others] = await readdir(runs);
  expect(others).toEqual([]);
  expect(runDir).toMatch(/^\d{8}T\d{6}Z-reconcile$/);
  return Object.fromEntries(
    await Promise.all(
      REPORT_FILES.map(async (name) => [name, await readFile(path.join(runs, runDir!, name), 'utf8')]),
    ),
  );
}

const reconcile = () =>
  runLoad({ databaseUrl: db.url, source: snapshot, mappings, mode: 'reconcile', runDir: workDir });

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-reconcile-'));
  snapshot = await snapshotOf(fixtureDoc, workDir);
  mappings = await loadMappings();
  const cutover = await runLoad({
    databaseUrl: db.url,
    source: snapshot,
    mappings,
    mode: 'cutover',
    runDir: path.join(workDir, 'cutover'),
  });
  expect(cutover.outcome, JSON.stringify(cutover.outcomeNote)).toBe('committed');
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('erp reconcile', () => {
  it('exits 0 when Postgres holds what Coda holds, and keeps its four reports', async () => {
    const result = await erpWithRuns(['reconcile', '--snapshot', snapshot.dir]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Postgres matches Coda: every row and every total agrees\./);
    const tasks = tasksTable.rows.length;
    expect(result.output).toMatch(
      new RegExp(
        `Tasks \\(erp\\.tasks\\) +\\| +${tasks} \\| +${tasks} \\| +${tasks} \\| +0 \\| +0 \\| +0 \\| +0 \\|`,
      ),
    );
    const reports = await reportsIn(result.runs);
    expect(JSON.parse(reports['report.json']!)).toMatchObject({
      mode: 'reconcile',
      outcome: 'reconciled',
      outcomeNote: null,
    });
    const { rows } = await db.query(`SELECT mode, outcome FROM pipeline.runs ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toEqual({ mode: 'reconcile', outcome: 'reconciled' });
  });

  it('catches a value edited directly in Postgres, exits 1, and names the row with its Coda link', async () => {
    await db.query(
      `UPDATE erp.projects SET name = 'Edited in Postgres' WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE coda_row_id = $1)`,
      [TAMPERED_PROJECT],
    );
    const result = await erpWithRuns(['reconcile', '--snapshot', snapshot.dir]);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/Postgres does not match Coda: 1 new difference to check\./);
    expect(result.output).toMatch(
      /New differences \(not accepted by any cutover\) \(1\):\n {2}Projects \/ Northwind Discovery: its fields in Postgres differ/,
    );
    expect(result.output).toContain(`Name "Edited in Postgres" (Postgres) -> "Northwind Discovery" (Coda)`);
    const reports = await reportsIn(result.runs);
    const link = projectsTable.ref(TAMPERED_PROJECT).url;
    expect(reports['report.md']).toContain(
      `[Northwind Discovery](<${link}>)\n  - Name: "Edited in Postgres" (Postgres) → "Northwind Discovery" (Coda)`,
    );
    expect(reports['report.html']).toContain(`<a href="${link}">Northwind Discovery</a>`);
    const json = JSON.parse(reports['report.json']!);
    expect(json.outcome).toBe('differences');
    expect(
      json.reconciliation.tables.find((table: { target: string }) => table.target === 'erp.projects'),
    ).toMatchObject({
      codaRows: projectsTable.rows.length,
      postgresRows: projectsTable.rows.length,
      matched: projectsTable.rows.length - 1,
      differ: 1,
      missing: 0,
      extra: 0,
    });
    const { rows } = await db.query(`SELECT mode, outcome FROM pipeline.runs ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toEqual({ mode: 'reconcile', outcome: 'differences' });
  });

  it('reads the live doc too, and writes no database password or Coda token into any report', async () => {
    const server = await startCodaServer({ token: TOKEN, doc: fixtureDoc });
    try {
      const result = await erpWithRuns(
        ['reconcile', '--doc', FIXTURE_DOC_ID, '--out', path.join(workDir, 'live-snapshot')],
        { CODA_API_BASE_URL: server.baseUrl, CODA_API_TOKEN: TOKEN },
      );
      expect(result.code, result.output).toBe(1);
      expect(result.output).toMatch(/Postgres does not match Coda: 1 new difference to check\./);
      // A run that read Coda says what reading it took, as `erp extract` does.
      expect(result.output).toMatch(/Coda: \d+ requests, 0 rate-limited \(429\), 0 retried after a fault/);
      const password = testCluster().owner.password;
      expect(db.url).toContain(password);
      for (const [name, content] of Object.entries(await reportsIn(result.runs))) {
        for (const secret of [TOKEN, password, db.url])
          expect(content.includes(secret), `${name} holds a secret`).toBe(false);
      }
    } finally {
      await server.close();
    }
  });
});

describe('reconciliation', () => {
  it('counts rows missing from Postgres, extra rows and changed totals, and rolls back whatever it compared', async () => {
    const task = tasksTable.rows.find((row) => row.values[tasksTable.columnIds.estimatedHours] === 9)!;
    await db.query(
      `UPDATE erp.tasks SET estimated_hours = 19 WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE coda_row_id = $1)`,
      [task.id],
    );
    await db.query(`INSERT INTO erp.tasks (title) VALUES ('Typed straight into Postgres')`);
    const deleted = tasksTable.rows.find((row) => row.id === 'i-kTask024Z')!;
    await db.query(
      `DELETE FROM erp.tasks WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE coda_row_id = $1)`,
      [deleted.id],
    );
    const before = (await db.query(`SELECT count(*)::int AS n FROM erp.tasks`)).rows[0]?.n;

    const report = await reconcile();
    expect(report.outcome).toBe('differences');
    const tasks = report.reconciliation!.tables.find((table) => table.target === 'erp.tasks')!;
    // One row deleted and one typed in: Postgres holds as many rows as Coda; two of them differ in kind.
    expect(tasks).toMatchObject({
      codaRows: tasksTable.rows.length,
      postgresRows: tasksTable.rows.length,
      matched: tasksTable.rows.length - 2,
      differ: 1,
      missing: 1,
      extra: 1,
      rejected: 0,
    });
    expect(tasks.notFromCoda).toEqual([
      { targetId: expect.any(String), label: 'Typed straight into Postgres' },
    ]);
    const hours = report.reconciliation!.totals.find(
      (total) => total.label === 'Total Estimated Hours of Tasks',
    )!;
    // 9 hours became 19 in Postgres; the deleted task's hours are gone from Postgres only.
    const deletedHours = Number(deleted.values[tasksTable.columnIds.estimatedHours] || 0);
    // Coda walked to Postgres, minus what Postgres holds.
    const unexplained = 9 + deletedHours - 19;
    const codaHours = tasksTable.rows.reduce(
      (sum, row) => sum + Number(row.values[tasksTable.columnIds.estimatedHours] || 0),
      0,
    );
    expect(Number(hours.coda.amount)).toBe(codaHours);
    // Hours no rejected or extra row explains.
    expect(hours).toMatchObject({
      rejected: { amount: '0', rows: 0, shares: [] },
      extra: { amount: '0', rows: 0 },
      unexplained: String(unexplained),
    });
    expect(Number(hours.postgres.amount)).toBe(codaHours - unexplained);
    expect(
      report.differences.filter((item) => item.kind === 'total').map((item) => item.total!.label),
    ).toContain('Total Estimated Hours of Tasks');
    expect(report.differences.find((item) => item.kind === 'extra')).toMatchObject({
      row: { rowName: 'Typed straight into Postgres' },
      acceptedByRun: null,
    });
    expect(
      report.reconciliation!.totals.filter((total) => total.label === 'Tasks by Status').length,
    ).toBeGreaterThan(1);
    expect((await db.query(`SELECT count(*)::int AS n FROM erp.tasks`)).rows[0]?.n).toBe(before);
  });
});
