/**
 * Once a table is loaded: what it inserted and changed, in row-id order, and the rows gone from
 * Coda. Lists as long as the table are read through a cursor and spooled.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import { quoteQualified } from '../../db/identifiers.ts';
import { SpooledList } from '../../shared/spooled-list.ts';
import type { LoadContext } from '../core/context.ts';
import { forEachBatch } from '../core/cursor-batches.ts';
import { lineageWithRows } from '../core/lineage-sql.ts';
import { rowNameSql } from '../core/row-names.ts';
import type { TableLoad } from '../core/load-plan.ts';
import type { FieldChange, GoneRow, RowSummary, UpdatedRow } from '../core/reports.ts';
import { changedRowsName, cursorNames, stageName } from '../core/temp-tables.ts';
import { targetSql } from './shape.ts';
import type { UnchangedRows } from './unchanged-rows.ts';

const { escapeIdentifier: q } = pg;

/** The rows the table's chunks inserted, in row-id order. */
export async function listInserted(context: LoadContext, load: TableLoad): Promise<SpooledList<RowSummary>> {
  const inserted = new SpooledList<RowSummary>();
  await forEachBatch<Summary>(
    context.client,
    cursorNames.inserted(load),
    {
      text: `SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link
               FROM ${q(stageName(load))} WHERE _target_id IS NULL ORDER BY _coda_row_id COLLATE "C"`,
    },
    (rows) => {
      for (const row of rows) inserted.push(toSummary(row));
    },
  );
  return inserted;
}

/** The rows the table's chunks changed, in row-id order, their links named as this load leaves them. */
export async function listUpdated(context: LoadContext, load: TableLoad): Promise<SpooledList<UpdatedRow>> {
  const updated = new SpooledList<UpdatedRow>();
  await forEachBatch<
    Summary & { changed: string[]; before: Record<string, unknown>; after: Record<string, unknown> }
  >(
    context.client,
    cursorNames.updated(load),
    {
      text: `SELECT row_id, row_name, browser_link, changed, before, after
               FROM ${q(changedRowsName(load))} ORDER BY row_id COLLATE "C"`,
    },
    async (rows) => {
      const batch = rows.map((row) => ({
        ...toSummary(row),
        changes: row.changed.map((column) => ({
          column,
          before: row.before[column] ?? null,
          after: row.after[column] ?? null,
        })),
      }));
      await nameLinkedRows(context, load, batch);
      for (const row of batch) updated.push(row);
    },
  );
  await context.client.query(`DROP TABLE ${q(changedRowsName(load))}`);
  return updated;
}

type Summary = { row_id: string; row_name: string; browser_link: string };

const toSummary = (row: Summary): RowSummary => ({
  rowId: row.row_id,
  rowName: row.row_name,
  browserLink: row.browser_link,
});

/**
 * Link changes by the linked rows' names (core/row-names.ts).
 */
async function nameLinkedRows(
  context: LoadContext,
  load: TableLoad,
  updated: { changes: FieldChange[] }[],
): Promise<void> {
  for (const reference of load.references) {
    const changes = updated.flatMap((row) =>
      row.changes.filter((change) => change.column === reference.column),
    );
    const ids = [
      ...new Set(changes.flatMap((change) => [change.before, change.after]).filter((id) => id !== null)),
    ];
    if (!ids.length) continue;
    const { rows } = await context.client.query<{ id: string; name: string }>(
      `SELECT t.id::text AS id, coalesce(${rowNameSql('to_jsonb(t)')}, '') AS name
         FROM ${quoteQualified(reference.referencedTable)} t WHERE t.id = ANY ($1::bigint[])`,
      [ids.map(String)],
    );
    const names = new Map(rows.map((row) => [row.id, row.name]));
    const nameOf = (id: unknown) => (id === null ? null : (names.get(String(id)) ?? null));
    for (const change of changes)
      change.linked = { before: nameOf(change.before), after: nameOf(change.after) };
  }
}

/** Rows a Coda row of this table produced in an earlier run, and that this run did not read: neither staged nor rejected. */
export async function findGoneFromCoda(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  rejectedIds: string[],
  unchanged: UnchangedRows | null,
): Promise<SpooledList<GoneRow>> {
  const gone = new SpooledList<GoneRow>();
  await forEachBatch<{
    row_id: string;
    row_name: string | null;
    browser_link: string | null;
    target_id: string;
  }>(
    context.client,
    cursorNames.gone(load),
    {
      // The first mapped column is the one that names the row in its mapping.
      text: `SELECT l.coda_row_id AS row_id, l.browser_link, l.target_id, ${rowNameSql('to_jsonb(t)', '$5')} AS row_name
               FROM ${lineageWithRows(targetSql(load))}
              WHERE NOT EXISTS (SELECT FROM ${q(stageName(load))} s WHERE s._coda_row_id = l.coda_row_id)
                ${unchanged ? `AND NOT EXISTS (SELECT FROM ${q(unchanged.table)} u WHERE u.row_id = l.coda_row_id)` : ''}
                AND NOT (l.coda_row_id = ANY ($4::text[]))
              ORDER BY l.coda_row_id COLLATE "C"`,
      values: [context.docId, table.id, load.target.name, rejectedIds, load.columns[0]],
    },
    (rows) => {
      for (const row of rows)
        gone.push({
          rowId: row.row_id,
          rowName: row.row_name ?? '',
          browserLink: row.browser_link ?? '',
          targetId: row.target_id,
        });
    },
  );
  return gone;
}
