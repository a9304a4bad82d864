/**
 * One benchmark run over synthetic docs of several sizes, through the real pipeline: `erp extract`
 * against the local Coda server at Coda's rate limit, the transform, `erp cutover` (as a child
 * process, for its memory), the load into an empty database (in-process, to time each table) in
 * turns with its baselines fed the rows the cutover loaded, then `plan` of the same doc and of one
 * where 10% of the rows changed, and the owner's nightly dry run: `erp plan` reading the unchanged
 * doc live from the same server, since the first extract. Each figure is paired with baselines from
 * this run.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { withClient } from '../src/db/client.ts';
import { migrate } from '../src/db/migrations.ts';
import { ensureOwnedDatabase } from '../src/db/target.ts';
import { readSnapshot, type Snapshot } from '../src/extract/index.ts';
import { runLoad, type RunReport } from '../src/load/run.ts';
import { loadMappings, type LoadedMapping } from '../src/transform/mapping-spec.ts';
import { transformTable } from '../src/transform/transform.ts';
import { syntheticDoc } from './coda-server/synthetic.ts';
import { snapshotOf } from './coda-server/fixture-snapshot.ts';
import { runCli, runNode, type CliRun } from './cli-process.ts';
import { measureExtraction, startBenchCoda, type BenchCoda } from './extraction.ts';
import { exportLoadedRows, pgloaderSeconds, pgloaderVersion, rawCopySeconds } from './load-baselines.ts';
import {
  baselineOf,
  figure,
  LOAD_BASELINES,
  type BenchConfig,
  type BenchResults,
  type LoadBaseline,
  type MachineDescription,
  type SizeResult,
  type TargetCheck,
  TARGETS,
} from './results.ts';

const exec = promisify(execFile);
const { escapeIdentifier: q } = pg;

/** Coda's published limit for reads: 100 requests per 6 seconds per user. */
const CODA_READ_LIMIT = { requests: 100, windowMs: 6_000 };
/** The extractor is told 95% of the server's limit: requests still arrive bunched up now and then. */
const CLIENT_SHARE_OF_LIMIT = 0.95;
const ROWS_PER_PAGE = 100;
/**
 * The load and its baselines each run this many times per size, in turns, and the medians count:
 * on this shared machine one pgloader run differed from the next by a quarter, and the same load
 * by as much an hour apart, as much as the gap judged.
 */
const LOAD_RUNS = 3;
const BENCH_MAPPINGS_DIR = fileURLToPath(new URL('mappings/', import.meta.url));
/** The baseline of every plan: the load's median run, which is a plan into a freshly migrated database. */
const PLAN_INTO_EMPTY = 'plan of the same doc into an empty database (every row new)';

export interface BenchOptions {
  taskRowSizes: number[];
  timeScale: number;
  /** A superuser connection to the cluster to work in (its `postgres` database). */
  adminUrl: string;
  /** The role that owns the benchmark's databases, created (or its password set) when needed. */
  owner: { user: string; password: string };
  workDir: string;
  log: (line: string) => void;
}

function databaseUrl(adminUrl: string, database: string, who?: { user: string; password: string }): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  if (who) {
    url.username = who.user;
    url.password = who.password;
  }
  return url.toString();
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { seconds: (performance.now() - started) / 1000, result };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function repeated<T>(times: number, work: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < times; run += 1) results.push(await work());
  return results;
}

