/**
 * Reading a snapshot directory back: the manifest, checked, and each table's rows streamed one
 * at a time. This is how the transform stage sees Coda, whether the snapshot is old or was just
 * extracted.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CodaRow } from './coda-api-types.ts';
import { describeIssue, isRowJson, rowSchema } from './response-schemas.ts';
import { readLines } from '../shared/read-lines.ts';
import {
  MANIFEST_FILE,
  manifestSchema,
  READABLE_FORMAT_VERSIONS,
  type SnapshotManifest,
  type SnapshotTable,
} from './snapshot-format.ts';

/** One row of a snapshot: the text it was stored as, parsed and checked only when asked. */
export interface SnapshotEntry {
  text: string;
  row(): CodaRow;
}

/** Where Coda data comes from for the later stages. */
export interface CodaSource {
  manifest(): SnapshotManifest;
  /** The table's rows in the order Coda sent them. */
  rows(tableId: string): AsyncIterable<CodaRow>;
  /** The same rows as stored: a plan hashes the text to skip rows that did not change, unparsed. */
  entries(tableId: string): AsyncIterable<SnapshotEntry>;
}

export interface Snapshot extends CodaSource {
  readonly dir: string;
}

export async function readSnapshot(dir: string): Promise<Snapshot> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new Error(
      `${dir} is not a snapshot: it has no ${MANIFEST_FILE} (a directory named *.partial-* is an unfinished extraction)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${manifestPath} is not valid JSON, so ${dir} is not a readable snapshot`);
  }
  const check = manifestSchema.safeParse(json);
  if (!check.success) {
    throw new Error(
      `${manifestPath} is not a snapshot manifest of format ${READABLE_FORMAT_VERSIONS.join(' or ')} (the formats this erp reads; a newer erp may have written it): ${describeIssue(check.error)}`,
    );
  }
  // The raw JSON rather than the parse result: the columns stay exactly as Coda sent them.
  const manifest = json as SnapshotManifest;
  const entries = (tableId: string) => {
    const table = manifest.tables.find((candidate) => candidate.id === tableId);
    if (!table) {
      const known = manifest.tables.map((candidate) => `${candidate.id} (${candidate.name})`).join(', ');
      throw new Error(`the snapshot in ${dir} has no table ${tableId}; it has ${known || 'no tables'}`);
    }
    return readEntries(dir, table);
  };
  return {
    dir,
    manifest: () => manifest,
    entries,
    rows(tableId) {
      const stored = entries(tableId);
      return (async function* () {
        for await (const entry of stored) yield entry.row();
      })();
    },
  };
}

/**
 * The newest complete snapshot of `docId` read from `apiBaseUrl` among the folders of `root`
 * (none when `root` does not exist): what the next extract reads only the changes since. A folder
 * that is not a readable snapshot (an unfinished extraction, something else) is passed over.
 */
export async function latestSnapshot(
  root: string,
  docId: string,
  apiBaseUrl: string,
): Promise<Snapshot | undefined> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  let latest: Snapshot | undefined;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const snapshot = await readSnapshot(path.join(root, entry.name)).catch(() => undefined);
    const manifest = snapshot?.manifest();
    if (!manifest || manifest.doc.id !== docId || manifest.apiBaseUrl !== apiBaseUrl) continue;
    if (!latest || manifest.extractedAt > latest.manifest().extractedAt) latest = snapshot;
  }
  return latest;
}

function parseRow(line: string, at: string): CodaRow {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    throw new Error(`${at} is not a JSON row: the snapshot is damaged`);
  }
  if (!isRowJson(row)) {
    const check = rowSchema.safeParse(row);
    if (!check.success) throw new Error(`${at} is not a Coda row: ${describeIssue(check.error)}`);
  }
  return row as CodaRow;
}

async function* readEntries(dir: string, table: SnapshotTable): AsyncGenerator<SnapshotEntry> {
  const file = path.join(dir, table.file);
  const input = await open(file).catch(() => {
    throw new Error(`${file} is missing: the snapshot in ${dir} is damaged`);
  });
  let lineNumber = 0;
  try {
    const readAt = async (buffer: Buffer, position: number) =>
      (await input.read(buffer, 0, buffer.length, position)).bytesRead;
    for await (const line of readLines(readAt)) {
      lineNumber += 1;
      const at = lineNumber;
      yield { text: line, row: () => parseRow(line, `${file}:${at}`) };
    }
  } finally {
    await input.close();
  }
  if (lineNumber !== table.rowCount) {
    throw new Error(
      `${file} has ${lineNumber} rows but the manifest says ${table.rowCount}: the snapshot is damaged`,
    );
  }
}
