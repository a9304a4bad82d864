/**
 * Reading a snapshot directory back: the manifest, checked, and each table's rows streamed one
 * at a time. This is how the transform stage sees Coda, whether the snapshot is old or was just
 * extracted.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CodaRow } from './coda-api-types.ts';
import { describeIssue, rowSchema } from './response-schemas.ts';
import {
  MANIFEST_FILE,
  manifestSchema,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  type SnapshotTable,
} from './snapshot-format.ts';

/** Where Coda data comes from for the later stages. */
export interface CodaSource {
  manifest(): SnapshotManifest;
  /** The table's rows in the order Coda sent them. */
  rows(tableId: string): AsyncIterable<CodaRow>;
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
      `${manifestPath} is not a snapshot manifest of format ${SNAPSHOT_FORMAT_VERSION}: ${describeIssue(check.error)}`,
    );
  }
  // The raw JSON rather than the parse result: the columns stay exactly as Coda sent them.
  const manifest = json as SnapshotManifest;
  return {
    dir,
    manifest: () => manifest,
    rows(tableId) {
      const table = manifest.tables.find((candidate) => candidate.id === tableId);
      if (!table) {
        const known = manifest.tables.map((candidate) => `${candidate.id} (${candidate.name})`).join(', ');
        throw new Error(`the snapshot in ${dir} has no table ${tableId}; it has ${known || 'no tables'}`);
      }
      return readRows(dir, table);
    },
  };
}

async function* readRows(dir: string, table: SnapshotTable): AsyncGenerator<CodaRow> {
  const file = path.join(dir, table.file);
  const input = await open(file).catch(() => {
    throw new Error(`${file} is missing: the snapshot in ${dir} is damaged`);
  });
  let lineNumber = 0;
  try {
    for await (const line of input.readLines()) {
      lineNumber += 1;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${lineNumber} is not a JSON row: the snapshot is damaged`);
      }
      const check = rowSchema.safeParse(row);
      if (!check.success)
        throw new Error(`${file}:${lineNumber} is not a Coda row: ${describeIssue(check.error)}`);
      yield row as CodaRow;
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