/** The item whose measure is the median (the lower middle one of an even count). */
function medianOf<T>(items: T[], measure: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => measure(a) - measure(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error('no runs to take the median of');
  return middle;
}

function mappedTables(snapshot: Snapshot, mappings: LoadedMapping[]) {
  const tables = snapshot.manifest().tables;
  return mappings.map((mapping) => {
    const table = tables.find((candidate) => candidate.id === mapping.spec.coda.table);
    if (!table)
      throw new Error(
        `${mapping.file} maps ${mapping.spec.coda.table}, which the benchmark doc does not have`,
      );
    return { mapping, table };
  });
}

/** Transform rows/s, against reading the same rows from the snapshot (parsed and checked) without converting them. */
async function measureTransform(snapshot: Snapshot, mappings: LoadedMapping[]) {
  const docId = snapshot.manifest().doc.id;
  let rows = 0;
  let readSeconds = 0;
  let transformSeconds = 0;
  for (const { mapping, table } of mappedTables(snapshot, mappings)) {
    readSeconds += (
      await timed(async () => {
        for await (const row of snapshot.rows(table.id)) void row;
      })
    ).seconds;
    const transformed = await timed(async () => {
      let rejects = 0;
      for await (const result of transformTable({ mapping, docId, table }, snapshot.rows(table.id)))
        if ('reject' in result) rejects += 1;
      return rejects;
    });
    if (transformed.result)
      throw new Error(
        `the benchmark doc's ${table.name} has ${transformed.result} rejected rows; it must transform cleanly`,
      );
    transformSeconds += transformed.seconds;
    rows += table.rowCount;
  }
  return figure(rows / transformSeconds, 'rows/s', [
    { label: 'reading the same rows from the snapshot, unconverted', value: rows / readSeconds },
  ]);
}

function totals(report: RunReport) {
  const rejects = report.tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (rejects)
    throw new Error(`the ${report.mode} rejected ${rejects} rows of the benchmark doc; it must load cleanly`);
  return {
    read: report.tables.reduce((sum, table) => sum + table.read, 0),
    inserted: report.tables.reduce((sum, table) => sum + table.inserted.length, 0),
    updated: report.tables.reduce((sum, table) => sum + table.updated.length, 0),
    tableSeconds: report.tables.reduce((sum, table) => sum + table.seconds, 0),
  };
}

/** What every size of one run shares. */
interface RunContext {
  options: BenchOptions;
  config: BenchConfig;
  mappings: LoadedMapping[];
  cliBaseline: { peakRssBytes: number };
  migrations: { apply: number[]; rerun: number[] };
}

/** One size, with the local Coda server up throughout: the nightly plan reads it after the cutover. */
async function measureSize(taskRows: number, run: RunContext): Promise<SizeResult> {
  const sizeDir = path.join(run.options.workDir, `tasks-${taskRows}`);
  await mkdir(sizeDir, { recursive: true });
  const coda = await startBenchCoda(syntheticDoc({ taskRows }), run.config, sizeDir);
  try {
    return await measureWithCoda(taskRows, sizeDir, coda, run);
  } finally {
    await coda.close();
  }
}

async function measureWithCoda(
  taskRows: number,
  sizeDir: string,
  coda: BenchCoda,
  { options, config, mappings, cliBaseline, migrations }: RunContext,
): Promise<SizeResult> {
  const { log } = options;
  log(`[${taskRows} tasks] extracting through the rate limit (erp extract)…`);
  const { snapshotDir, result: extraction } = await measureExtraction(coda, config, cliBaseline.peakRssBytes);
  const snapshot = await readSnapshot(snapshotDir);
  const sourceRows = mappedTables(snapshot, mappings).reduce((sum, { table }) => sum + table.rowCount, 0);

  log(`[${taskRows} tasks] transforming…`);
  const transformRowsPerSecond = await measureTransform(snapshot, mappings);

  return inNewDatabase(options, taskRows, async (url) => {
    log(`[${taskRows} tasks] migrating an empty database…`);
    migrations.apply.push((await timed(() => migrate(url))).seconds);
    migrations.rerun.push((await timed(() => migrate(url))).seconds);

    const planIn = (databaseUrl: string, source: Snapshot) =>
      timed(() =>
        runLoad({ databaseUrl, source, mappings, mode: 'plan', runDir: path.join(sizeDir, 'runs') }),
      );
    const plan = (source: Snapshot) => planIn(url, source);

    log(`[${taskRows} tasks] erp cutover…`);
    const cutover = await runCli(
      [
        'cutover',
        '--snapshot',
        snapshotDir,
        '--mappings',
        BENCH_MAPPINGS_DIR,
        '--runs',
        path.join(sizeDir, 'runs'),
      ],
      { DATABASE_URL: url },
    );

    log(
      `[${taskRows} tasks] the load into an empty database (a plan: every row new), raw COPY${config.pgloader ? ', pgloader into unindexed copies and into the same tables' : ''}, ${LOAD_RUNS} times in turns…`,
    );
    const targets = mappings.map((mapping) => ({
      target: mapping.spec.target,
      columns: ['id', ...Object.keys(mapping.spec.columns)],
    }));
    const { firstLoad, baselines } = await withClient(url, async (client) => {
      const exported = await exportLoadedRows(client, targets, sizeDir);
      // In turns, so that a slow spell of the machine falls on every loader alike. Each load of
      // ours gets a freshly migrated database: a rolled-back load leaves dead rows behind.
      const rounds = await repeated(LOAD_RUNS, async () => ({
        load: await inNewDatabase(options, taskRows, async (freshUrl) => {
          await migrate(freshUrl);
          return planIn(freshUrl, snapshot);
        }),
        rawSeconds: await rawCopySeconds(client, exported),
        pgloader: config.pgloader
          ? {
              unindexed: await pgloaderSeconds(client, url, exported, sizeDir, 'unindexed'),
              sameTables: await pgloaderSeconds(client, url, exported, sizeDir, 'same tables'),
            }
          : undefined,
      }));
      const firstLoad = medianOf(
        rounds.map((round) => round.load),
        (load) => totals(load.result).tableSeconds,
      );
      const exportedRows = exported.reduce((sum, table) => sum + table.rows, 0);
      const inserted = totals(firstLoad.result).inserted;
      if (exportedRows !== inserted)
        throw new Error(
          `the cutover left ${exportedRows} rows in the mapped tables, the load inserted ${inserted}`,
        );
      const pgloaderRounds = rounds.flatMap((round) => (round.pgloader ? [round.pgloader] : []));
      return {
        firstLoad,
        baselines: {
          rows: exportedRows,
          rawSeconds: median(rounds.map((round) => round.rawSeconds)),
          pgloader: pgloaderRounds.length
            ? {
                unindexed: median(pgloaderRounds.map((round) => round.unindexed)),
                sameTables: median(pgloaderRounds.map((round) => round.sameTables)),
              }
            : undefined,
        },
      };
    });
    const loaded = totals(firstLoad.result);

    log(`[${taskRows} tasks] plan with nothing changed…`);
    const unchanged = await plan(snapshot);
    const unchangedTotals = totals(unchanged.result);
    if (unchangedTotals.inserted + unchangedTotals.updated)
      throw new Error(
        `a plan of the unchanged doc would write ${unchangedTotals.inserted + unchangedTotals.updated} rows`,
      );

    log(`[${taskRows} tasks] plan with 10% of the rows changed…`);
    const revised = await snapshotOf(syntheticDoc({ taskRows, revised: true }), sizeDir);
    const changed = await plan(revised);
    const changedTotals = totals(changed.result);

    // Last: the plans above are timed as they were before it existed (in one run at 100k tasks, the
    // 10%-changed plan took 16-17 s right after it, 12 s right after the no-change plan).
    log(
      `[${taskRows} tasks] the nightly dry run: erp plan reading the unchanged doc since the first extract…`,
    );
    const nightlySnapshot = path.join(coda.snapshotsDir, 'nightly');
    // As the owner runs it (docs/MIGRATING_CODA.md): no --snapshot, no --since; the extract finds the
    // doc's newest snapshot in the folder its own goes to.
    const nightly = await coda.run(
      [
        'plan',
        '--out',
        nightlySnapshot,
        '--mappings',
        BENCH_MAPPINGS_DIR,
        '--runs',
        path.join(sizeDir, 'runs'),
      ],
      { DATABASE_URL: url },
    );
    const nightlyTables = (await readSnapshot(nightlySnapshot)).manifest().tables;

    return {
      taskRows,
      sourceRows,
      extraction,
      transformRowsPerSecond,
      loadRowsPerSecond: figure(loaded.read / loaded.tableSeconds, 'rows/s', [
        { label: LOAD_BASELINES.rawCopy, value: baselines.rows / baselines.rawSeconds },
        ...(baselines.pgloader === undefined
          ? []
          : [
              {
                label: LOAD_BASELINES.pgloaderUnindexed,
                value: baselines.rows / baselines.pgloader.unindexed,
              },
              {
                label: LOAD_BASELINES.pgloaderSameTables,
                value: baselines.rows / baselines.pgloader.sameTables,
              },
            ]),
      ]),
      pgloaderNote: config.pgloader
        ? null
        : 'pgloader is not installed (apt-get install -y pgloader), so it was not measured',
      planUnchangedSeconds: figure(unchanged.seconds, 's', [
        { label: PLAN_INTO_EMPTY, value: firstLoad.seconds },
      ]),
      planChangedSeconds: figure(changed.seconds, 's', [
        { label: PLAN_INTO_EMPTY, value: firstLoad.seconds },
      ]),
      changedRowsPlanned: changedTotals.updated,
      nightlyPlan: {
        seconds: figure(nightly.cli.seconds, 's', [
          { label: 'plan of the same doc, snapshot given, nothing changed', value: unchanged.seconds },
        ]),
        requests: nightly.requests.length,
        tables: nightlyTables.length,
        tablesUnchanged: nightlyTables.filter((table) => table.coda?.read === 'unchanged').length,
      },
      cutoverSeconds: figure(cutover.seconds, 's', [
        {
          label: 'load of the same doc into an empty database (a plan: every row new)',
          value: firstLoad.seconds,
        },
      ]),
      cutoverPeakRssBytes: figure(cutover.peakRssBytes, 'bytes', [
        {
          label: '`erp --version` (Node and the compiled CLI loaded, no work)',
          value: cliBaseline.peakRssBytes,
        },
      ]),
    };
  });
}

/** Work in a database of its own, owned by the benchmark's role, dropped afterwards. */
async function inNewDatabase<T>(
  options: BenchOptions,
  taskRows: number,
  work: (url: string) => Promise<T>,
): Promise<T> {
  const database = `bench_${taskRows}_${randomBytes(4).toString('hex')}`;
  await ensureOwnedDatabase(options.adminUrl, {
    database,
    owner: options.owner.user,
    ownerPassword: options.owner.password,
  });
  try {
    return await work(databaseUrl(options.adminUrl, database, options.owner));
  } finally {
    await withClient(options.adminUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${q(database)} WITH (FORCE)`),
    );
  }
}

async function describeMachine(adminUrl: string, pgloader: string | null): Promise<MachineDescription> {
  const postgres = await withClient(
    adminUrl,
    async (client) =>
      (await client.query<{ version: string }>('SELECT version()')).rows[0]?.version ?? 'unknown',
  );
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
    pgloader,
  };
}

async function describeCommit(): Promise<{ sha: string; dirty: boolean }> {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const sha = (await exec('git', ['rev-parse', 'HEAD'], { cwd })).stdout.trim();
  const status = (await exec('git', ['status', '--porcelain'], { cwd })).stdout.trim();
  return { sha, dirty: status.length > 0 };
}

const MB = 1024 * 1024;

/** Load, plan and memory targets hold from 100k tasks up (1M when measured); smaller sizes are judged when nothing larger ran. */
const TARGET_SIZE = 100_000;
/** The size issue 26's plan and cutover targets name. */
const LARGE_SIZE = 1_000_000;
const STARTUP_TARGET_SECONDS = 0.5;
const MEMORY_TARGET_BYTES = 300 * MB;
const PGLOADER_TARGET_RATIO = 1.5;
const NO_CHANGE_PLAN_100K_SECONDS = 5;
const NO_CHANGE_PLAN_1M_SECONDS = 10;
const NIGHTLY_PLAN_100K_SECONDS = 2;
const CUTOVER_TARGET_RATIO = 1.5;
/** Besides one request per table, an extract asks for the doc and its list of tables. */
const DOC_AND_TABLE_LIST_REQUESTS = 2;

/**
 * The issues' targets (7: extraction and load against raw COPY; 13: the rest of the first load;
 * 26: plans, the nightly dry run, the cutover and the margin over pgloader): each names where it
 * was measured.
 */
function checkTargets(sizes: SizeResult[], startup: { seconds: number }, config: BenchConfig): TargetCheck[] {
  const largest = sizes.at(-1);
  if (!largest) return [];
  const tasks = (size: SizeResult) => `${size.taskRows.toLocaleString('en-US')} tasks`;
  const judged = sizes.filter((size) => size.taskRows >= TARGET_SIZE);
  const atScale = judged.length ? judged : [largest];
  const noLargeSize = atScale.some((size) => size.taskRows >= LARGE_SIZE)
    ? {}
    : { note: 'this run had no 1M size' };
  const rawCopy = baselineOf(largest.loadRowsPerSecond, LOAD_BASELINES.rawCopy);
  const ratio = (size: SizeResult, label: LoadBaseline) =>
    baselineOf(size.loadRowsPerSecond, label)?.ratio ?? 0;
  const planRatio = (size: SizeResult) =>
    size.planChangedSeconds.baselines[0]?.ratio ?? Number.POSITIVE_INFINITY;
  const cutoverRatio = (size: SizeResult) =>
    size.cutoverSeconds.baselines[0]?.ratio ?? Number.POSITIVE_INFINITY;
  const seconds = (value: number) => `${value.toFixed(2)} s`;
  const extractionShare = largest.extraction.rowsPerSecond.baselines[0]?.ratio ?? 0;
  const extractionMeasured = (ceiling: string) =>
    `${(extractionShare * 100).toFixed(1)}% of the ${ceiling}, ${largest.extraction.rateLimited} × 429 at ${tasks(largest)}`;
  const peak = (size: SizeResult) =>
    Math.max(size.cutoverPeakRssBytes.value, size.extraction.peakRssBytes.value);
  const planSize = sizes.find((size) => size.taskRows === TARGET_SIZE);
  const largeSize = sizes.find((size) => size.taskRows === LARGE_SIZE);
  /** A target of one size: judged there, the other sizes at scale quoted beside it. */
  const atSize = (
    size: SizeResult | undefined,
    measure: (size: SizeResult) => string,
    met: (size: SizeResult) => boolean,
  ) => ({
    measured: atScale.map((each) => `${measure(each)} at ${tasks(each)}`).join('; '),
    met: size ? met(size) : null,
  });
  const nightlyRequests = (size: SizeResult) =>
    `${size.nightlyPlan.requests} requests for ${size.nightlyPlan.tables} tables (${size.nightlyPlan.tablesUnchanged} copied unread)`;
  return [
    // Judged at Coda's real limit only: time-scaled, the ceiling grows N times and the client's CPU bounds the rate.
    config.timeScale === 1
      ? {
          target: TARGETS.extraction,
          issue: 7,
          measured: extractionMeasured('ceiling'),
          met: extractionShare >= 0.9 && largest.extraction.rateLimited === 0,
        }
      : {
          target: TARGETS.extraction,
          issue: 7,
          measured:
            `not judged: a time-scaled run (--time-scale ${config.timeScale}: the server allows ${config.timeScale} times Coda's rate, so the extractor's CPU, ` +
            `not the limit, sets the pace); ${extractionMeasured('scaled ceiling')}. The real-limit figure comes from a run without --time-scale`,
          met: null,
        },
    {
      target: TARGETS.loadVsRawCopy,
      issue: 7,
      measured: `${((rawCopy?.ratio ?? 0) * 100).toFixed(0)}% of raw COPY at ${tasks(largest)}`,
      met: (rawCopy?.ratio ?? 0) >= 0.5,
    },
    {
      target: TARGETS.loadVsPgloader,
      issue: 26,
      measured: largest.pgloaderNote
        ? largest.pgloaderNote
        : atScale
            .map(
              (size) =>
                `${ratio(size, LOAD_BASELINES.pgloaderSameTables).toFixed(2)}× pgloader into the same tables ` +
                `(${ratio(size, LOAD_BASELINES.pgloaderUnindexed).toFixed(2)}× pgloader into unindexed copies) at ${tasks(size)}`,
            )
            .join('; '),
      met: largest.pgloaderNote
        ? null
        : atScale.every((size) => ratio(size, LOAD_BASELINES.pgloaderSameTables) >= PGLOADER_TARGET_RATIO),
      ...noLargeSize,
    },
    {
      target: TARGETS.transform,
      issue: 13,
      measured: atScale
        .map(
          (size) =>
            `${(size.transformRowsPerSecond.value / size.loadRowsPerSecond.value).toFixed(2)}× the load's rows/s at ${tasks(size)}`,
        )
        .join('; '),
      met: atScale.every((size) => size.transformRowsPerSecond.value >= size.loadRowsPerSecond.value),
    },
    {
      target: TARGETS.noChangePlan100k,
      issue: 13,
      measured: planSize
        ? `${seconds(planSize.planUnchangedSeconds.value)} at ${tasks(planSize)}`
        : 'not measured',
      met: planSize ? planSize.planUnchangedSeconds.value < NO_CHANGE_PLAN_100K_SECONDS : null,
      ...(planSize ? {} : { note: 'this run had no 100k size' }),
    },
    {
      target: TARGETS.noChangePlan1M,
      issue: 26,
      ...atSize(
        largeSize,
        (size) => seconds(size.planUnchangedSeconds.value),
        (size) => size.planUnchangedSeconds.value < NO_CHANGE_PLAN_1M_SECONDS,
      ),
      ...noLargeSize,
    },
    {
      target: TARGETS.changedPlan,
      issue: 26,
      measured: atScale
        .map(
          (size) =>
            `${planRatio(size).toFixed(2)}× (${seconds(size.planChangedSeconds.value)} against ${seconds(size.planChangedSeconds.baselines[0]?.value ?? Number.NaN)}) at ${tasks(size)}`,
        )
        .join('; '),
      met: atScale.every((size) => planRatio(size) <= 1),
      ...noLargeSize,
    },
    {
      target: TARGETS.nightlyRequests,
      issue: 26,
      measured: atScale.map((size) => `${nightlyRequests(size)} at ${tasks(size)}`).join('; '),
      met: atScale.every(
        (size) => size.nightlyPlan.requests <= size.nightlyPlan.tables + DOC_AND_TABLE_LIST_REQUESTS,
      ),
    },
    {
      target: TARGETS.nightlySeconds,
      issue: 26,
      ...atSize(
        planSize,
        (size) => seconds(size.nightlyPlan.seconds.value),
        (size) => size.nightlyPlan.seconds.value < NIGHTLY_PLAN_100K_SECONDS,
      ),
      ...(planSize ? {} : { note: 'this run had no 100k size' }),
    },
    {
      target: TARGETS.cutover,
      issue: 26,
      ...atSize(
        largeSize,
        (size) =>
          `${cutoverRatio(size).toFixed(2)}× (${seconds(size.cutoverSeconds.value)} against ${seconds(size.cutoverSeconds.baselines[0]?.value ?? Number.NaN)})`,
        (size) => cutoverRatio(size) <= CUTOVER_TARGET_RATIO,
      ),
      ...noLargeSize,
    },
    {
      target: TARGETS.memory,
      issue: 13,
      measured: sizes.map((size) => `${(peak(size) / MB).toFixed(0)} MB at ${tasks(size)}`).join('; '),
      met: sizes.every((size) => peak(size) < MEMORY_TARGET_BYTES),
    },
    {
      target: TARGETS.startup,
      issue: 13,
      measured: `${startup.seconds.toFixed(2)} s (median of ${STARTUP_RUNS})`,
      met: startup.seconds < STARTUP_TARGET_SECONDS,
    },
  ];
}

