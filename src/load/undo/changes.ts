/**
 * What undoing a cutover would change, gathered in one temporary table (UNDO_ROWS): each row the
 * cutover changed, as it was before and after it and as it is now, and what stops its undo (an
 * edit since, rows that point at it).
 */
import pg from 'pg';
import { quoteQualified } from '../../db/identifiers.ts';
import { rowNameSql } from '../core/row-names.ts';
import { UNDO_ENTITY_KEYS, UNDO_ROWS } from '../core/temp-tables.ts';

const { escapeIdentifier: q } = pg;

/**
 * One line per row the cutover changed, in UNDO_ROWS: its first image before the run and its last
 * image after, what it is now, whether it was edited since, and its name and Coda link.
 */
export async function collectChanges(client: pg.ClientBase, cutoverId: string): Promise<string[]> {
  await client.query(
    `CREATE TEMP TABLE ${UNDO_ROWS} ON COMMIT DROP AS
     SELECT f.target_table, f.target_id, f.row_key, f.operation = 'insert' AS inserted, f.id AS first_change,
            f.before, l.after, NULL::jsonb AS current, false AS edited, false AS kept,
            '{}'::text[] AS dependants
       FROM (SELECT DISTINCT ON (target_table, row_key) * FROM pipeline.row_changes WHERE run_id = $1 ORDER BY target_table, row_key, id) f
       JOIN (SELECT DISTINCT ON (target_table, row_key) * FROM pipeline.row_changes WHERE run_id = $1 ORDER BY target_table, row_key, id DESC) l
      USING (target_table, row_key)
      WHERE NOT (f.operation = 'insert' AND l.after IS NULL)`,
    [cutoverId],
  );
  // The lineage rows the cutover inserted are not in the row history (migration 026): their
  // first_run_id names it, and the row itself is its image after the run. An update the cutover
  // made to one of them later in the run is part of inserting it.
  const lineageKey = `u.row_key = jsonb_build_object('coda_doc_id', l.coda_doc_id, 'coda_table_id', l.coda_table_id, 'coda_row_id', l.coda_row_id)`;
  await client.query(
    `UPDATE ${UNDO_ROWS} u SET inserted = true, before = NULL
       FROM pipeline.coda_lineage l
      WHERE u.target_table = 'pipeline.coda_lineage' AND l.first_run_id = $1 AND ${lineageKey}`,
    [cutoverId],
  );
  await client.query(
    `INSERT INTO ${UNDO_ROWS} (target_table, target_id, row_key, inserted, before, after, current, edited, kept, dependants)
     SELECT 'pipeline.coda_lineage', NULL, jsonb_build_object('coda_doc_id', l.coda_doc_id, 'coda_table_id', l.coda_table_id, 'coda_row_id', l.coda_row_id),
            true, NULL, to_jsonb(l), NULL, false, false, '{}'
       FROM pipeline.coda_lineage l
      WHERE l.first_run_id = $1
        AND NOT EXISTS (SELECT FROM ${UNDO_ROWS} u WHERE u.target_table = 'pipeline.coda_lineage' AND ${lineageKey})`,
    [cutoverId],
  );
  await client.query(`CREATE INDEX ON ${UNDO_ROWS} (target_table, target_id)`);
  await client.query(`ANALYZE ${UNDO_ROWS}`);
  const { rows } = await client.query<{ target_table: string }>(
    `SELECT DISTINCT target_table FROM ${UNDO_ROWS} WHERE target_table LIKE 'erp.%' ORDER BY 1`,
  );
  const tables = rows.map((row) => row.target_table);
  for (const table of tables) {
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET current = to_jsonb(t) FROM ${quoteQualified(table)} t WHERE u.target_table = $1 AND t.id = u.target_id`,
      [table],
    );
  }
  // Deleted since, or changed since: either way not as the cutover left it.
  await client.query(
    `UPDATE ${UNDO_ROWS} SET edited = true WHERE target_table LIKE 'erp.%' AND current IS DISTINCT FROM after`,
  );
  return tables;
}

/** Every single-column foreign key in the database that points at one of `tables`. */
async function foreignKeysInto(client: pg.ClientBase, tables: string[]) {
  const { rows } = await client.query<{ referencing: string; column: string; referenced: string }>(
    `SELECT n.nspname || '.' || c.relname AS referencing, a.attname AS column, rn.nspname || '.' || rc.relname AS referenced
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 AND rn.nspname || '.' || rc.relname = ANY ($1)
      ORDER BY 1, 2`,
    [tables],
  );
  return rows;
}

/** Rows the cutover inserted that rows it did not write now point at (agent data, rows added by hand). */
export async function markDependedOn(client: pg.ClientBase, tables: string[]): Promise<void> {
  for (const key of await foreignKeysInto(client, tables)) {
    const referencingId = key.referencing.startsWith('erp.') ? 'r.id' : 'NULL::bigint';
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET dependants = u.dependants || d.line
         FROM (SELECT r.${q(key.column)} AS target_id, count(*) || ' row(s) of ' || $2 AS line
                 FROM ${quoteQualified(key.referencing)} r
                WHERE r.${q(key.column)} IN (SELECT target_id FROM ${UNDO_ROWS} WHERE inserted AND target_table = $1)
                  AND NOT EXISTS (SELECT FROM ${UNDO_ROWS} w WHERE w.target_table = $2 AND w.target_id = ${referencingId})
                GROUP BY 1) d
        WHERE u.inserted AND u.target_table = $1 AND u.target_id = d.target_id`,
      [key.referenced, key.referencing],
    );
  }
}

