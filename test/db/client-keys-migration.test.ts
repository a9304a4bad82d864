/**
 * Migrations 020 and 021 on a database that already holds agent rows: rows without a client (016
 * left the older ones so) stop 020 before it changes anything, naming the tables; once an operator
 * has given them their client, both apply (020 also after a run that stopped half-way), the rows
 * and their links stay, and a text key becomes unique per client.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrationFiles } from '../../src/db/migrations.ts';
import { splitStatements } from '../../src/db/sql-statements.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const CLIENT_KEYS_MIGRATION = '020_client_keys';

let db: TestDatabase;
let dir: string;
let files: Awaited<ReturnType<typeof readMigrationFiles>>;
const copy = (names: typeof files) =>
  Promise.all(names.map((file) => copyFile(file.file, path.join(dir, path.basename(file.file)))));

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'erp-020-'));
  files = await readMigrationFiles();
  await copy(files.filter((file) => file.name < CLIENT_KEYS_MIGRATION));
  await migrate(db.url, { dir });
  // Rows from before 016 (no client), and a client's session, event and graph.
  await db.query(`
    INSERT INTO agent.sessions (global_id) VALUES ('session_old');
    INSERT INTO agent.graph_nodes (node_type, node_id) VALUES ('topic', 'topic_old'), ('topic', 'topic_older');
    INSERT INTO agent.sessions (client_id, global_id) VALUES ('acme', 'session_acme');
    INSERT INTO agent.events (client_id, session_id, event_type)
      SELECT 'acme', id, 'message' FROM agent.sessions WHERE global_id = 'session_acme';`);
  await copy(files.filter((file) => file.name >= CLIENT_KEYS_MIGRATION));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const constraints = async () =>
  (
    await db.query<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint WHERE connamespace = 'agent'::regnamespace ORDER BY 1`,
    )
  ).rows.map((row) => row.name);

describe('migrations 020 and 021 on existing agent rows', () => {
  it('refuse while rows have no client, naming the tables, and change nothing', async () => {
    const before = await constraints();
    await expect(migrate(db.url, { dir })).rejects.toThrow(
      'agent rows without a client: graph_nodes (2 rows), sessions (1 rows)',
    );
    expect(await constraints()).toEqual(before);
  });

  it('apply once every row has its client, also after a run of 020 that stopped half-way, keeping the rows and their links', async () => {
    await db.query(`UPDATE agent.sessions SET client_id = 'globex' WHERE client_id IS NULL`);
    await db.query(`UPDATE agent.graph_nodes SET client_id = 'globex' WHERE client_id IS NULL`);
    // A run that stopped right after moving the foreign keys onto the new indexes.
    const statements = splitStatements(files.find((file) => file.name === CLIENT_KEYS_MIGRATION)!.sql);
    const moved = statements.findIndex((statement) => statement.includes('moved jsonb'));
    expect(moved).toBeGreaterThan(0);
    for (const statement of statements.slice(0, moved + 1)) await db.query(statement);
    // 020 again from where it stopped, then 021 (and whatever later files there are).
    expect((await migrate(db.url, { dir })).applied.slice(0, 2)).toEqual([
      CLIENT_KEYS_MIGRATION,
      '021_client_keys_switch',
    ]);
    const { rows } = await db.query(
      `SELECT s.client_id, s.global_id, count(e.id)::int AS events
         FROM agent.sessions s LEFT JOIN agent.events e ON e.client_id = s.client_id AND e.session_id = s.id
        GROUP BY 1, 2 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { client_id: 'acme', global_id: 'session_acme', events: 1 },
      { client_id: 'globex', global_id: 'session_old', events: 0 },
    ]);
  });

  it('leave text keys unique per client, and client_id required', async () => {
    await db.query(`INSERT INTO agent.sessions (client_id, global_id) VALUES ('acme', 'session_old')`);
    await expect(
      db.query(`INSERT INTO agent.sessions (client_id, global_id) VALUES ('acme', 'session_old')`),
    ).rejects.toThrow(/sessions_client_id_global_id_key/);
    await expect(db.query(`INSERT INTO agent.sessions (global_id) VALUES ('nobody')`)).rejects.toThrow(
      /null value in column "client_id"/,
    );
  });
});
