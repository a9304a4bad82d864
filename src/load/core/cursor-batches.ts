/**
 * A query's rows read a batch at a time through a cursor, inside the caller's transaction: a
 * result as long as a table (every row a cutover inserts) never sits in memory whole, neither in
 * pg's result nor in ours.
 */
import pg from 'pg';

const { escapeIdentifier: q } = pg;
const BATCH_ROWS = 5_000;

/** Reads a declared cursor to its end, then closes it. */
async function fetchBatches<Row extends pg.QueryResultRow>(
  client: pg.ClientBase,
  cursor: string,
  onBatch: (rows: Row[]) => void | Promise<void>,
): Promise<void> {
  for (;;) {
    const { rows } = await client.query<Row>(`FETCH ${BATCH_ROWS} FROM ${q(cursor)}`);
    if (rows.length) await onBatch(rows);
    if (rows.length < BATCH_ROWS) break;
  }
  await client.query(`CLOSE ${q(cursor)}`);
}

export async function forEachBatch<Row extends pg.QueryResultRow>(
  client: pg.ClientBase,
  cursor: string,
  query: { text: string; values?: unknown[] },
  onBatch: (rows: Row[]) => void | Promise<void>,
): Promise<void> {
  await client.query(`DECLARE ${q(cursor)} NO SCROLL CURSOR FOR ${query.text}`, query.values);
  await fetchBatches(client, cursor, onBatch);
}
