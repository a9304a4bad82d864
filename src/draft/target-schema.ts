/**
 * The target schema as this checkout's migrations define it, so drafting needs no prepared
 * database: a scratch embedded Postgres in a temporary folder is migrated, read and removed.
 * Starting that cluster costs seconds, so what it read is kept in the user's cache folder under a
 * hash of the migrations and of the code that reads them: a changed migration or reader misses.
 *
 * This is the one module of src/draft that imports the target-schema catalog.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withClient } from '../db/client.ts';
import { startEmbeddedPostgres, SUPERUSER } from '../db/embedded.ts';
import { MIGRATIONS_DIR, migrate, readMigrationFiles } from '../db/migrations.ts';
import { connectionUrl, ensureOwnedDatabase, OWNER_ROLE } from '../db/target.ts';
import {
  listTargetTables,
  readTargetTable,
  type TargetColumn,
  type TargetTable,
} from '../catalog/target-tables.ts';

export type { TargetColumn, TargetTable } from '../catalog/target-tables.ts';
export { ROW_NAME_COLUMNS, textDefault } from '../catalog/target-tables.ts';

/** Every erp table of a database, with its columns, CHECKs and foreign keys. */
export function readSchema(url: string): Promise<TargetTable[]> {
  return withClient(url, async (client) => {
    const tables: TargetTable[] = [];
    for (const name of await listTargetTables(client)) {
      const table = await readTargetTable(client, name);
      if (table) tables.push(table);
    }
    return tables;
  });
}

/**
 * Every erp table as `migrationsDir` defines it: from the cache when these migrations were read
 * by this code before, otherwise from a freshly migrated scratch database (then cached).
 */
export async function readMigratedSchema({
  migrationsDir = MIGRATIONS_DIR,
  cacheDir = schemaCacheDir(),
}: {
  migrationsDir?: string;
  cacheDir?: string;
} = {}): Promise<TargetTable[]> {
  const file = path.join(cacheDir, `target-schema-${await schemaKey(migrationsDir)}.json`);
  const cached = await readCached(file);
  if (cached) return cached;
  const schema = await migrateAndRead(migrationsDir);
  // Written aside and renamed, so two drafts at once never read half a file.
  await mkdir(cacheDir, { recursive: true });
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, JSON.stringify(schema.map(toJson)));
  await rename(aside, file);
  return schema;
}

/** ERP_CACHE_DIR, else the platform's per-user cache folder (XDG on Linux). */
function schemaCacheDir(): string {
  if (process.env.ERP_CACHE_DIR) return process.env.ERP_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'postgres-erp');
}

/** The reader's own code is part of the key: a cache written by other code may differ in shape. */
const READER_SOURCES = ['target-schema', '../catalog/target-tables'].map((name) =>
  fileURLToPath(new URL(`${name}${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url)),
);

async function schemaKey(migrationsDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const migration of await readMigrationFiles(migrationsDir))
    hash.update(`${migration.name}\0${migration.sha256}\0`);
  for (const source of READER_SOURCES) hash.update(await readFile(source));
  return hash.digest('hex').slice(0, 32);
}

/** Maps become arrays of entries in the file, and Maps again when read. */
type CachedTable = Omit<TargetTable, 'columns' | 'references'> & {
  columns: [string, TargetColumn][];
  references: [string, string][];
};

function toJson(table: TargetTable): CachedTable {
  return { ...table, columns: [...table.columns], references: [...table.references] };
}

/** A missing or unreadable cache file is a miss, never an error: the schema is read again. */
async function readCached(file: string): Promise<TargetTable[] | undefined> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CachedTable[];
    return cached.map((table) => ({
      ...table,
      columns: new Map(table.columns),
      references: new Map(table.references),
    }));
  } catch {
    return undefined;
  }
}

async function migrateAndRead(migrationsDir: string): Promise<TargetTable[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-draft-schema-'));
  try {
    // Thrown away once read: nothing of it needs to reach the disk.
    const server = await startEmbeddedPostgres({ dataDir, persistent: false, durable: false });
    try {
      const ownerPassword = randomBytes(24).toString('base64url');
      const at = (user: string, password: string, database: string) =>
        connectionUrl({ user, password, host: server.host, port: server.port, database });
      await ensureOwnedDatabase(at(SUPERUSER, server.superuserPassword, 'postgres'), {
        database: 'schema_for_drafts',
        owner: OWNER_ROLE,
        ownerPassword,
      });
      const url = at(OWNER_ROLE, ownerPassword, 'schema_for_drafts');
      await migrate(url, { dir: migrationsDir });
      return await readSchema(url);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
