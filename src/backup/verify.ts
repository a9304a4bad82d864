/**
 * Restoring a backup into a database of its own on the same server: the trial restore that
 * verifies every backup (into a scratch database, dropped after), and the restore of a copy
 * into a fresh database that the runbook then switches to. Either is all or nothing
 * (--single-transaction --exit-on-error): a dump that cannot be restored whole is a failure.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withClient } from '../db/client.ts';
import { runPgTool } from './pg-tools.ts';

const { escapeIdentifier: quoteIdent } = pg;

/** Postgres cuts names at 63 bytes; a scratch name must stay whole to be dropped by it. */
const MAX_NAME = 63;

/** What a restored database holds, read back from it. */
export interface RestoredContents {
  tables: number;
  migrations: number;
}

export type Verification = ({ ok: true } & RestoredContents) | { ok: false; error: string };

const CONTENTS = `
  SELECT (SELECT count(*)::int FROM pg_catalog.pg_tables
           WHERE schemaname IN ('erp', 'agent', 'pipeline')) AS tables,
         CASE WHEN to_regclass('pipeline.schema_migrations') IS NULL THEN 0
              ELSE (SELECT count(*)::int FROM pipeline.schema_migrations) END AS migrations`;

function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

export function databaseExists(serverUrl: string, database: string): Promise<boolean> {
  return withClient(serverUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [
      database,
    ]);
    return (rowCount ?? 0) > 0;
  });
}

/** The connected database's owner and privileges (its ACL, the defaults spelled out). */
const OWNER_AND_PRIVILEGES = `
  SELECT pg_catalog.pg_get_userbyid(d.datdba) AS owner,
         a.privilege_type,
         CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee
    FROM pg_catalog.pg_database d,
         aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
   WHERE d.datname = current_database()`;
const DATABASE_PRIVILEGES = new Set(['CREATE', 'CONNECT', 'TEMPORARY']);

/**
 * Creates `database` like the one the connection is to: the same owner, and the same privileges
 * on the database itself (a migration revokes TEMPORARY from PUBLIC), which a dump without
 * --create does not carry. The objects inside come from the dump.
 */
async function createLikeConnected(serverUrl: string, database: string): Promise<void> {
  await withClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ owner: string; privilege_type: string; grantee: string | null }>(
      OWNER_AND_PRIVILEGES,
    );
    const name = quoteIdent(database);
    await client.query(`CREATE DATABASE ${name} OWNER ${quoteIdent(rows[0]!.owner)}`);
    await client.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    for (const { privilege_type: privilege, grantee } of rows)
      if (DATABASE_PRIVILEGES.has(privilege))
        await client.query(
          `GRANT ${privilege} ON DATABASE ${name} TO ${grantee === null ? 'PUBLIC' : quoteIdent(grantee)}`,
        );
  });
}

/**
 * Creates `database` (it must not exist) and restores the dump into it; the database is left in
 * place even when the restore fails, empty, for the caller to drop or inspect.
 */
export async function restoreIntoNewDatabase(
  serverUrl: string,
  database: string,
  file: string,
): Promise<RestoredContents> {
  await createLikeConnected(serverUrl, database);
  const url = databaseUrl(serverUrl, database);
  await runPgTool('pg_restore', url, ['--single-transaction', '--exit-on-error', file]);
  return withClient(url, async (client) => (await client.query<RestoredContents>(CONTENTS)).rows[0]!);
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  await withClient(serverUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`),
  );
}

/**
 * Restores the dump into a scratch database next to the live one and drops it after. A dump that
 * restores but holds no migration records is not a backup of this database either.
 */
export async function verifyBackup(serverUrl: string, file: string): Promise<Verification> {
  const suffix = `_verify_${randomBytes(4).toString('hex')}`;
  const scratch = `${databaseNameOf(serverUrl).slice(0, MAX_NAME - suffix.length)}${suffix}`;
  try {
    const contents = await restoreIntoNewDatabase(serverUrl, scratch, file);
    if (!contents.migrations)
      return {
        ok: false,
        error: 'the restored database holds no migration records (pipeline.schema_migrations)',
      };
    return { ok: true, ...contents };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await dropDatabase(serverUrl, scratch).catch(() => {});
  }
}
