import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CodaClient,
  createProgress,
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT,
  defaultSnapshotDir,
  extractSnapshot,
  formatRateLimit,
  resolveConnection,
  systemClock,
} from '../extract/index.ts';

interface ExtractCommandOptions {
  doc: string;
  out?: string;
  baseUrl?: string;
  tokenFile?: string;
  rateLimit?: string;
  timeout: number;
}

/** Relative to the working directory when inside it, as the user most likely typed it. */
function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!(seconds > 0)) throw new InvalidArgumentError('expected a number of seconds above 0');
  return seconds;
}

export function registerExtractCommands(program: Command): void {
  program
    .command('extract')
    .description('read every base table of a Coda doc into a new snapshot directory (manifest.json, tables/<tableId>.jsonl)')
    .addOption(new Option('--doc <docId>', 'the Coda doc id (the part after "_d" in the doc URL)').env('CODA_DOC_ID').makeOptionMandatory())
    .option('--out <dir>', 'the snapshot directory to create (default: snapshots/<docId>-<UTC time>)')
    .option('--base-url <url>', `the Coda API (default: CODA_API_BASE_URL or ${DEFAULT_BASE_URL})`)
    .option('--token-file <file>', 'read the API token from this file instead of CODA_API_TOKEN')
    .option('--rate-limit <rate>', `requests per interval (default: CODA_RATE_LIMIT or ${formatRateLimit(DEFAULT_RATE_LIMIT)})`)
    .option('--timeout <seconds>', 'give up on a single request after this long, and retry it', positiveSeconds, 60)
    .action(async (options: ExtractCommandOptions) => {
      const connection = await resolveConnection(options);
      const client = new CodaClient({ ...connection, timeoutMs: options.timeout * 1_000 });
      // Node's default for these signals ends the process without 'exit' handlers, and the one
      // that removes the unfinished snapshot directory is one.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      const { dir, manifest } = await extractSnapshot({
        client,
        docId: options.doc,
        outDir: options.out ?? defaultSnapshotDir(options.doc, new Date()),
        progress: createProgress(process.stderr, systemClock),
      });
      const rows = manifest.tables.reduce((sum, table) => sum + table.rowCount, 0);
      const { requests, rateLimited, transientFailures } = client.stats;
      console.log(
        `Snapshot of "${manifest.doc.name}" (${manifest.tables.length} tables, ${rows.toLocaleString('en-US')} rows) written to ${displayPath(dir)}` +
          ` (${requests} requests, ${rateLimited} rate-limited, ${transientFailures} retried after a fault)`,
      );
    });
}
