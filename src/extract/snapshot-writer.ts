/**
 * `extract`: reads every base table of a doc into a new snapshot directory. Rows go to disk page
 * by page, so a table of any size costs one page of memory. The directory is built under a
 * temporary name and renamed when complete: an interrupted or failed run leaves nothing that
 * looks like a snapshot.
 *
 * Given the previous snapshot of the doc, it reads only what changed (docs/EXTRACT.md): a table
 * whose `updatedAt` and `rowCount` did not move is copied; otherwise its changed rows come
 * through the previous read's sync token and replace their old lines. Whatever that cannot
 * account for (new or changed columns, a refused token, removed rows) is read whole, with a notice.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, rmSync } from 'node:fs';
import { copyFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { makePrivateDir, openNewPrivateFile, writePrivateFile } from '../shared/private-files.ts';
import { readPackageVersion } from '../shared/version.ts';
import type { CodaClient, RowPage } from './client.ts';
import type { PublicApiColumn, PublicApiTable, PublicApiTableReference } from './coda-api-types.ts';
import { CodaApiError } from './errors.ts';
import { silentProgress, type ExtractProgress, type FullReadReason } from './progress.ts';
import {
  MANIFEST_FILE,
  SNAPSHOT_FORMAT_VERSION,
  tableFile,
  type SnapshotManifest,
  type SnapshotTable,
  type TableRead,
  type TableSyncState,
} from './snapshot-format.ts';
import type { Snapshot } from './snapshot-reader.ts';
import { systemClock, type Clock } from './timing.ts';

const TOOL_NAME = 'postgres-erp';

export interface ExtractOptions {
  client: CodaClient;
  docId: string;
  /** The snapshot directory to create; it must not exist yet. */
  outDir: string;
  progress?: ExtractProgress;
  /** Aborting stops the requests in flight and removes the unfinished directory. */
  signal?: AbortSignal;
  clock?: Clock;
  /**
   * Called once the doc's tables and their columns are listed, before any row is read: a caller
   * that finds them wrong (a mapping naming a column the doc lacks) throws, and the extract stops
   * after a few requests, leaving nothing behind.
   */
  beforeRows?: (listed: DocOutline) => void | Promise<void>;
  /** An earlier snapshot of the same doc from the same API: only what changed since is read. */
  previous?: Snapshot;
}

/** The doc, its base tables and their columns: what is known before a row is read. */
export interface DocOutline {
  doc: SnapshotManifest['doc'];
  tables: Pick<SnapshotTable, 'id' | 'name' | 'columns'>[];
}

/** A table of the previous snapshot that holds what reading only its changes needs, and that snapshot. */
interface Before {
  table: SnapshotTable & { coda: TableSyncState };
  snapshot: Snapshot;
}

/** How a table's rows will be had, decided from its metadata before any row is read. */
type Plan =
  | { kind: 'full'; reason?: FullReadReason }
  | { kind: 'unchanged'; before: Before }
  | { kind: 'changes'; before: Before };

type ListedTable = PublicApiTableReference & {
  columns: PublicApiColumn[];
  meta: Pick<PublicApiTable, 'updatedAt' | 'rowCount'>;
  plan: Plan;
};

export interface ExtractResult {
  dir: string;
  manifest: SnapshotManifest;
}

/** snapshots/<docId>-<UTC time>, e.g. snapshots/AbCDeFGH-20250102T030405Z */
export function defaultSnapshotDir(docId: string, at: Date, root = 'snapshots'): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return path.join(root, `${docId}-${stamp}`);
}

