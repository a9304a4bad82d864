/**
 * pgloader's "same tables" baseline loads into copies with the erp tables' whole definition:
 * the same indexes, CHECKs and foreign keys, the keys pointing at the erp tables themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSameDefinitionCopies } from '../../bench/load-baselines.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** Constraints and indexes of a table, without the names LIKE makes up for the copy's. */
async function definition(table: string) {
  const constraints = await db.query<{ kind: string; definition: string }>(
    `SELECT contype AS kind, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY 1, 2`,
    [table],
  );
  const indexes = await db.query<{ definition: string }>(
    `SELECT indisunique::text || ' ' || regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') AS definition
       FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`,
    [table],
  );
  return { constraints: constraints.rows, indexes: indexes.rows.map((row) => row.definition) };
}

describe('the copies pgloader loads into for the same-tables baseline', () => {
  it('have the indexes, CHECKs and foreign keys of the erp tables, the keys pointing at erp', async () => {
    const client = await db.pool.connect();
    try {
      await createSameDefinitionCopies(client, 'bench_same', [
        { schema: 'erp', table: 'projects' },
        { schema: 'erp', table: 'tasks' },
      ]);
    } finally {
      client.release();
    }
    for (const table of ['projects', 'tasks']) {
      const original = await definition(`erp.${table}`);
      expect(await definition(`bench_same.${table}`), table).toEqual(original);
      expect(original.constraints.map((constraint) => constraint.kind)).toContain('f');
      expect(original.indexes.length).toBeGreaterThan(1);
    }
    expect(JSON.stringify(await definition('bench_same.tasks'))).toContain('REFERENCES erp.projects(id)');
  });
});
