/**
 * Person cells, resolved once per distinct person of a chunk, and people found nowhere created
 * when the mapping says so.
 */
import pg from 'pg';
import type { LoadContext } from '../core/context.ts';
import { PEOPLE_TABLE, type ReferenceColumn } from '../core/load-plan.ts';
import { personRefsName } from '../core/temp-tables.ts';

const { escapeIdentifier: q } = pg;

/**
 * Person cells, resolved once per distinct person rather than once per row: a table of 100k tasks
 * names a few dozen people. The distinct values go into their own table, are matched there (by
 * email, then by exact name when exactly one person has it and no email says otherwise), and
 * unknown ones are created when the mapping says so; resolveIntoStage joins them to the rows.
 */
export async function resolvePeople(
  context: LoadContext,
  reference: ReferenceColumn,
  people: Set<string>,
  createUnknown: boolean,
): Promise<number> {
  const refs = q(personRefsName(reference));
  // The chunk's distinct people come from Node, which wrote them, as the very text the arrival
  // holds (the stage joins on it): no pass over the arrival to find them.
  await context.client.query(
    `CREATE TEMP TABLE ${refs} ON COMMIT DROP AS
     SELECT ref_text, ref_text::jsonb AS ref, NULL::bigint AS person_id FROM unnest($1::text[]) AS ref_text`,
    [[...people]],
  );
  const match = async () => {
    await context.client.query(
      `UPDATE ${refs} r SET person_id = p.id FROM erp.people p
        WHERE r.person_id IS NULL AND r.ref ->> 'email' IS NOT NULL AND lower(p.email) = lower(r.ref ->> 'email')`,
    );
    await context.client.query(
      `UPDATE ${refs} r SET person_id = m.id
         FROM (SELECT full_name, min(id) AS id, min(email) AS email FROM erp.people GROUP BY full_name HAVING count(*) = 1) m
        WHERE r.person_id IS NULL AND m.full_name = r.ref ->> 'name' AND (r.ref ->> 'email' IS NULL OR m.email IS NULL)`,
    );
  };
  await match();
  const created = createUnknown ? await createPeople(context, refs) : 0;
  // Only people just created can match now.
  if (created) await match();
  return created;
}

/** People named in Person cells and found nowhere, added to erp.people with their lineage. */
async function createPeople(context: LoadContext, refs: string): Promise<number> {
  const created = await context.client.query<{ id: string }>(
    `INSERT INTO erp.people (full_name, email)
     SELECT DISTINCT ON (coalesce(lower(ref ->> 'email'), ref ->> 'name')) ref ->> 'name', ref ->> 'email'
       FROM ${refs}
      WHERE person_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM erp.people p WHERE p.full_name = ref ->> 'name' AND (ref ->> 'email' IS NULL OR p.email IS NULL))
     RETURNING id`,
  );
  if (!created.rowCount) return 0;
  await context.client.query(
    `INSERT INTO pipeline.coda_lineage (coda_doc_id, coda_table_id, coda_row_id, target_table, target_id, content_hash, first_run_id, last_run_id)
     SELECT $1, 'person-values', coalesce(lower(p.email), 'name:' || p.full_name), $2, p.id, md5(p.full_name || coalesce(p.email, '')), $3, $3
       FROM unnest($4::bigint[]) AS created(id) JOIN erp.people p USING (id)
     ON CONFLICT (coda_doc_id, coda_table_id, coda_row_id) DO UPDATE SET target_id = EXCLUDED.target_id, last_run_id = EXCLUDED.last_run_id`,
    [context.docId, PEOPLE_TABLE, context.runId, created.rows.map((row) => row.id)],
  );
  return created.rowCount;
}
