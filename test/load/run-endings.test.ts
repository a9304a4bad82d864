/**
 * How a run ends, through the CLI: the exit code says what happened, a signal says whether
 * anything was committed and is recorded, a run whose process was killed is marked abandoned by
 * the next run, and a cutover that committed but could not write its reports says COMMITTED and
 * exits 3.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { erp, startErp } from '../support/cli.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { syntheticDoc } from '../../bench/coda-server/synthetic.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

let db: TestDatabase;
let workDir: string;
let large: Snapshot;
let small: Snapshot;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-run-endings-'));
  large = await snapshotOf(syntheticDoc({ taskRows: 20_000 }), workDir);
  small = await snapshotOf(fixtureDoc, workDir);
}, 300_000);
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

/** A cutover of the large doc as its own process, returned once its run is recorded as running. */
async function startCutover() {
  const { child } = startErp(
    [
      'cutover',
      '--snapshot',
      large.dir,
      '--mappings',
      'bench/mappings',
      '--runs',
      path.join(workDir, 'runs'),
    ],
    { DATABASE_URL: db.url },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  for (;;) {
    const { rows } = await db.query(`SELECT id::text FROM pipeline.runs WHERE outcome = 'running'`);
    if (rows[0]) return { child, exited, stderr: () => stderr, runId: rows[0].id as string };
    if (child.exitCode !== null) throw new Error(`the cutover ended before it was running: ${stderr}`);
    await delay(20);
  }
}

/** The run's outcome, and its note as the code and data it is kept as. */
const outcomeOf = async (runId: string) =>
  (
    await db.query(`SELECT outcome, outcome_note::jsonb AS outcome_note FROM pipeline.runs WHERE id = $1`, [
      runId,
    ])
  ).rows[0];

describe('a run stopped from outside', () => {
  it('says "interrupted: nothing was committed" on SIGINT, exits 130 and records the run as interrupted', async () => {
    const run = await startCutover();
    run.child.kill('SIGINT');
    const [code] = await run.exited;
    expect(code).toBe(130);
    expect(run.stderr()).toContain('interrupted (SIGINT): nothing was committed, the database is as it was');
    expect(await outcomeOf(run.runId)).toMatchObject({
      outcome: 'interrupted',
      outcome_note: { code: 'interrupted', signal: expect.stringMatching(/^SIG/) },
    });
    expect((await db.query(`SELECT count(*)::int AS n FROM erp.tasks`)).rows[0]?.n).toBe(0);
  }, 120_000);

  it('exits 143 on SIGTERM', async () => {
    const run = await startCutover();
    run.child.kill('SIGTERM');
    const [code] = await run.exited;
    expect(code).toBe(143);
    expect(run.stderr()).toContain('interrupted (SIGTERM): nothing was committed');
    expect(await outcomeOf(run.runId)).toMatchObject({
      outcome: 'interrupted',
      outcome_note: { code: 'interrupted', signal: expect.stringMatching(/^SIG/) },
    });
  }, 120_000);

  it('marks a run whose process was killed as abandoned at the next run', async () => {
    const run = await startCutover();
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await outcomeOf(run.runId)).toMatchObject({ outcome: 'running' });
    const next = await erp(['plan', '--snapshot', small.dir, '--runs', path.join(workDir, 'runs-next')], {
      DATABASE_URL: db.url,
    });
    expect(next.code, next.stderr).toBe(0);
    expect(await outcomeOf(run.runId)).toEqual({
      outcome: 'abandoned',
      // As a code and its data; the reports word it (below).
      outcome_note: { code: 'abandoned', committed: false },
    });
    // Said where the owner looks, not only in the database.
    const said = new RegExp(
      `An earlier cutover \\(run ${run.runId}, started [^)]+\\) was stopped before it finished \\(killed or crashed\\) and is now marked abandoned: nothing of it was committed\\.`,
    );
    expect(next.stdout).toMatch(said);
    const [runDir] = await readdir(path.join(workDir, 'runs-next'));
    for (const name of ['report.md', 'report.html'])
      expect(await readFile(path.join(workDir, 'runs-next', runDir!, name), 'utf8'), name).toMatch(said);
  }, 120_000);
});

const REPORTS_BLOCKED_TIMEOUT_MS = 120_000;

describe('a cutover whose reports cannot be written', () => {
  it(
    'says COMMITTED in words, exits 3 and records committed_report_failed',
    async () => {
      const runs = path.join(workDir, 'runs-blocked');
      // report.json already exists as a folder in every run folder the cutover could name before
      // this test times out: however slow the machine, the cutover meets one.
      const now = Date.now();
      for (let second = 0; second <= REPORTS_BLOCKED_TIMEOUT_MS / 1000; second += 1) {
        const stamp = new Date(now + second * 1000)
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d+Z$/, 'Z');
        await mkdir(path.join(runs, `${stamp}-cutover`, 'report.json'), { recursive: true });
      }
      const result = await erp(['cutover', '--snapshot', small.dir, '--runs', runs], {
        DATABASE_URL: db.url,
      });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/the cutover was COMMITTED \(run \d+\), but writing its reports failed/);
      expect(result.stdout).toContain('Cutover committed.');
      const { rows } = await db.query(
        `SELECT outcome, outcome_note FROM pipeline.runs WHERE mode = 'cutover' ORDER BY id DESC LIMIT 1`,
      );
      expect(rows[0]).toMatchObject({ outcome: 'committed_report_failed' });
      expect(JSON.parse(rows[0]?.outcome_note)).toEqual({
        code: 'committed_then_failed',
        error: expect.stringMatching(/^could not write report\.json/),
      });
      expect((await db.query(`SELECT count(*)::int AS n FROM erp.projects`)).rows[0]?.n).toBeGreaterThan(0);
    },
    REPORTS_BLOCKED_TIMEOUT_MS,
  );
});
