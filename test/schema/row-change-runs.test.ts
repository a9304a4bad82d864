/**
 * The row history's run (pipeline.row_changes.run_id) is checked once per statement (migration
 * 026) instead of by a row-by-row foreign key: the same guarantee, and an error that names the
 * column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { errorOf, newRun } from '../support/runs.ts';

let db: TestDatabase;
let run: string;

const recordChange = (runId: string, targetId: number) =>
  db.query(
    `INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, after)
     VALUES ($1, 'erp.tasks', $2, jsonb_build_object('id', $2::bigint), 'insert', jsonb_build_object('id', $2::bigint))`,
    [runId, targetId],
  );
beforeAll(async () => {
  db = await createTestDatabase();
  run = await newRun(db);
});
afterAll(() => db.drop());

describe('the row history names runs that exist', () => {
  it('accepts changes of existing runs, many in one statement', async () => {
    const later = await newRun(db);
    await recordChange(run, 1);
    await db.query(
      `INSERT INTO pipeline.row_changes (run_id, target_table, target_id, row_key, operation, after)
       SELECT $1, 'erp.projects', n, jsonb_build_object('id', n), 'insert', jsonb_build_object('id', n) FROM generate_series(1, 1000) n`,
      [later],
    );
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM pipeline.row_changes`);
    expect(Number(rows[0]!.n)).toBe(1001);
  });

  it('refuses a change naming a run that does not exist, by column, as a foreign key would', async () => {
    const error = await errorOf(recordChange('987654321', 2));
    expect(error).toMatchObject({ code: '23503', column: 'run_id' });
    expect(error!.message).toMatch(/run_id is 987654321, which is not a run in pipeline.runs/);
  });

  it('refuses an update that points a change at a missing run', async () => {
    const error = await errorOf(
      db.query(`UPDATE pipeline.row_changes SET run_id = 987654321 WHERE target_id = 1`),
    );
    expect(error).toMatchObject({ code: '23503' });
  });

  it('keeps a run with recorded changes: neither deleted nor renumbered; a run that changed nothing can go', async () => {
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
