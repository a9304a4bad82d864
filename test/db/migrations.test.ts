import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import {
  migrate,
  migrationStatus,
  NO_TRANSACTION_MARKER,
  readMigrationFiles,
} from '../../src/db/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const databases: TestDatabase[] = [];
async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  databases.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

describe('the real migrations', () => {
  it('apply on an empty database, and a second run applies nothing', async () => {
    const db = await emptyDatabase();
    const files = await readMigrationFiles();
    expect(files.map((file) => file.name)).toEqual(
      expect.arrayContaining(['001_erp_schema', '002_agent_schema']),
    );

    const first = await migrate(db.url);
    expect(first.applied).toEqual(files.map((file) => file.name));
    const second = await migrate(db.url);
    expect(second.applied).toEqual([]);

    const status = await migrationStatus(db.url);
    expect(status.pending).toEqual([]);
    expect(status.applied.every((migration) => migration.state === 'ok')).toBe(true);
    const { rows } = await db.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname IN ('erp', 'agent') ORDER BY 1`,
    );
    expect(rows.map((row) => row.nspname)).toEqual(['agent', 'erp']);
  });

  it('create nothing in public', async () => {
    const db = await emptyDatabase();
    await migrate(db.url);
    const { rows } = await db.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
       UNION ALL
       SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`,
    );
    expect(rows).toEqual([]);
  });
});