export async function extractSnapshot(options: ExtractOptions): Promise<ExtractResult> {
  const { client, docId, signal, previous } = options;
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? silentProgress;
  const dir = path.resolve(options.outDir);
  if (existsSync(dir)) throw new Error(`${dir} already exists; choose another --out directory or remove it`);
  if (previous) checkPrevious(previous, docId, client.baseUrl);

  const startedAt = clock.now();
  const doc = await client.getDoc(docId, signal);
  const listed = await client.listBaseTables(docId, signal);
  // The shared request queue paces these, as it paces the rows.
  const tables = await Promise.all(
    listed.map(async (table): Promise<ListedTable> => {
      const { updatedAt, rowCount } = await client.getTable(docId, table, signal);
      const meta = { updatedAt, rowCount };
      const before = previous?.manifest().tables.find((candidate) => candidate.id === table.id);
      if (
        previous &&
        before?.coda &&
        before.coda.updatedAt === meta.updatedAt &&
        before.coda.rowCount === meta.rowCount
      ) {
        // Columns are part of the table: a change to them moves its updatedAt too.
        return {
          ...table,
          meta,
          columns: before.columns,
          plan: {
            kind: 'unchanged',
            before: { table: { ...before, coda: before.coda }, snapshot: previous },
          },
        };
      }
      const columns = await client.listColumns(docId, table, signal);
      return { ...table, meta, columns, plan: planRead(previous, before, columns) };
    }),
  );
  await options.beforeRows?.({
    doc: { id: doc.id, name: doc.name, browserLink: doc.browserLink },
    tables,
  });
  const partialDir = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  // A process that ends while extracting (Ctrl-C: the CLI exits on SIGINT) runs no async cleanup;
  // an 'exit' handler is synchronous and still runs.
  const removeOnExit = () => rmSync(partialDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  // A snapshot is the doc's data: readable by the owner alone (folders 0700, files 0600).
  await makePrivateDir(path.join(partialDir, 'tables'));
  try {
    const extracted = await extractTables(tables, signal, (table, tableSignal) =>
      extractTable({ ...options, clock, progress, partialDir, table, signal: tableSignal }),
    );
    const manifest: SnapshotManifest = {
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      tool: { name: TOOL_NAME, version: readPackageVersion() },
      extractedAt: new Date(startedAt).toISOString(),
      apiBaseUrl: client.baseUrl,
      doc: { id: doc.id, name: doc.name, browserLink: doc.browserLink },
      tables: extracted,
    };
    await writePrivateFile(path.join(partialDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partialDir, dir);
    return { dir, manifest };
  } catch (error) {
    await rm(partialDir, { recursive: true, force: true });
    throw error;
  } finally {
    process.off('exit', removeOnExit);
    progress.close();
  }
}

/** Sync tokens are good for one doc on one API only. */
function checkPrevious(previous: Snapshot, docId: string, baseUrl: string): void {
  const { doc, apiBaseUrl } = previous.manifest();
  if (doc.id !== docId)
    throw new Error(
      `the previous snapshot ${previous.dir} is of doc "${doc.name}" (${doc.id}), not of doc ${docId}`,
    );
  if (apiBaseUrl !== baseUrl)
    throw new Error(`the previous snapshot ${previous.dir} was read from ${apiBaseUrl}, not from ${baseUrl}`);
}

/** A table that moved: its changes through the token, unless its columns or its past say otherwise. */
function planRead(
  previous: Snapshot | undefined,
  before: SnapshotTable | undefined,
  columns: PublicApiColumn[],
): Plan {
  if (!previous) return { kind: 'full' };
  if (!before) return { kind: 'full', reason: 'new-table' };
  if (!before.coda) return { kind: 'full', reason: 'no-sync-state' };
  // Any difference (a column added, removed, renamed, reordered, reformatted): the stored rows
  // and columns would disagree with what a full read gives.
  if (JSON.stringify(before.columns) !== JSON.stringify(columns))
    return { kind: 'full', reason: 'columns-changed' };
  return { kind: 'changes', before: { table: { ...before, coda: before.coda }, snapshot: previous } };
}

/**
 * All tables at once (the shared request queue is what limits the pace). The first failure
 * stops the others, so the caller can remove the directory knowing nothing still writes to it.
 */
async function extractTables(
  tables: ListedTable[],
  signal: AbortSignal | undefined,
  extractOne: (table: ListedTable, signal: AbortSignal) => Promise<SnapshotTable>,
): Promise<SnapshotTable[]> {
  const stopSiblings = new AbortController();
  let firstFailure: unknown;
  const results = await Promise.allSettled(
    tables.map(async (table) => {
      // One signal per table: its requests' abort listeners then stay few per signal.
      const tableSignal = AbortSignal.any(signal ? [signal, stopSiblings.signal] : [stopSiblings.signal]);
      try {
        return await extractOne(table, tableSignal);
      } catch (error) {
        if (!stopSiblings.signal.aborted) {
          firstFailure = error;
          stopSiblings.abort(error);
        }
        throw error;
      }
    }),
  );
  if (stopSiblings.signal.aborted) throw firstFailure;
  return results.map((result) => (result as PromiseFulfilledResult<SnapshotTable>).value);
}

interface TableJob {
  client: CodaClient;
  docId: string;
  table: ListedTable;
  partialDir: string;
  progress: ExtractProgress;
  clock: Clock;
  signal: AbortSignal;
}

/** Rows written and pages read, and the token the last page handed out. */
interface Written {
  rows: number;
  pages: number;
  syncToken: string | undefined;
}

async function extractTable(job: TableJob): Promise<SnapshotTable> {
  const { table, progress, clock } = job;
  const started = clock.now();
  progress.tableStarted(table);
  const file = tableFile(table.id);
  const target = path.join(job.partialDir, file);
  const { plan } = table;
  let written: Written | undefined;
  let read: TableRead = plan.kind;
  if (plan.kind === 'unchanged') {
    const { table: before, snapshot } = plan.before;
    await copyFile(path.join(snapshot.dir, before.file), target, constants.COPYFILE_EXCL);
    written = { rows: before.rowCount, pages: 0, syncToken: before.coda.syncToken };
  } else if (plan.kind === 'changes') {
    const outcome = await readChanges(job, plan.before, target);
    if ('reason' in outcome) {
      progress.fullRead(table, outcome.reason);
      read = 'full';
    } else written = outcome;
  } else if (plan.reason) progress.fullRead(table, plan.reason);
  written ??= await readWhole(job, target);
  progress.tableFinished(table.id, {
    rows: written.rows,
    pages: written.pages,
    elapsedMs: clock.now() - started,
    read,
  });
  return {
    id: table.id,
    name: table.name,
    browserLink: table.browserLink,
    columns: table.columns,
    rowCount: written.rows,
    file,
    // The metadata read before the rows: a change made while reading moves updatedAt past it.
    ...(written.syncToken === undefined
      ? {}
      : { coda: { ...table.meta, syncToken: written.syncToken, read } }),
  };
}

async function readWhole(job: TableJob, target: string): Promise<Written> {
  const { client, docId, table, signal } = job;
  const output = await openNewPrivateFile(target);
  try {
    return await writePages(job, client.rowPages(docId, table, { signal }), output);
  } finally {
    await output.close();
  }
}

/** Coda writes a row's id first; a row written otherwise is parsed for it. */
const LEADING_ID = /^\{"id":"([^"\\]+)"/;

function rowId(text: string): string {
  return LEADING_ID.exec(text)?.[1] ?? (JSON.parse(text) as { id: string }).id;
}

/** Lines written per call: few calls, and a bounded string. */
const LINES_PER_WRITE = 1_000;

/**
 * The rows changed since the previous read, through its sync token, merged into its rows: each
 * changed row replaces its old line, and rows not seen before (created since: Coda lists rows by
 * creation time) follow the others in Coda's order. The result is what a full read would give as
 * long as nothing was removed, and Coda's row count is what tells: a sync read never lists a
 * removed row. Anything the changed rows cannot account for is a reason to read the table whole.
 */
async function readChanges(
  job: TableJob,
  { table: before, snapshot: previous }: Before,
  target: string,
): Promise<Written | { reason: FullReadReason }> {
  const { client, docId, table, signal, progress } = job;
  // Held until merged: a nightly run changes a small part of a table.
  const changed = new Map<string, string>();
  let pages = 0;
  let syncToken: string | undefined;
  try {
    for await (const page of client.rowPages(docId, table, { syncToken: before.coda.syncToken, signal })) {
      for (const row of page.rows) changed.set(row.id, JSON.stringify(row));
      pages += 1;
      syncToken = page.nextSyncToken ?? syncToken;
      progress.pageWritten(table.id, { rows: changed.size, pages });
    }
  } catch (error) {
    // Coda documents no error of its own for a token it no longer honours: a bad request is one.
    if (error instanceof CodaApiError && error.status === 400) return { reason: 'token-refused' };
    throw error;
  }
  if (changed.size === 0)
    return { reason: table.meta.rowCount === before.rowCount ? 'change-not-in-rows' : 'rows-removed' };

  const output = await openNewPrivateFile(target);
  let rows = 0;
  let lines: string[] = [];
  const write = async (line: string) => {
    lines.push(`${line}\n`);
    rows += 1;
    if (lines.length < LINES_PER_WRITE) return;
    await output.appendFile(lines.join(''));
    lines = [];
  };
  try {
    for await (const entry of previous.entries(table.id)) {
      const id = rowId(entry.text);
      const replacement = changed.get(id);
      changed.delete(id);
      await write(replacement ?? entry.text);
    }
    for (const line of changed.values()) await write(line);
    await output.appendFile(lines.join(''));
  } finally {
    await output.close();
  }
  if (rows !== table.meta.rowCount) {
    await rm(target);
    return { reason: 'rows-removed' };
  }
  return { rows, pages, syncToken };
}

async function writePages(
  job: TableJob,
  pages: AsyncIterable<RowPage>,
  output: FileHandle,
): Promise<Written> {
  const written: Written = { rows: 0, pages: 0, syncToken: undefined };
  for await (const page of pages) {
    await output.appendFile(page.rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    written.rows += page.rows.length;
    written.pages += 1;
    written.syncToken = page.nextSyncToken ?? written.syncToken;
    job.progress.pageWritten(job.table.id, written);
  }
  return written;
}
