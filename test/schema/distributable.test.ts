/**
 * The agent schema is distributable by client_id as written (issue 26 point 5, docs/SCALING.md):
 * with Citus, the client tables would be distributed tables on client_id and the shared ones
 * reference tables, which holds only if every primary key, unique key and unique index of a client
 * table includes client_id, every foreign key between client tables links client_id to
 * client_id, and no foreign key runs into a client table from a table that is not one. The same
 * rules close the existence oracle through keys (issue 23): a key is unique per client, so a
 * client's insert never collides with another client's row.
 *
 * A client table is one with a client_id column (agent and agent_private); which agent tables
 * those are is the table of docs/API.md, "Who owns which agent table", checked here against the
 * catalog.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { dropDatabase, openSession } from './fixtures.ts';

/** The schemas whose tables a distributed setup would place: erp's stay on the coordinator. */
const DISTRIBUTED_SCHEMAS = ['agent', 'agent_private'];

/** Every way the catalog breaks the rules above, one sentence each. */
const PROBLEMS = `
WITH client_table AS (
  SELECT c.oid, a.attnum AS client_attnum, a.attnotnull
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
   WHERE c.relnamespace::regnamespace::text = ANY ($1) AND c.relkind IN ('r', 'p')
)
SELECT format('%s.client_id may be NULL', t.oid::regclass) AS problem
  FROM client_table t WHERE NOT t.attnotnull
UNION ALL
SELECT format('%s %s of %s does not include client_id',
              CASE WHEN k.contype = 'p' THEN 'primary key' WHEN k.contype = 'u' THEN 'unique key' ELSE 'unique index' END,
              i.indexrelid::regclass, t.oid::regclass)
  FROM client_table t
  JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
  LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = t.oid AND k.contype IN ('p', 'u')
 WHERE NOT t.client_attnum = ANY (i.indkey::int2[])
UNION ALL
SELECT format('foreign key %s from %s to %s does not link client_id to client_id', f.conname, f.conrelid::regclass,
              f.confrelid::regclass)
  FROM pg_constraint f
  JOIN client_table child ON child.oid = f.conrelid
  JOIN client_table parent ON parent.oid = f.confrelid
 WHERE f.contype = 'f'
   AND NOT EXISTS (SELECT FROM unnest(f.conkey, f.confkey) AS pair (child_attnum, parent_attnum)
                    WHERE pair.child_attnum = child.client_attnum AND pair.parent_attnum = parent.client_attnum)
UNION ALL
SELECT format('foreign key %s runs from %s, which is not a client table, to the client table %s', f.conname,
              f.conrelid::regclass, f.confrelid::regclass)
  FROM pg_constraint f
 WHERE f.contype = 'f' AND f.confrelid IN (SELECT oid FROM client_table)
   AND f.conrelid NOT IN (SELECT oid FROM client_table)
ORDER BY 1`;

let db: TestDatabase;
let sql: pg.PoolClient;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = await openSession(db);
});

afterAll(async () => {
  await dropDatabase(db, sql);
});

const problems = async () =>
  (await sql.query<{ problem: string }>(PROBLEMS, [DISTRIBUTED_SCHEMAS])).rows.map((row) => row.problem);

/** The agent tables docs/API.md names per kind: client rows, or shared configuration. */
async function documentedSplit(): Promise<{ client: string[]; shared: string[] }> {
  const doc = await readFile(new URL('../../docs/API.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Who owns which agent table'));
  expect(section, 'docs/API.md has a section "Who owns which agent table"').toBeDefined();
  const split = { client: [] as string[], shared: [] as string[] };
  for (const line of section!.split('\n').filter((row) => /^\| (client|shared)/.test(row))) {
    const [, kind = '', tables = ''] = line.split('|').map((cell) => cell.trim());
    const names = [...tables.matchAll(/`(\w+)`/g)].map(([, name]) => `agent.${name}`);
    split[kind.startsWith('client') ? 'client' : 'shared'].push(...names);
  }
  return { client: split.client.sort(), shared: split.shared.sort() };
}

describe('the agent schema is distributable by client_id as written', () => {
  it('its client tables are those docs/API.md names, and every other agent table is shared configuration', async () => {
    const { rows } = await sql.query<{ table: string; client: boolean }>(
      `SELECT c.oid::regclass::text AS table,
              EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped) AS client
         FROM pg_class c WHERE c.relnamespace = 'agent'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`,
    );
    const documented = await documentedSplit();
    expect(documented.client).toHaveLength(19);
    expect({
      client: rows.filter((row) => row.client).map((row) => row.table),
      shared: rows.filter((row) => !row.client).map((row) => row.table),
    }).toEqual(documented);
  });

  it('every key of a client table includes client_id, client links keep to their client, and nothing else points into a client table', async () => {
    expect(await problems()).toEqual([]);
  });

  it('names each way a table breaks the rules', async () => {
    // A table written the old way, in a transaction that is rolled back.
    await sql.query('BEGIN');
    try {
      await sql.query(`
        CREATE TABLE agent.notes (
          id bigint PRIMARY KEY, client_id text, global_id text UNIQUE, session_client_id text, session_id bigint,
          FOREIGN KEY (session_client_id, session_id) REFERENCES agent.sessions (client_id, id));
        CREATE UNIQUE INDEX notes_lower_global_id_key ON agent.notes (lower(global_id));
        CREATE TABLE agent.note_tags (
          tag text PRIMARY KEY, note_client_id text, note_id bigint,
          FOREIGN KEY (note_client_id, note_id) REFERENCES agent.sessions (client_id, id));`);
      expect(await problems()).toEqual([
        'agent.notes.client_id may be NULL',
        'foreign key note_tags_note_client_id_note_id_fkey runs from agent.note_tags, which is not a client table, to the client table agent.sessions',
        'foreign key notes_session_client_id_session_id_fkey from agent.notes to agent.sessions does not link client_id to client_id',
        'primary key agent.notes_pkey of agent.notes does not include client_id',
        'unique index agent.notes_lower_global_id_key of agent.notes does not include client_id',
        'unique key agent.notes_global_id_key of agent.notes does not include client_id',
      ]);
    } finally {
      await sql.query('ROLLBACK');
    }
  });
});
