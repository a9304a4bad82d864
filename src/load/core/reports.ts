/**
 * What loading a table reports, as data: src/report words it. Kept apart from the code that
 * fills it, so the table steps, the conflicts, the reconcile and the report all read one shape
 * without importing each other.
 */
import type { SpooledList } from '../../shared/spooled-list.ts';
import type { LinkReason, RunReject } from './reasons.ts';

export interface FieldChange {
  column: string;
  before: unknown;
  after: unknown;
  /** For a link: the names of the rows it pointed at and points at now (ids mean nothing to the owner). */
  linked?: { before: string | null; after: string | null };
}

export interface RowSummary {
  rowId: string;
  rowName: string;
  browserLink: string;
}

export interface UnresolvedReference extends RowSummary {
  column: string;
  label: string;
  reason: LinkReason;
}

export type UpdatedRow = RowSummary & { changes: FieldChange[] };
export type GoneRow = RowSummary & { targetId: string };

export type Side = 'coda' | 'postgres';

/** Which side wins: per Coda row id (from a decisions file), else for every row of the run. */
export interface ConflictChoices {
  prefer?: Side;
  byRowId?: ReadonlyMap<string, Side>;
}

export interface ConflictField {
  column: string;
  /** The Coda column's name. */
  label: string;
  coda: unknown;
  postgres: unknown;
  lastLoad: unknown;
}

/** A row edited (or deleted) in Postgres since the last load, that this load would change (table/conflicts.ts). */
export interface Conflict extends RowSummary {
  /** The row was deleted in Postgres after a load; Coda still has it (fields is then empty). */
  deletedInPostgres: boolean;
  fields: ConflictField[];
  /** Who wins, when the owner said; null when nobody did (a cutover is then refused). */
  winner: Side | null;
  /** When Postgres wins by what an earlier cutover kept (the same values on both sides): that cutover. */
  keptByRun: string | null;
}

/**
 * What loading one table did. The lists that can be as long as the table (inserted, updated,
 * gone) are spooled to disk past their first rows, in row-id order (byte order, which is
 * code-unit order for Coda's ASCII row ids).
 */
export interface TableLoadReport {
  mappingFile: string;
  codaTable: { id: string; name: string };
  target: string;
  read: number;
  inserted: SpooledList<RowSummary>;
  updated: SpooledList<UpdatedRow>;
  unchanged: number;
  rejects: RunReject[];
  /**
   * Optional links that could not be resolved and were loaded as NULL, and the people a column
   * that keeps one left out of a cell naming several (multiple: first).
   */
  unresolved: UnresolvedReference[];
  /** Rows loaded by earlier runs whose Coda row is gone from the table now (never deleted). */
  goneFromCoda: SpooledList<GoneRow>;
  peopleCreated: number;
  /** Fields edited in Postgres since the last load that this load would change. */
  conflicts: Conflict[];
}