describe('the migration runner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erp-migrations-'));
    await writeFile(
      path.join(dir, '001_first.sql'),
      'CREATE SCHEMA demo;\nCREATE TABLE demo.things (id int PRIMARY KEY);\n',
    );
    await writeFile(
      path.join(dir, '002_second.sql'),
      "INSERT INTO demo.things VALUES (1);\nCOMMENT ON TABLE demo.things IS 'x';\n",
    );
    await writeFile(path.join(dir, 'validate_schema.sql'), 'SELECT this_is_not_a_migration;');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies numbered files in order and ignores other files', async () => {
    const db = await emptyDatabase();
    expect((await migrate(db.url, { dir })).applied).toEqual(['001_first', '002_second']);
    expect((await migrate(db.url, { dir })).applied).toEqual([]);
    const status = await migrationStatus(db.url, dir);
    expect(status.applied.map((migration) => [migration.name, migration.state])).toEqual([
      ['001_first', 'ok'],
      ['002_second', 'ok'],
    ]);
  });

  it('applies each file all or nothing: a failing file leaves no trace and earlier files stay', async () => {
    const db = await emptyDatabase();
    await writeFile(path.join(dir, '003_broken.sql'), 'CREATE TABLE demo.half (id int);\nSELECT 1/0;\n');
    await expect(migrate(db.url, { dir })).rejects.toThrow(/division by zero/);
    const { rows } = await db.query(
      `SELECT to_regclass('demo.half') AS half, to_regclass('demo.things') AS things`,
    );
    expect(rows[0]).toEqual({ half: null, things: 'demo.things' });
    const status = await migrationStatus(db.url, dir);
    expect(status.pending.map((migration) => migration.name)).toEqual(['003_broken']);
  });

  it('refuses to run when an applied file was edited, naming the file', async () => {
    const db = await emptyDatabase();
    await migrate(db.url, { dir });
    const file = path.join(dir, '001_first.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}-- an innocent-looking edit\n`);
    await writeFile(path.join(dir, '003_third.sql'), 'CREATE TABLE demo.more (id int);\n');

    await expect(migrate(db.url, { dir })).rejects.toThrow(/001_first\.sql was changed after it was applied/);
    expect((await db.query(`SELECT to_regclass('demo.more') AS more`)).rows[0]?.more).toBeNull();
    const status = await migrationStatus(db.url, dir);
    expect(status.applied.find((migration) => migration.name === '001_first')?.state).toBe('edited');
  });

  describe('against a database ahead of the code (an application rollback)', () => {
    async function aheadByOne(): Promise<TestDatabase> {
      const db = await emptyDatabase();
      await writeFile(path.join(dir, '003_third.sql'), 'CREATE TABLE demo.more (id int);\n');
      await migrate(db.url, { dir });
      await rm(path.join(dir, '003_third.sql'));
      return db;
    }

    it('says so, changes nothing and succeeds', async () => {
      const db = await aheadByOne();
      expect(await migrate(db.url, { dir })).toEqual({ applied: [], newerThanCode: ['003_third'] });
      expect((await db.query(`SELECT to_regclass('demo.more') AS more`)).rows[0]?.more).toBe('demo.more');
      const status = await migrationStatus(db.url, dir);
      expect(status.applied.map((migration) => [migration.name, migration.state])).toEqual([
        ['001_first', 'ok'],
        ['002_second', 'ok'],
        ['003_third', 'newer-than-code'],
      ]);
    });

    it('still refuses an edited applied file', async () => {
      const db = await aheadByOne();
      const file = path.join(dir, '001_first.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}-- edited\n`);
      await expect(migrate(db.url, { dir })).rejects.toThrow(
        /001_first\.sql was changed after it was applied/,
      );
    });

    it('refuses when the code has a migration the database lacks: they went different ways', async () => {
      const db = await aheadByOne();
      await writeFile(path.join(dir, '003_other.sql'), 'CREATE TABLE demo.other (id int);\n');
      await expect(migrate(db.url, { dir })).rejects.toThrow(
        /the database has 003_third, which this code does not know, and this code has 003_other/,
      );
      expect((await db.query(`SELECT to_regclass('demo.other') AS other`)).rows[0]?.other).toBeNull();
    });
  });

  it('refuses when an applied file older than others was deleted', async () => {
    const db = await emptyDatabase();
    await migrate(db.url, { dir });
    await rm(path.join(dir, '001_first.sql'));
    await expect(migrate(db.url, { dir })).rejects.toThrow(
      /001_first is applied in the database but \S+ is missing/,
    );
    const status = await migrationStatus(db.url, dir);
    expect(status.applied[0]?.state).toBe('missing-file');
  });

  it('does not count a change of line endings as an edit', async () => {
    const db = await emptyDatabase();
    await migrate(db.url, { dir });
    const file = path.join(dir, '002_second.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    expect((await migrate(db.url, { dir })).applied).toEqual([]);
  });

  it('runs a file marked erp:no-transaction statement by statement, so CREATE INDEX CONCURRENTLY works', async () => {
    const db = await emptyDatabase();
    const index = [
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS things_id_desc ON demo.things (id DESC);',
      "COMMENT ON INDEX demo.things_id_desc IS 'newest first; a semicolon; in a string';",
    ].join('\n');
    await writeFile(path.join(dir, '003_index.sql'), `SET lock_timeout = '5s';\n${index}\n`);
    await expect(migrate(db.url, { dir })).rejects.toThrow(/cannot run inside a transaction block/);

    await writeFile(
      path.join(dir, '003_index.sql'),
      `${NO_TRANSACTION_MARKER}\nSET lock_timeout = '5s';\n${index}\n`,
    );
    expect((await migrate(db.url, { dir })).applied).toEqual(['003_index']);
    const { rows } = await db.query(
      `SELECT i.indisvalid AS valid, obj_description(i.indexrelid, 'pg_class') AS comment
         FROM pg_index i WHERE i.indexrelid = 'demo.things_id_desc'::regclass`,
    );
    expect(rows).toEqual([{ valid: true, comment: 'newest first; a semicolon; in a string' }]);
    expect((await migrate(db.url, { dir })).applied).toEqual([]);
    const status = await migrationStatus(db.url, dir);
    expect(status.applied.map((migration) => [migration.name, migration.state])).toContainEqual([
      '003_index',
      'ok',
    ]);
  });

  it('gives up on a lock held elsewhere after lock_timeout, even when the file does not set it', async () => {
    const db = await emptyDatabase();
    await migrate(db.url, { dir });
    await writeFile(path.join(dir, '003_column.sql'), 'ALTER TABLE demo.things ADD COLUMN label text;\n');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE demo.things IN ACCESS SHARE MODE');
      const started = Date.now();
      await expect(migrate(db.url, { dir })).rejects.toThrow(/lock timeout/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await migrate(db.url, { dir })).applied).toEqual(['003_column']);
  });

  it('lets only one of two concurrent runners apply', async () => {
    const db = await emptyDatabase();
    // Hold the runners' lock so both are provably waiting before either can start.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    const runs = [migrate(db.url, { dir }), migrate(db.url, { dir })];
    await expect
      .poll(
        async () => {
          const { rows } = await holder.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          );
          return rows[0]?.waiting;
        },
        { timeout: 20_000 },
      )
      .toBe(2);
    await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
    await holder.end();

    const results = await Promise.all(runs);
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, 2]);
    const { rows } = await db.query(
      `SELECT name, count(*)::int AS times FROM pipeline.schema_migrations GROUP BY name ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: '001_first', times: 1 },
      { name: '002_second', times: 1 },
    ]);
    expect((await db.query('SELECT count(*)::int AS n FROM demo.things')).rows[0]?.n).toBe(1);
  });
});
