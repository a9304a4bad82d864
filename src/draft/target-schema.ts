/**
 * The target schema as this checkout's migrations define it, so drafting needs no prepared
 * database: a scratch embedded Postgres in a temporary folder is migrated, read and removed.
 *
 * This is the one module of src/draft that imports the target-schema catalog.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { withClient } from '../db/client.ts';
import { startEmbeddedPostgres, SUPERUSER } from '../db/embedded.ts';
import { migrate } from '../db/migrations.ts';
import { connectionUrl, ensureOwnedDatabase, OWNER_ROLE } from '../db/target.ts';
import { listTargetTables, readTargetTable, type TargetTable } from '../catalog/target-tables.ts';

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

/** Every erp table of a freshly migrated database, with its columns, CHECKs and foreign keys. */
export async function readMigratedSchema(): Promise<TargetTable[]> {
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
      await migrate(url);
      return await readSchema(url);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
