/**
 * Reading Coda through the rate limit: the local Coda server enforces Coda's limit (optionally
 * time-scaled) and the `erp` CLI runs as a child process against it, exactly as against Coda. The
 * server stays up for the size's whole run, so a later `erp plan` finds the first extract's
 * snapshot made from the same API and reads only what changed since, as the owner's nightly does.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FixtureDoc } from './coda-server/fixture-types.ts';
import { startCodaServer, type RecordedRequest } from './coda-server/server.ts';
import { runCli, type CliRun } from './cli-process.ts';
import { figure, type BenchConfig, type ExtractionResult } from './results.ts';

const TOKEN = 'bench-token';

/** The fastest the server allows: its requests per second times the rows of a full page. */
function ceilingRowsPerSecond(config: BenchConfig): number {
  return (config.codaLimit.requests / (config.serverWindowMs / 1000)) * config.rowsPerPage;
}

export interface BenchCoda {
  doc: FixtureDoc;
  /** Where each CLI run writes its snapshot: the folder an extract looks in for the previous one. */
  snapshotsDir: string;
  /** Runs `erp <command> …` against the server (doc, API, token file, rate limit given); returns the requests it made. */
  run(command: string[], env?: Record<string, string>): Promise<{ cli: CliRun; requests: RecordedRequest[] }>;
  close(): Promise<void>;
}

export async function startBenchCoda(
  doc: FixtureDoc,
  config: BenchConfig,
  workDir: string,
): Promise<BenchCoda> {
  const server = await startCodaServer({
    token: TOKEN,
    doc,
    maxPageSize: config.rowsPerPage,
    rateLimit: {
      requests: config.codaLimit.requests,
      windowMs: config.serverWindowMs,
      retryAfter: 'seconds',
    },
  });
  const tokenFile = path.join(workDir, 'coda-token');
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  return {
    doc,
    snapshotsDir: path.join(workDir, 'snapshots'),
    async run(command, env = {}) {
      const before = server.requests.length;
      const cli = await runCli(
        [
          ...command,
          '--doc',
          doc.id,
          '--base-url',
          server.baseUrl,
          '--token-file',
          tokenFile,
          '--rate-limit',
          `${config.clientRequestsPerWindow}/${config.serverWindowMs}ms`,
        ],
        env,
      );
      return { cli, requests: server.requests.slice(before) };
    },
    close: () => server.close(),
  };
}

/** `erp extract` of the whole doc: rows/s against the rate limit's ceiling, requests, 429s, memory. */
export async function measureExtraction(
  coda: BenchCoda,
  config: BenchConfig,
  cliBaselineRssBytes: number,
): Promise<{ snapshotDir: string; result: ExtractionResult }> {
  const snapshotDir = path.join(coda.snapshotsDir, 'full');
  // The figure is a full read's: an earlier snapshot beside it must not spare any table.
  const { cli, requests } = await coda.run(['extract', '--out', snapshotDir, '--full']);
  const first = requests[0];
  const last = requests.at(-1);
  if (!first || !last || requests.length < 2)
    throw new Error('the extract sent fewer than two requests; nothing to time');
  // From the first request to the last, plus one average gap for the last request's own turn.
  const gaps = requests.length - 1;
  const seconds = ((last.at - first.at) / 1000) * (requests.length / gaps);
  const rows = coda.doc.tables.reduce((sum, table) => sum + table.rowCount, 0);
  const allowedPerSecond = config.codaLimit.requests / (config.serverWindowMs / 1000);
  return {
    snapshotDir,
    result: {
      rowsPerSecond: figure(rows / seconds, 'rows/s', [
        { label: 'ceiling: allowed requests/s x rows per page', value: ceilingRowsPerSecond(config) },
      ]),
      requestRateFraction: requests.length / seconds / allowedPerSecond,
      requests: requests.length,
      rateLimited: requests.filter((request) => request.status === 429).length,
      cliSeconds: cli.seconds,
      peakRssBytes: figure(cli.peakRssBytes, 'bytes', [
        {
          label: '`erp --version` (Node and the compiled CLI loaded, no work)',
          value: cliBaselineRssBytes,
        },
      ]),
    },
  };
}
