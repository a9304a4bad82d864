/**
 * `extract`: reads every base table of a doc into a new snapshot directory. Rows go to disk page
 * by page, so a table of any size costs one page of memory. The directory is built under a
 * temporary name and renamed when complete: an interrupted or failed run leaves nothing that
 * looks like a snapshot.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { makePrivateDir, openNewPrivateFile, writePrivateFile } from '../shared/private-files.ts';
import { readPackageVersion } from '../shared/version.ts';
import type { CodaClient } from './client.ts';
import type { PublicApiColumn, PublicApiTableReference } from './coda-api-types.ts';
import { silentProgress, type ExtractProgress } from './progress.ts';
import {
  MANIFEST_FILE,
  SNAPSHOT_FORMAT_VERSION,
  tableFile,
  type SnapshotManifest,
  type SnapshotTable,
} from './snapshot-format.ts';
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
}

/** The doc, its base tables and their columns: what is known before a row is read. */
export interface DocOutline {
  doc: SnapshotManifest['doc'];
  tables: Pick<SnapshotTable, 'id' | 'name' | 'columns'>[];
}

type ListedTable = PublicApiTableReference & { columns: PublicApiColumn[] };

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
  const { client, docId, signal } = options;
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? silentProgress;
  const dir = path.resolve(options.outDir);
  if (existsSync(dir)) throw new Error(`${dir} already exists; choose another --out directory or remove it`);

  const startedAt = clock.now();
  const doc = await client.getDoc(docId, signal);
  const listed = await client.listBaseTables(docId, signal);
  // The shared request queue paces these, as it paces the rows.
  const tables = await Promise.all(
    listed.map(
      async (table): Promise<ListedTable> => ({
        ...table,
        columns: await client.listColumns(docId, table, signal),
      }),
    ),
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

async function extractTable(options: {
  client: CodaClient;
  docId: string;
  table: ListedTable;
  partialDir: string;
  progress: ExtractProgress;
  clock: Clock;
  signal: AbortSignal;
}): Promise<SnapshotTable> {
  const { client, docId, table, progress, clock, signal } = options;
  const started = clock.now();
  progress.tableStarted(table);
  const file = tableFile(table.id);
  const output = await openNewPrivateFile(path.join(options.partialDir, file));
  let rows = 0;
  let pages = 0;
  try {
    for await (const page of client.rowPages(docId, table, signal)) {
      await output.appendFile(page.map((row) => `${JSON.stringify(row)}\n`).join(''));
      rows += page.length;
      pages += 1;
      progress.pageWritten(table.id, { rows, pages });
    }
  } finally {
    await output.close();
  }
  progress.tableFinished(table.id, { rows, pages, elapsedMs: clock.now() - started });
  return {
    id: table.id,
    name: table.name,
    browserLink: table.browserLink,
    columns: table.columns,
    rowCount: rows,
    file,
  };
}
