/**
 * The options every command that reads Coda shares: which doc, how to reach the API, or a
 * snapshot directory instead (`--snapshot DIR`, for offline replays and bug reports), and which
 * earlier snapshot a live extract reads only the changes since (`--since DIR`, `--full`).
 */
import path from 'node:path';
import type { CodaRequests } from '../load/run.ts';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CodaClient,
  createProgress,
  formatRetryNotice,
  formatSlowAnswerNotice,
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT,
  defaultSnapshotDir,
  extractSnapshot,
  formatRateLimit,
  latestSnapshot,
  readSnapshot,
  resolveConnection,
  systemClock,
  type DocOutline,
  type ExtractResult,
  type Snapshot,
} from '../extract/index.ts';

export interface CodaOptions {
  doc?: string;
  snapshot?: string;
  out?: string;
  since?: string;
  full?: boolean;
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
    )
    .option(
      '--since <dir>',
      "read only what changed since this snapshot of the doc (default: the doc's latest snapshot where the new one is written)",
    )
    .addOption(new Option('--full', 'read every table whole, ignoring earlier snapshots').conflicts('since'));
}

/** The snapshot whose changes since are read: --since, else the doc's newest one beside the new one. */
function previousSnapshot(
  options: CodaOptions,
  docId: string,
  outDir: string,
  client: CodaClient,
): Promise<Snapshot | undefined> {
  if (options.full) return Promise.resolve(undefined);
  if (options.since) return readSnapshot(options.since);
  return latestSnapshot(path.dirname(outDir), docId, client.baseUrl);
}

export async function codaClient(options: CodaOptions): Promise<CodaClient> {
  const connection = await resolveConnection(options);
  return new CodaClient({
    ...connection,
    timeoutMs: options.timeout * 1_000,
    onRetry: (notice) => process.stderr.write(`${formatRetryNotice(notice)}\n`),
    onSlowAnswer: (notice) => process.stderr.write(`${formatSlowAnswerNotice(notice)}\n`),
  });
}

function requireDoc(options: CodaOptions): string {
  if (!options.doc)
    throw new Error('say which Coda doc to read: --doc <docId> (or CODA_DOC_ID), or --snapshot <dir>');
  return options.doc;
}

/** Extracts the doc into a new snapshot directory, with progress on stderr. */
export async function extractFromOptions(
  options: CodaOptions,
  beforeRows?: (outline: DocOutline) => void | Promise<void>,
): Promise<ExtractResult & { client: CodaClient; previous: string | undefined }> {
  const docId = requireDoc(options);
  const client = await codaClient(options);
  // Node's default for these signals ends the process without 'exit' handlers, and the one that
  // removes the unfinished snapshot directory is one. Only while extracting: later stages say
  // themselves what a signal stopped.
  const onInterrupt = () => {
    console.error('erp: interrupted while reading Coda: nothing was written to the database');
    process.exit(130);
  };
  const onTerminate = () => {
    console.error('erp: terminated while reading Coda: nothing was written to the database');
    process.exit(143);
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onTerminate);
  const outDir = options.out ?? defaultSnapshotDir(docId, new Date());
  try {
    const previous = await previousSnapshot(options, docId, outDir, client);
    const result = await extractSnapshot({
      client,
      docId,
      outDir,
      progress: createProgress(process.stderr, systemClock),
      beforeRows,
      ...(previous ? { previous } : {}),
    });
    return { ...result, client, previous: previous?.dir };
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
  }
}

/**
 * `--snapshot DIR` as it is, or a fresh extract of `--doc`: later stages see one kind of source.
 * A fresh extract also says what reading Coda took (requests, 429s, retries). `beforeRows` sees
 * the doc's tables and columns first, and refuses by throwing: before a live extract reads any
 * row, and before anything is done with a snapshot.
 */
export async function openSource(
  options: CodaOptions,
  beforeRows?: (outline: DocOutline) => void | Promise<void>,
): Promise<{ source: Snapshot; codaRequests: CodaRequests | null }> {
  if (options.snapshot) {
    const source = await readSnapshot(options.snapshot);
    await beforeRows?.(source.manifest());
    return { source, codaRequests: null };
  }
  const { dir, client } = await extractFromOptions(options, beforeRows);
  const { requests, rateLimited, transientFailures } = client.stats;
  return {
    source: await readSnapshot(dir),
    codaRequests: { requests, rateLimited, retried: transientFailures },
  };
}
