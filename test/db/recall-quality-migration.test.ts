/**
 * Migration 018 on a database that already holds agent memory: memories that are near-duplicates
 * under the new key become one, keeping the oldest with the counts of all; memories take their
 * client's profile language; the vocabulary is built from what is there.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrationFiles } from '../../src/db/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const RECALL_QUALITY_MIGRATION = '018_recall_quality';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'erp-018-'));
  const files = await readMigrationFiles();
  const copy = (names: typeof files) =>
    Promise.all(names.map((file) => copyFile(file.file, path.join(dir, path.basename(file.file)))));
  await copy(files.filter((file) => file.name < RECALL_QUALITY_MIGRATION));
  await migrate(db.url, { dir });

  await db.query(
    `INSERT INTO agent.client_profiles (client_id, preferences) VALUES ('c1', '{"language": "de"}')`,
  );
  await db.query(
    `INSERT INTO agent.memory_entries (client_id, content, created_at, last_seen_at, repeat_count, ttl_minutes, metadata)
     VALUES ('c1', 'Rechnungen per E-Mail', '2025-01-02T00:00:00Z', '2025-01-05T00:00:00Z', 2, 60, '{"a": 1, "b": 1}'),
            ('c1', 'Rechnungen per EMail.', '2025-01-01T00:00:00Z', NULL, 1, 30, '{"b": 2}'),
            ('c1', 'rechnungen per e mail!', '2025-01-03T00:00:00Z', NULL, 1, 10, '{}'),
            ('c1', 'Rabatt 1.5%', '2025-01-01T00:00:00Z', NULL, 1, NULL, '{}'),
            ('c1', 'Rabatt 15%', '2025-01-01T00:00:00Z', NULL, 1, NULL, '{}'),
            ('c2', 'Rechnungen per E-Mail', '2025-01-01T00:00:00Z', NULL, 1, NULL, '{}')`,
  );
  await copy(files.filter((file) => file.name === RECALL_QUALITY_MIGRATION));
  expect((await migrate(db.url, { dir })).applied).toEqual([RECALL_QUALITY_MIGRATION]);
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('migration 018 on existing agent memory', () => {
  it('merges near-duplicates into the oldest, with the counts, the latest sighting, the longest life and the metadata of all', async () => {
    const { rows } = await db.query(
      `SELECT client_id, content, language, repeat_count, created_at, last_seen_at, expires_at, metadata
         FROM agent.memory_entries ORDER BY client_id, content`,
    );
    expect(rows).toEqual([
      {
        client_id: 'c1',
        content: 'Rabatt 1.5%',
        language: 'de',
        repeat_count: 1,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: null,
        expires_at: null,
        metadata: {},
      },
      {
        client_id: 'c1',
        content: 'Rabatt 15%',
        language: 'de',
        repeat_count: 1,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: null,
        expires_at: null,
        metadata: {},
      },
      {
        client_id: 'c1',
        content: 'Rechnungen per EMail.',
        language: 'de',
        repeat_count: 4,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: new Date('2025-01-05T00:00:00Z'),
        expires_at: new Date('2025-01-05T01:00:00Z'),
        metadata: { a: 1, b: 1 },
      },
      {
        client_id: 'c2',
        content: 'Rechnungen per E-Mail',
        language: null,
        repeat_count: 1,
        created_at: new Date('2025-01-01T00:00:00Z'),
        last_seen_at: null,
        expires_at: null,
        metadata: {},
      },
    ]);
  });

  it("builds each client's vocabulary from the memories there", async () => {
    const { rows } = await db.query(
      `SELECT client_id, word, memories FROM agent_private.memory_words WHERE word LIKE 'rechnung%' ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { client_id: 'c1', word: 'rechnung', memories: 1 },
      { client_id: 'c1', word: 'rechnungen', memories: 1 },
      { client_id: 'c2', word: 'rechnungen', memories: 1 },
    ]);
  });
});
