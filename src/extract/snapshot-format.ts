/**
 * The snapshot directory, the contract between extraction and the later stages:
 *
 *   manifest.json            what was extracted, from where, when, by which tool version
 *   tables/<tableId>.jsonl   one row per line, exactly as Coda sent it (valueFormat=rich)
 *
 * The manifest is written last and the directory renamed into place when complete, so a
 * directory with a manifest is a complete snapshot.
 */
import { z } from 'zod';
import type { PublicApiColumn } from './coda-api-types.ts';
import { columnSchema } from './response-schemas.ts';

/**
 * Bumped when the layout changes in a way readers must know about. 2 added `coda` per table (what
 * the next extract needs to read only what changed); format 1 snapshots stay readable, and an
 * extract after one reads every table whole.
 */
export const SNAPSHOT_FORMAT_VERSION = 2;
export const READABLE_FORMAT_VERSIONS = [1, SNAPSHOT_FORMAT_VERSION] as const;
export const MANIFEST_FILE = 'manifest.json';

export interface SnapshotTable {
  id: string;
  name: string;
  browserLink: string;
  /** As Coda sent them, in Coda's order; rows key their values by these ids. */
  columns: PublicApiColumn[];
  rowCount: number;
  /** The JSONL file of rows, relative to the snapshot directory. */
  file: string;
  /** Absent in format 1 snapshots. */
  coda?: TableSyncState;
}

/** What Coda said of a table when it was read, so that the next extract can read only what changed. */
export interface TableSyncState {
  /** The table's `updatedAt` before its rows were read: a change made while reading moves it past this. */
  updatedAt: string;
  /** The table's `rowCount` as Coda reported it then. */
  rowCount: number;
  /** The `nextSyncToken` of the last page of rows: rows changed since come back through it. */
  syncToken: string;
  /** How this extract got the rows: read whole, changes through the previous token, or copied unchanged. */
  read: TableRead;
}

export type TableRead = 'full' | 'changes' | 'unchanged';

export interface SnapshotManifest {
  formatVersion: (typeof READABLE_FORMAT_VERSIONS)[number];
  tool: { name: string; version: string };
  /** ISO 8601, when extraction started: every row is at least this fresh. */
  extractedAt: string;
  /** Without credentials. */
  apiBaseUrl: string;
  doc: { id: string; name: string; browserLink: string };
  /** Base tables in Coda's order; views are not extracted. */
  tables: SnapshotTable[];
}

const TABLE_FILE = /^tables\/[A-Za-z0-9_-]+\.jsonl$/;

/** The file for a table's rows; Coda ids are safe file names, anything else is refused. */
export function tableFile(tableId: string): string {
  const file = `tables/${tableId}.jsonl`;
  if (!TABLE_FILE.test(file))
    throw new Error(`table id ${JSON.stringify(tableId)} cannot be used as a file name`);
  return file;
}

// Loose objects: a newer tool may add fields that this reader can ignore.
export const manifestSchema = z.looseObject({
  formatVersion: z.literal(READABLE_FORMAT_VERSIONS),
  tool: z.looseObject({ name: z.string(), version: z.string() }),
  extractedAt: z.iso.datetime(),
  apiBaseUrl: z.string(),
  doc: z.looseObject({ id: z.string(), name: z.string(), browserLink: z.string() }),
  tables: z.array(
    z.looseObject({
      id: z.string(),
      name: z.string(),
      browserLink: z.string(),
      columns: z.array(columnSchema),
      rowCount: z.number().int().nonnegative(),
      file: z.string().regex(TABLE_FILE),
      coda: z
        .looseObject({
          updatedAt: z.string(),
          rowCount: z.number().int().nonnegative(),
          syncToken: z.string(),
          read: z.enum(['full', 'changes', 'unchanged']),
        })
        .optional(),
    }),
  ),
});
