/**
 * Migration 009 on a database that already holds agent memory: duplicate memories written
 * before dedup existed become one memory with their count, and the facts stored so far become
 * their first version, true and known from their last change.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrationFiles } from '../../src/db/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const AGENT_MEMORY_MIGRATION = '009_agent_memory';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'erp-009-'));
  const files = await readMigrationFiles();
  const copy = (names: typeof files) =>
    Promise.all(names.map((file) => copyFile(file.file, path.join(dir, path.basename(file.file)))));
  await copy(files.filter((file) => file.name < AGENT_MEMORY_MIGRATION));
  await migrate(db.url, { dir });

  await db.query(
    `INSERT INTO agent.memory_entries (client_id, content, created_at, ttl_minutes) VALUES
       ('c1', 'Hello  World', '2025-01-01T00:00:00Z', 60),
       ('c1', 'hello world ', '2025-01-03T00:00:00Z', NULL),
       ('c1', 'HELLO WORLD', '2025-01-02T00:00:00Z', NULL),
       ('c1', 'Something else', '2025-01-01T00:00:00Z', NULL),
       ('c1', 'Call back', '2025-01-01T00:00:00Z', 30),
       ('c1', 'call back', '2025-01-01T00:10:00Z', 10),
       ('c2', 'Hello World', '2025-01-01T00:00:00Z', NULL)`,
  );
  await db.query(
    `INSERT INTO agent.memory_facts (client_id, fact_key, fact_value, created_at, updated_at)
     VALUES ('c1', 'language', 'German', '2024-06-01T00:00:00Z', '2025-02-01T00:00:00Z')`,
  );
  await copy(files.filter((file) => file.name === AGENT_MEMORY_MIGRATION));
  expect((await migrate(db.url, { dir })).applied).toEqual([AGENT_MEMORY_MIGRATION]);
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('migration 009 on existing agent memory', () => {
  it("keeps the oldest of each client's duplicate memories, counting the others as repeats", async () => {
    const { rows } = await db.query(
      `SELECT client_id, content, repeat_count, last_seen_at, created_at, expires_at
         FROM agent.memory_entries ORDER BY client_id, content`,
    );
    expect(rows).toEqual([
      {
        client_id: 'c1',
        content: 'Call back',
        repeat_count: 2,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: new Date('2025-01-01T00:10:00Z'),
        // The longer TTL, run from when it was last seen.
        expires_at: new Date('2025-01-01T00:40:00Z'),
      },
      {
        client_id: 'c1',
        content: 'Hello  World',
        repeat_count: 3,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: new Date('2025-01-03T00:00:00Z'),
        // Two of the copies never expired, so the memory no longer does.
        expires_at: null,
      },
      {
        client_id: 'c1',
        content: 'Something else',
        repeat_count: 1,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: null,
        expires_at: null,
      },
      {
        client_id: 'c2',
        content: 'Hello World',
        repeat_count: 1,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: null,
        expires_at: null,
      },
    ]);
  });

  it('makes each stored fact its first version, true and known from its last change', async () => {
    const { rows } = await db.query(
      `SELECT fact_value, valid_from, recorded_at, updated_at, retracted FROM agent.memory_facts`,
    );
    const lastChange = new Date('2025-02-01T00:00:00Z');
    expect(rows).toEqual([
      {
        fact_value: 'German',
        valid_from: lastChange,
        recorded_at: lastChange,
        updated_at: lastChange,
        retracted: false,
      },
    ]);
    const asOf = await db.query(
      `SELECT fact_value FROM agent.memory_facts_as_of('c1', '2025-03-01', '2025-03-01')
       UNION ALL SELECT 'before: ' || fact_value FROM agent.memory_facts_as_of('c1', '2025-01-01', '2025-03-01')`,
    );
    expect(asOf.rows).toEqual([{ fact_value: 'German' }]);
  });
});
