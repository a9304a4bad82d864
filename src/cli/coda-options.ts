/**
 * The options every command that reads Coda shares: which doc, how to reach the API, or a
 * snapshot directory instead (`--snapshot DIR`, for offline replays and bug reports).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CodaClient,
  createProgress,
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT,
  defaultSnapshotDir,
  extractSnapshot,
  formatRateLimit,
  readSnapshot,
  resolveConnection,
  systemClock,
  type ExtractResult,
  type Snapshot,
} from '../extract/index.ts';

export interface CodaOptions {
  doc?: string;
  snapshot?: string;
  out?: string;
  baseUrl?: string;
  tokenFile?: string;
  rateLimit?: string;
  timeout: number;
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!(seconds > 0)) throw new InvalidArgumentError('expected a number of seconds above 0');
  return seconds;
}

export function addCodaOptions(command: Command, { snapshot }: { snapshot: boolean }): Command {
  command.addOption(
    new Option('--doc <docId>', 'the Coda doc id (the part after "_d" in the doc URL)').env('CODA_DOC_ID'),
  );
  if (snapshot) command.option('--snapshot <dir>', 'read this snapshot directory instead of the live doc');
  return command
    .option('--base-url <url>', `the Coda API (default: CODA_API_BASE_URL or ${DEFAULT_BASE_URL})`)
    .option('--token-file <file>', 'read the API token from this file instead of CODA_API_TOKEN')
    .option(
      '--rate-limit <rate>',
      `requests per interval (default: CODA_RATE_LIMIT or ${formatRateLimit(DEFAULT_RATE_LIMIT)})`,
    )
    .option(
      '--timeout <seconds>',
      'give up on a single request after this long, and retry it',
      positiveSeconds,
      60,
    );
}

export async function codaClient(options: CodaOptions): Promise<CodaClient> {
  const connection = await resolveConnection(options);
  return new CodaClient({ ...connection, timeoutMs: options.timeout * 1_000 });
}

function requireDoc(options: CodaOptions): string {
  if (!options.doc)
    throw new Error('say which Coda doc to read: --doc <docId> (or CODA_DOC_ID), or --snapshot <dir>');
  return options.doc;
}

/** Extracts the doc into a new snapshot directory, with progress on stderr. */
export async function extractFromOptions(
  options: CodaOptions,
): Promise<ExtractResult & { client: CodaClient }> {
  const docId = requireDoc(options);
  const client = await codaClient(options);
  // Node's default for these signals ends the process without 'exit' handlers, and the one that
  // removes the unfinished snapshot directory is one.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  const result = await extractSnapshot({
    client,
    docId,
    outDir: options.out ?? defaultSnapshotDir(docId, new Date()),
    progress: createProgress(process.stderr, systemClock),
  });
  return { ...result, client };
}

/** `--snapshot DIR` as it is, or a fresh extract of `--doc`: later stages see one kind of source. */
export async function openSource(options: CodaOptions): Promise<Snapshot> {
  if (options.snapshot) return readSnapshot(options.snapshot);
  const { dir } = await extractFromOptions(options);
  return readSnapshot(dir);
}
