/**
 * The lineage's runs (first_run_id, last_run_id) are checked once per statement (migration 013)
 * instead of by two row-by-row foreign keys: the same guarantee, and an error that names the
 * column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { errorOf, newRun } from '../support/runs.ts';

let db: TestDatabase;
let run: string;

const insertLineage = (rowId: string, firstRun: string, lastRun: string) =>
  db.query(
    `INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, content_hash, first_run_id, last_run_id)
     VALUES ('doc', 'grid-1', $1, 'erp.tasks', $2, 'hash', $3, $4)`,
    [rowId, Math.floor(Math.random() * 1e9), firstRun, lastRun],
  );
beforeAll(async () => {
  db = await createTestDatabase();
  run = await newRun(db);
});
afterAll(() => db.drop());

describe('the lineage names runs that exist', () => {
  it('accepts rows naming existing runs, many in one statement', async () => {
    const later = await newRun(db);
    await insertLineage('i-ok', run, later);
    await db.query(
      `INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, content_hash, first_run_id, last_run_id)
       SELECT 'doc', 'grid-2', 'i-' || n, 'erp.projects', n, 'hash', $1, $1 FROM generate_series(1, 1000) n`,
      [run],
    );
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM pipeline.coda_lineage`);
    expect(Number(rows[0]!.n)).toBe(1001);
  });

  it('refuses a row naming a run that does not exist, by column, as a foreign key would', async () => {
    const error = await errorOf(insertLineage('i-bad', run, '987654321'));
    expect(error).toMatchObject({ code: '23503', column: 'first_run_id' });
    expect(error!.message).toMatch(
      /first_run_id or last_run_id is 987654321, which is not a run in pipeline.runs/,
    );
  });

  it('refuses an update that points a row at a missing run', async () => {
    const error = await errorOf(
      db.query(`UPDATE pipeline.coda_lineage SET last_run_id = 987654321 WHERE coda_row_id = 'i-ok'`),
    );
    expect(error).toMatchObject({ code: '23503' });
  });

  it('keeps a run the lineage names: neither deleted nor renumbered; a run that loaded nothing can go', async () => {
    const deleted = await errorOf(db.query(`DELETE FROM pipeline.runs WHERE id = $1`, [run]));
    expect(deleted).toMatchObject({ code: '23503' });
    expect(deleted!.message).toMatch(/neither deleted nor renumbered/);
    const renumbered = await errorOf(db.query(`UPDATE pipeline.runs SET id = DEFAULT WHERE id = $1`, [run]));
    expect(renumbered).toMatchObject({ code: '23503' });
    await db.query(`UPDATE pipeline.runs SET outcome_note = 'still here' WHERE id = $1`, [run]);
    const unused = await newRun(db);
    await db.query(`DELETE FROM pipeline.runs WHERE id = $1`, [unused]);
  });
});