/** Start-up is short and the machine noisy: the median of a few runs. */
const STARTUP_RUNS = 5;

async function measureStartup() {
  const runs: CliRun[] = [];
  const node: CliRun[] = [];
  for (let index = 0; index < STARTUP_RUNS; index += 1) {
    runs.push(await runCli(['--version'], {}));
    node.push(await runNode(['-e', '0'], {}));
  }
  const middle = (list: CliRun[]) =>
    [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)]!;
  return { cli: middle(runs), node: middle(node) };
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const pgloader = await pgloaderVersion();
  const config: BenchConfig = {
    taskRowSizes: options.taskRowSizes,
    timeScale: options.timeScale,
    codaLimit: CODA_READ_LIMIT,
    serverWindowMs: CODA_READ_LIMIT.windowMs / options.timeScale,
    clientRequestsPerWindow: Math.floor(CODA_READ_LIMIT.requests * CLIENT_SHARE_OF_LIMIT),
    loadRuns: LOAD_RUNS,
    rowsPerPage: ROWS_PER_PAGE,
    pgloader: pgloader !== null,
  };
  // Taken before measuring: the figures belong to the code as it was when the run started.
  const commit = await describeCommit();
  const mappings = await loadMappings(BENCH_MAPPINGS_DIR);
  const { cli: startup, node } = await measureStartup();
  const migrations = { apply: [] as number[], rerun: [] as number[] };
  const sizes: SizeResult[] = [];
  for (const taskRows of options.taskRowSizes)
    sizes.push(await measureSize(taskRows, { options, config, mappings, cliBaseline: startup, migrations }));
  return {
    generatedAt: new Date().toISOString(),
    commit,
    machine: await describeMachine(options.adminUrl, pgloader),
    config,
    sizes,
    migrationSeconds: figure(median(migrations.apply), 's', [
      {
        label: 'running the migrations again on the migrated database (nothing to apply)',
        value: median(migrations.rerun),
      },
    ]),
    cliStartup: {
      seconds: figure(startup.seconds, 's', [{ label: 'Node alone (`node -e 0`)', value: node.seconds }]),
      peakRssBytes: startup.peakRssBytes,
    },
    targets: checkTargets(sizes, startup, config),
  };
}
