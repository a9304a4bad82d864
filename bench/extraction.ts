/**
 * Extraction through the rate limit: the local Coda server enforces Coda's limit (optionally
 * time-scaled) and `erp extract` runs as a child process against it, exactly as against Coda.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FixtureDoc } from './coda-server/fixture-types.ts';
import { startCodaServer } from './coda-server/server.ts';
import { runCli } from './cli-process.ts';
import { figure, type BenchConfig, type ExtractionResult } from './results.ts';

const TOKEN = 'bench-token';

/** The fastest the server allows: its requests per second times the rows of a full page. */
function ceilingRowsPerSecond(config: BenchConfig): number {
  return (config.codaLimit.requests / (config.serverWindowMs / 1000)) * config.rowsPerPage;
}

export async function measureExtraction(
  doc: FixtureDoc,
  config: BenchConfig,
  workDir: string,
  cliBaselineRssBytes: number,
): Promise<{ snapshotDir: string; result: ExtractionResult }> {
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
  const snapshotDir = path.join(workDir, 'snapshot');
  try {
    await writeFile(tokenFile, TOKEN, { mode: 0o600 });
    const cli = await runCli(
      [
        'extract',
        '--doc',
        doc.id,
        '--base-url',
        server.baseUrl,
        '--token-file',
        tokenFile,
        '--rate-limit',
        `${config.clientRequestsPerWindow}/${config.serverWindowMs}ms`,
        '--out',
        snapshotDir,
        // The figure is a full read's: an earlier snapshot beside it must not spare any table.
        '--full',
      ],
      {},
    );
    const requests = server.requests;
    const first = requests[0];
    const last = requests.at(-1);
    if (!first || !last || requests.length < 2)
      throw new Error('the extract sent fewer than two requests; nothing to time');
    // From the first request to the last, plus one average gap for the last request's own turn.
    const gaps = requests.length - 1;
    const seconds = ((last.at - first.at) / 1000) * (requests.length / gaps);
    const rows = doc.tables.reduce((sum, table) => sum + table.rowCount, 0);
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
  } finally {
    await server.close();
  }
}
