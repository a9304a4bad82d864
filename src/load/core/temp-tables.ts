/**
 * Every temporary table (and cursor) a run makes, by name, in one place: the table steps, the
 * reconcile and the undo read each other's by these names. All are dropped at the end of the
 * run's transaction (ON COMMIT DROP) if not before. Names are unquoted; callers quote them.
 *
 * A table's load goes through three of them per chunk: the ARRIVAL (what COPY wrote, links as
 * Coda names them), the STAGE (the chunk with its links resolved and its erp row found), and the
 * STAGED rows (every chunk's stage so far; renamed to the stage once the table is done, so that
 * what reads a table's stage afterwards, "gone from Coda" and the reconcile, finds it there).
 */
import type { ReferenceColumn } from './load-plan.ts';

/** The erp table a load writes, unqualified ("tasks" of erp.tasks): temporary names are per table. */
type Target = { target: { table: string } };

/** Where COPY writes the transformed rows of a chunk, before they are resolved into the stage. */
export const arrivalName = ({ target }: Target) => `arrival_${target.table}`;

/** One chunk resolved; once the table is done, every staged row (see stagedRowsName). */
export const stageName = ({ target }: Target) => `stage_${target.table}`;

/** The rows every chunk staged, renamed to the stage when the table is done. */
export const stagedRowsName = ({ target }: Target) => `staged_${target.table}`;

/** The rows of the table that differ from their erp row, with both sides, until the table is listed. */
export const changedRowsName = ({ target }: Target) => `changed_${target.table}`;

/** The distinct people of one Person column of a chunk, while they are resolved. */
export const personRefsName = (reference: ReferenceColumn) => `person_refs_${reference.column}`;

/** The erp ids of the Coda rows one link column may name, read once per table. */
export const linkedRowsName = (linkIndex: number) => `linked_rows_${linkIndex}`;

/** Every row's source hash of a table a plan may skip rows of (table/unchanged-rows.ts). */
export const sourceHashesName = ({ target }: Target) => `source_hashes_${target.table}`;

/** The Coda row ids a plan skips as unchanged. */
export const unchangedRowsName = ({ target }: Target) => `unchanged_${target.table}`;

/** The target as it was before a reconcile's pass loaded it again. */
export const RECONCILE_BEFORE = 'reconcile_before';

/** One line per row the undone cutover changed (undo/). */
export const UNDO_ROWS = 'undo_rows';

/** The keys agent rows may name an erp row by, for the rows the undone cutover inserted. */
export const UNDO_ENTITY_KEYS = 'undo_entity_keys';

/** Cursors, read a batch at a time (cursor-batches.ts). */
export const cursorNames = {
  inserted: ({ target }: Target) => `inserted_${target.table}`,
  updated: (load: Target) => `list_${changedRowsName(load)}`,
  gone: ({ target }: Target) => `gone_${target.table}`,
  unchangedPositions: (load: Target) => `${unchangedRowsName(load)}_positions`,
};
