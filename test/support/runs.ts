/** Runs and refusals for the schema tests of what names a run (the lineage, the row history). */
import type { TestDatabase } from './db.ts';

/** A bookkeeping row in pipeline.runs, as a cutover writes it; its id. */
export async function newRun(db: TestDatabase): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO pipeline.runs (mode, coda_doc_id, source, tool_version) VALUES ('cutover', 'doc', 'test', 'test') RETURNING id`,
  );
  return rows[0]!.id;
}

/** The error the statement fails with, or null when it succeeds. */
export const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: { code?: string; column?: string; message: string }) => error,
  );