/**
 * Agent rows name erp rows without a foreign key too: a kind (subject_type 'project', node_type,
 * focal_entity_type ...) and, in the matching *_id text column, the row's id, its global_id or
 * 'erp.projects:42'. Every such pair in the agent schema counts as pointing at the row.
 */
export async function markNamedByAgents(client: pg.ClientBase): Promise<void> {
  const { rows: pairs } = await client.query<{ table: string; kind: string; key: string }>(
    `SELECT k.table_schema || '.' || k.table_name AS table, k.column_name AS kind, i.column_name AS key
       FROM information_schema.columns k
       JOIN information_schema.columns i ON i.table_schema = k.table_schema AND i.table_name = k.table_name
        AND i.column_name = left(k.column_name, -length('_type')) || '_id' AND i.data_type = 'text'
      WHERE k.table_schema = 'agent' AND right(k.column_name, length('_type')) = '_type' AND k.data_type = 'text'
      ORDER BY 1, 2`,
  );
  if (!pairs.length) return;
  await client.query(
    `CREATE TEMP TABLE ${UNDO_ENTITY_KEYS} ON COMMIT DROP AS
     SELECT CASE u.target_table WHEN 'erp.people' THEN 'person' ELSE left(substr(u.target_table, length('erp.') + 1), -1) END AS kind,
            k.key, u.target_table, u.target_id
       FROM ${UNDO_ROWS} u,
            unnest(ARRAY[u.target_id::text, u.after ->> 'global_id', u.target_table || ':' || u.target_id]) AS k(key)
      WHERE u.inserted AND u.target_table LIKE 'erp.%' AND k.key IS NOT NULL`,
  );
  for (const pair of pairs) {
    await client.query(
      `UPDATE ${UNDO_ROWS} u SET dependants = u.dependants || d.line
         FROM (SELECT e.target_table, e.target_id, count(*) || ' row(s) of ' || $1 AS line
                 FROM ${quoteQualified(pair.table)} r JOIN ${UNDO_ENTITY_KEYS} e ON e.kind = r.${q(pair.kind)} AND e.key = r.${q(pair.key)}
                GROUP BY 1, 2) d
        WHERE u.target_table = d.target_table AND u.target_id = d.target_id`,
      [pair.table],
    );
  }
}

/**
 * The rows kept as they are: the edited and depended-on ones, and every row the cutover inserted
 * that a kept row points at (else deleting it would break or empty the kept row's link).
 */
export async function markKept(client: pg.ClientBase, tables: string[]): Promise<void> {
  await client.query(`UPDATE ${UNDO_ROWS} SET kept = true WHERE edited OR cardinality(dependants) > 0`);
  const keys = (await foreignKeysInto(client, tables)).filter((key) => tables.includes(key.referencing));
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of keys) {
      const marked = await client.query(
        `UPDATE ${UNDO_ROWS} u SET kept = true
          WHERE u.inserted AND NOT u.kept AND u.target_table = $1
            AND u.target_id IN (SELECT (k.current ->> $3)::bigint FROM ${UNDO_ROWS} k WHERE k.kept AND k.target_table = $2)`,
        [key.referenced, key.referencing, key.column],
      );
      if (marked.rowCount) changed = true;
    }
  }
  // A kept row keeps its lineage too, so the next cutover updates it instead of adding a copy.
  await client.query(
    `UPDATE ${UNDO_ROWS} l SET kept = true FROM ${UNDO_ROWS} k
      WHERE l.target_table = 'pipeline.coda_lineage' AND k.kept
        AND k.target_table = coalesce(l.after, l.before) ->> 'target_table' AND k.target_id = (coalesce(l.after, l.before) ->> 'target_id')::bigint`,
  );
}

export interface DescribedRow {
  target_table: string;
  name: string | null;
  browser_link: string | null;
  inserted: boolean;
  edited: boolean;
  kept: boolean;
  dependants: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  current: Record<string, unknown> | null;
}

export async function describeRows(client: pg.ClientBase): Promise<DescribedRow[]> {
  const { rows } = await client.query<DescribedRow>(
    `SELECT u.target_table, u.inserted, u.edited, u.kept, u.dependants, u.before, u.after, u.current,
            (SELECT ${rowNameSql('i')} FROM (SELECT coalesce(u.current, u.after) AS i) image) AS name,
            (SELECT coalesce(l.after, l.before) ->> 'browser_link' FROM ${UNDO_ROWS} l
              WHERE l.target_table = 'pipeline.coda_lineage'
                AND coalesce(l.after, l.before) ->> 'target_table' = u.target_table
                AND (coalesce(l.after, l.before) ->> 'target_id')::bigint = u.target_id LIMIT 1) AS browser_link
       FROM ${UNDO_ROWS} u WHERE u.target_table LIKE 'erp.%'
      ORDER BY u.target_table, u.first_change`,
  );
  return rows;
}
