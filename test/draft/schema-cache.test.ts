/**
 * `mappings draft` reads the target schema from a scratch cluster migrated from the checkout's
 * migrations; what it read is cached under a hash of those migrations. A hit must not start a
 * cluster, a changed migration must miss, and a damaged cache file must be read again, not trusted.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrations.ts';
import { readMigratedSchema } from '../../src/draft/target-schema.ts';

let workDir: string;
let migrationsDir: string;
let cacheDir: string;

const cacheFiles = async () => (await readdir(cacheDir)).filter((name) => name.endsWith('.json'));

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-schema-cache-'));
  migrationsDir = path.join(workDir, 'migrations');
  cacheDir = path.join(workDir, 'cache');
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('the cached target schema', () => {
  it('is read from a migrated cluster once, then from the cache while the migrations are the same', async () => {
    const first = await readMigratedSchema({ migrationsDir, cacheDir });
    expect(first.map((table) => table.name)).toContain('erp.tasks');
    const [file] = await cacheFiles();
    expect(file).toBeDefined();
    // A hit returns what the file says; a cluster would have said otherwise.
    const cached = JSON.parse(await readFile(path.join(cacheDir, file!), 'utf8')) as { name: string }[];
    await writeFile(
      path.join(cacheDir, file!),
      JSON.stringify(cached.filter((table) => table.name === 'erp.tasks')),
    );
    expect(await readMigratedSchema({ migrationsDir, cacheDir })).toEqual(
      first.filter((table) => table.name === 'erp.tasks'),
    );
  });

  it('is read again when a migration changes, and a damaged cache file is replaced', async () => {
    await writeFile(
      path.join(migrationsDir, '999_cache_probe.sql'),
      'CREATE TABLE erp.cache_probe (id bigint PRIMARY KEY, "ünïcode label" text);\n',
    );
    const changed = await readMigratedSchema({ migrationsDir, cacheDir });
    expect(changed.map((table) => table.name)).toEqual(
      expect.arrayContaining(['erp.tasks', 'erp.cache_probe']),
    );
    const files = await cacheFiles();
    expect(files).toHaveLength(2);
    for (const file of files) await writeFile(path.join(cacheDir, file), '{"not": "a schema"');
    const reread = await readMigratedSchema({ migrationsDir, cacheDir });
    expect(reread).toEqual(changed);
  });
});
