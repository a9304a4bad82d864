/**
 * The agent memory examples of docs/SERVICE_DATABASE_INTEGRATION.md, run as the memory gateway
 * login against a real database: the TypeScript one always, the Python one where asyncpg is
 * importable (Debian: python3-asyncpg).
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  factsAsOf,
  forget,
  recall,
  remember,
  setFact,
} from '../../docs/examples/typescript/agent-memory.ts';
import { ensureTestLoginPasswords, loginUrl } from '../api/harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const run = promisify(execFile);
const TYPESCRIPT_EXAMPLE = path.resolve('docs/examples/typescript/agent-memory.ts');
const PYTHON_EXAMPLE = path.resolve('docs/examples/python/agent_memory.py');

const python = [process.env.PYTHON, 'python3', '/usr/bin/python3'].find(
  (candidate) => candidate && spawnSync(candidate, ['-c', 'import asyncpg']).status === 0,
);

let db: TestDatabase;
let gatewayUrl: string;
beforeAll(async () => {
  db = await createTestDatabase();
  await ensureTestLoginPasswords(db);
  gatewayUrl = loginUrl('memory_gateway', db.name);
});
afterAll(async () => {
  await db?.drop();
});

/** The database's clock between two calls: later than everything written so far. */
const databaseNow = async () =>
  (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;

describe('the TypeScript example (node-postgres)', () => {
  it('remembers, recalls, forgets, and answers what was believed when', async () => {
    const pool = createPool(gatewayUrl);
    try {
      const first = await remember(pool, 'ts-client', 'Prefers invoices by email', 60);
      const again = await remember(pool, 'ts-client', 'prefers invoices  by EMAIL');
      expect(again).toMatchObject({ id: first.id, repeat_count: 2, expires_at: null });
      await remember(pool, 'ts-client', 'Works from Lisbon in winter');
      expect((await recall(pool, 'ts-client', 'invoice')).map((memory) => memory.id)).toEqual([first.id]);
      expect(await forget(pool, 'ts-client', first.id)).toBe(1);
      expect(await recall(pool, 'ts-client', 'invoice')).toEqual([]);

      await setFact(pool, 'ts-client', 'language', 'English');
      const before = await databaseNow();
      await setFact(pool, 'ts-client', 'language', 'Portuguese');
      const now = await databaseNow();
      expect(await factsAsOf(pool, 'ts-client', now)).toEqual({ language: 'Portuguese' });
      expect(await factsAsOf(pool, 'ts-client', now, before)).toEqual({ language: 'English' });
    } finally {
      await pool.end();
    }
  });

  it('runs as a script', async () => {
    const script = async (...args: string[]) =>
      JSON.parse(
        (
          await run(process.execPath, ['--import', 'tsx', TYPESCRIPT_EXAMPLE, ...args], {
            env: { ...process.env, DATABASE_URL: gatewayUrl },
          })
        ).stdout,
      );
    const memory = await script('remember', 'ts-script', 'Allergic to peanuts');
    expect(await script('recall', 'ts-script', 'peanut allergy')).toEqual([
      expect.objectContaining({ id: memory.id, content: 'Allergic to peanuts' }),
    ]);
  });
});

describe.skipIf(!python)('the Python example (asyncpg)', () => {
  const script = async (...args: string[]) =>
    JSON.parse(
      (await run(python!, [PYTHON_EXAMPLE, ...args], { env: { ...process.env, DATABASE_URL: gatewayUrl } }))
        .stdout,
    );

  it('remembers, recalls, forgets, and answers what was believed when, like the TypeScript one', async () => {
    const first = await script('remember', 'py-client', 'Prefers invoices by email', '60');
    const again = await script('remember', 'py-client', 'prefers invoices  by EMAIL');
    expect(again).toMatchObject({ id: first.id, repeat_count: 2 });
    expect(first.expires_at).toBeTruthy();
    expect(
      (await script('recall', 'py-client', 'invoice')).map((memory: { id: number }) => memory.id),
    ).toEqual([first.id]);
    expect(await script('forget', 'py-client', String(first.id))).toBe(1);
    expect(await script('forget', 'py-client', String(first.id))).toBe(0);

    await script('set-fact', 'py-client', 'language', 'English');
    const before = await databaseNow();
    await script('set-fact', 'py-client', 'language', 'Portuguese');
    const now = (await databaseNow()).toISOString();
    expect(await script('facts-as-of', 'py-client', now)).toEqual({ language: 'Portuguese' });
    expect(await script('facts-as-of', 'py-client', now, before.toISOString())).toEqual({
      language: 'English',
    });
  });
});
