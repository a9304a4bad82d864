/**
 * Which Postgres the CLI works on: the server named by DATABASE_URL, or else the embedded
 * default, brought up with the `portfolio` database owned by `erp_admin`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withClient } from './client.ts';
import { startEmbeddedPostgres, SUPERUSER, type RunningPostgres } from './embedded.ts';
import { loadOrCreateSecret, PLACEHOLDER_MARKER, redactUrl } from './secrets.ts';

const { escapeIdentifier: quoteIdent, escapeLiteral: quoteLiteral } = pg;

export const DATABASE_NAME = 'portfolio';
/** Where `npm start` loads the example doc: beside `portfolio`, never in it. */
export const EXAMPLE_DATABASE_NAME = 'portfolio_example';
export const OWNER_ROLE = 'erp_admin';
export const DEFAULT_DATA_DIR = '.data';
/** Tried first by the embedded default, so the printed URL stays the same between runs. */
const PREFERRED_EMBEDDED_PORT = 54329;

export interface DatabaseTarget {
  /** Connection string of the database, as its owner. Holds a password: never print it. */
  url: string;
  /** The same without the password, for messages. */
  label: string;
  embedded?: { dataDir: string; pgpassFile: string; server: RunningPostgres };
  close(): Promise<void>;
}

export function connectionUrl(parts: {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
}): string {
  const url = new URL('postgresql://placeholder');
  url.username = parts.user;
  url.password = parts.password;
  url.hostname = parts.host;
  url.port = String(parts.port);
  url.pathname = `/${parts.database}`;
  return url.toString();
}

/**
 * Creates the owner role and the database when they are missing. The owner may create roles
 * because the API-roles migration does; it is not a superuser, as production's services are not.
 */
export async function ensureOwnedDatabase(
  adminUrl: string,
  { database, owner, ownerPassword }: { database: string; owner: string; ownerPassword: string },
): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [owner]);
    const verb = role.rowCount ? 'ALTER' : 'CREATE';
    await client.query(
      `${verb} ROLE ${quoteIdent(owner)} LOGIN CREATEROLE PASSWORD ${quoteLiteral(ownerPassword)}`,
    );
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!db.rowCount)
      await client.query(
        `CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(owner)} ENCODING 'UTF8'`,
      );
  });
}

/**
 * compose.yaml builds DATABASE_URL from POSTGRES_PASSWORD: a copied .env.example must not become
 * the owner's password (the database keeps the first one it is started with).
 */
function refusePlaceholderPassword(url: string): void {
  if (decodeURIComponent(new URL(url).password).includes(PLACEHOLDER_MARKER))
    throw new Error(
      'the database password (DATABASE_URL, or the file PGPASSWORD_FILE names) is still a placeholder. ' +
        'Generate the secret files with deploy/make-secrets.sh before the database is first started; to change ' +
        'the password on a running database, see docs/RUNBOOK.md, "Rotating secrets".',
    );
}

/** With DATABASE_URL: creates the named database if it is missing and the user may. */
async function ensureDatabaseFromUrl(url: string): Promise<void> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1)) || DATABASE_NAME;
  try {
    await withClient(url, async () => {});
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: database does not exist
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  await withClient(maintenance.toString(), (client) =>
    client.query(`CREATE DATABASE ${quoteIdent(database)} ENCODING 'UTF8'`),
  );
}

/** DATABASE_URL, with the owner's password from PGPASSWORD (or PGPASSWORD_FILE) when the URL has none. */
export function databaseUrlFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.DATABASE_URL) return undefined;
  const url = new URL(env.DATABASE_URL);
  if (url.password || !env.PGPASSWORD) return env.DATABASE_URL;
  url.password = encodeURIComponent(env.PGPASSWORD);
  return url.toString();
}

export async function openDatabase({
  dataDir = process.env.ERP_DATA_DIR ?? DEFAULT_DATA_DIR,
  database = DATABASE_NAME,
} = {}): Promise<DatabaseTarget> {
  const fromEnv = databaseUrlFromEnvironment();
  if (fromEnv) {
    refusePlaceholderPassword(fromEnv);
    await ensureDatabaseFromUrl(fromEnv);
    return { url: fromEnv, label: redactUrl(fromEnv), close: async () => {} };
  }

  const server = await startEmbeddedPostgres({
    dataDir,
    persistent: true,
    preferredPort: PREFERRED_EMBEDDED_PORT,
  });
  try {
    const ownerPassword = await loadOrCreateSecret(dataDir, OWNER_ROLE);
    const adminUrl = connectionUrl({
      user: SUPERUSER,
      password: server.superuserPassword,
      host: server.host,
      port: server.port,
      database: 'postgres',
    });
    await ensureOwnedDatabase(adminUrl, { database, owner: OWNER_ROLE, ownerPassword });
    const pgpassFile = path.resolve(dataDir, 'pgpass');
    await writeFile(pgpassFile, `${server.host}:${server.port}:*:${OWNER_ROLE}:${ownerPassword}\n`, {
      mode: 0o600,
    });
    const url = connectionUrl({
      user: OWNER_ROLE,
      password: ownerPassword,
      host: server.host,
      port: server.port,
      database,
    });
    return {
      url,
      label: redactUrl(url),
      embedded: { dataDir, pgpassFile, server },
      close: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export async function withDatabase<T>(
  work: (target: DatabaseTarget) => Promise<T>,
  options: { database?: string } = {},
): Promise<T> {
  const target = await openDatabase(options);
  try {
    return await work(target);
  } finally {
    await target.close();
  }
}

/** A psql command that works as printed: the password comes from the pgpass file, not the screen. */
export function psqlCommand(target: DatabaseTarget): string {
  const url = new URL(target.url);
  url.password = '';
  const passfile = target.embedded
    ? `PGPASSFILE=${path.relative(process.cwd(), target.embedded.pgpassFile) || target.embedded.pgpassFile} `
    : '';
  return `${passfile}psql "${url.toString()}"`;
}
