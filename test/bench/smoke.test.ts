/**
 * The benchmark at a tiny size, so `npm run bench` keeps working: every figure and every
 * baseline is measured and finite, and the results files are written. Numbers are not judged
 * here; the test machine is no benchmark machine.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionUrl } from '../../src/db/target.ts';
import { explainTargets } from '../../bench/explanations.ts';
import { CHART_FILE, writeResults } from '../../bench/report.ts';
import { TARGETS, type BenchResults, type Figure } from '../../bench/results.ts';
import { runBench } from '../../bench/run-bench.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { testCluster } from '../support/db.ts';

const run = promisify(execFile);

/** The benchmark records the commit it measured: a copy that is not a git checkout has none. */
const gitCheckout =
  spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: REPO_ROOT, stdio: 'ignore' }).status === 0;
if (!gitCheckout)
  console.warn(
    'test/bench/smoke.test.ts: not a git checkout, so the benchmark (which records its commit) is skipped',
  );

let workDir: string;
let results: BenchResults;

function expectMeasured(name: string, figure: Figure, baselines: number): void {
  expect(Number.isFinite(figure.value) && figure.value > 0, `${name}: ${figure.value}`).toBe(true);
  expect(figure.baselines, name).toHaveLength(baselines);
  for (const baseline of figure.baselines) {
    expect(
      Number.isFinite(baseline.value) && baseline.value > 0,
      `${name} / ${baseline.label}: ${baseline.value}`,
    ).toBe(true);
    expect(Number.isFinite(baseline.ratio), `${name} / ${baseline.label}`).toBe(true);
  }
}

describe.skipIf(!gitCheckout)('the benchmark, at 200 tasks', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-bench-smoke-'));
    const cluster = testCluster();
    results = await runBench({
      taskRowSizes: [200],
      timeScale: 1,
      adminUrl: connectionUrl({
        ...cluster.superuser,
        host: cluster.host,
        port: cluster.port,
        database: 'postgres',
      }),
      // The cluster's owner role, with the password it already has: other test files use it.
      owner: cluster.owner,
      workDir,
      log: () => {},
    });
  }, 120_000);
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('measures every figure with its baselines', () => {
    const [size] = results.sizes;
    if (!size) throw new Error('no size was measured');
    expectMeasured('extraction', size.extraction.rowsPerSecond, 1);
    expectMeasured('extract memory', size.extraction.peakRssBytes, 1);
    expectMeasured('transform', size.transformRowsPerSecond, 1);
    // Raw COPY; pgloader into unindexed copies and into tables of the same definition.
    expectMeasured('load', size.loadRowsPerSecond, results.machine.pgloader ? 3 : 1);
    expect(size.pgloaderNote === null).toBe(results.machine.pgloader !== null);
    expectMeasured('plan, unchanged', size.planUnchangedSeconds, 1);
    expectMeasured('plan, 10% changed', size.planChangedSeconds, 1);
    expectMeasured('cutover memory', size.cutoverPeakRssBytes, 1);
    expectMeasured('cutover against its load', size.cutoverSeconds, 1);
    expectMeasured('nightly plan against the plan with the snapshot given', size.nightlyPlan.seconds, 1);
    expectMeasured('migrations', results.migrationSeconds, 1);
    expectMeasured('CLI start-up', results.cliStartup.seconds, 1);
    expect(size.extraction.requests).toBeGreaterThan(0);
    expect(size.extraction.rateLimited).toBe(0);
    // Every tenth task, project and engagement of the revised doc differs.
    expect(size.changedRowsPlanned).toBe(20 + 1 + 2);
    // The nightly dry run of the unchanged doc reads no table's rows: the doc, its table list, a
    // request per table.
    expect(size.nightlyPlan.tables).toBe(4);
    expect(size.nightlyPlan.tablesUnchanged).toBe(4);
    expect(size.nightlyPlan.requests).toBe(4 + 2);
    const judged = Object.fromEntries(results.targets.map((target) => [target.target, target.met]));
    expect(Object.keys(judged).sort()).toEqual(Object.values(TARGETS).sort());
    expect(judged[TARGETS.nightlyRequests]).toBe(true);
    // Targets of 100k or 1M tasks are not judged at 200.
    expect(judged[TARGETS.noChangePlan1M]).toBeNull();
    expect(judged[TARGETS.nightlySeconds]).toBeNull();
    expect(judged[TARGETS.cutover]).toBeNull();
  });

  it('writes Markdown that links the chart, JSON and the chart', async () => {
    const dir = path.join(workDir, 'results');
    const markdownFile = await writeResults(results, explainTargets(results), dir);
    const markdown = await readFile(markdownFile, 'utf8');
    expect(markdown).toContain(`](${CHART_FILE})`);
    expect(markdown).toContain(results.machine.cpuModel);
    expect(markdown).toContain(results.commit.sha.slice(0, 12));
    for (const target of Object.values(TARGETS)) expect(markdown).toContain(`| ${target} |`);
    expect(markdown).toMatch(
      /\| nightly dry run: `erp plan`[^|]* \| 200 \|[^\n]*6 requests to Coda for 4 tables/,
    );
    expect(markdown).toMatch(/\| erp cutover into an empty database \| 200 \|/);
    expect(JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8'))).toMatchObject({
      sizes: [{ taskRows: 200 }],
    });
    expect(await readFile(path.join(dir, CHART_FILE), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    expect(existsSync(path.join(workDir, 'tasks-200'))).toBe(true);
  });
});

describe('npm run bench -- --help', () => {
  it('prints the usage and exits 0, and names a bad option with the usage, exit 2', async () => {
    const bench = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: REPO_ROOT }).then(
        (result) => ({ code: 0, ...result }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const help = await bench(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run bench -- \[options\]/);
    expect(help.stdout).toContain('--time-scale');
    const wrong = await bench(['--sizes', 'many']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^bench: --sizes must be whole numbers/);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});
