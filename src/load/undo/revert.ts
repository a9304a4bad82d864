/** Undoing a cutover's rows: earlier values back, inserted rows deleted, its lineage restored. */
import pg from 'pg';
import { readTargetTable } from '../../catalog/target-tables.ts';
import { quoteQualified } from '../../db/identifiers.ts';
import { UNDO_ROWS } from '../core/temp-tables.ts';

const { escapeIdentifier: q } = pg;

/** Triggers that stamp updated_at: off while rows get their earlier values back, updated_at included. */
async function setTimestampTriggers(
  client: pg.ClientBase,
  tables: string[],
  enabled: boolean,
): Promise<void> {
  const { rows } = await client.query<{ table: string; trigger: string }>(
    `SELECT n.nspname || '.' || c.relname AS table, t.tgname AS trigger
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgfoid = 'erp.update_updated_at_column'::regproc AND n.nspname || '.' || c.relname = ANY ($1)`,
    [tables],
  );
  for (const row of rows)
    await client.query(
      `ALTER TABLE ${quoteQualified(row.table)} ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER ${q(row.trigger)}`,
    );
}

export async function revert(client: pg.ClientBase, tables: string[]): Promise<void> {
  await setTimestampTriggers(client, tables, false);
  // Earlier values first: they cannot point at rows the cutover inserted, which go next.
  for (const table of tables) {
    const target = (await readTargetTable(client, table))!;
    const columns = [...target.columns.values()]
      .filter((column) => !column.generated)
      .map((column) => q(column.name));
    await client.query(
      `UPDATE ${quoteQualified(table)} t SET (${columns.join(', ')}) = ROW(${columns.map((column) => `r.${column}`).join(', ')})
         FROM ${UNDO_ROWS} u, jsonb_populate_record(NULL::${quoteQualified(table)}, u.before) r
        WHERE u.target_table = $1 AND NOT u.inserted AND NOT u.kept AND t.id = u.target_id`,
      [table],
    );
  }
  // Children before parents: the reverse of the order the cutover inserted them in.
  const { rows } = await client.query<{ target_table: string }>(
    `SELECT target_table FROM ${UNDO_ROWS} WHERE inserted AND target_table LIKE 'erp.%' GROUP BY 1 ORDER BY max(first_change) DESC`,
  );
  for (const { target_table: table } of rows) {
    await client.query(
      `DELETE FROM ${quoteQualified(table)} t USING ${UNDO_ROWS} u WHERE u.target_table = $1 AND u.inserted AND NOT u.kept AND t.id = u.target_id`,
      [table],
    );
  }
  await setTimestampTriggers(client, tables, true);
  const lineageKey = `l.coda_doc_id = u.row_key ->> 'coda_doc_id' AND l.coda_table_id = u.row_key ->> 'coda_table_id' AND l.coda_row_id = u.row_key ->> 'coda_row_id'`;
  await client.query(
    `DELETE FROM pipeline.coda_lineage l USING ${UNDO_ROWS} u
      WHERE u.target_table = 'pipeline.coda_lineage' AND u.inserted AND NOT u.kept AND ${lineageKey}`,
  );
  const lineage = (await readTargetTable(client, 'pipeline.coda_lineage'))!;
  const lineageColumns = [...lineage.columns.keys()].map(q);
  await client.query(
    `UPDATE pipeline.coda_lineage l SET (${lineageColumns.join(', ')}) = ROW(${lineageColumns.map((column) => `r.${column}`).join(', ')})
       FROM ${UNDO_ROWS} u, jsonb_populate_record(NULL::pipeline.coda_lineage, u.before) r
      WHERE u.target_table = 'pipeline.coda_lineage' AND NOT u.inserted AND NOT u.kept AND ${lineageKey}`,
  );
}
