/**
 * Per-file databases on the shared test cluster: a migrated copy of the template, or an empty
 * database for the migration tests. Connections are made as the owner `erp_admin`, not as a
 * superuser, so permission mistakes show up in tests.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { withClient } from '../../src/db/client.ts';
import { connectionUrl } from '../../src/db/target.ts';
import { TEMPLATE_DATABASE, type TestCluster } from './cluster.ts';

const { escapeIdentifier: quoteIdent } = pg;

export interface TestDatabase {
  name: string;
  /** As the owner erp_admin. */
  url: string;
  /** The same database as the superuser, for setup that needs it. */
  superuserUrl: string;
  pool: pg.Pool;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Closes this file's connections to it (drop closes them too). */
  close(): Promise<void>;
  drop(): Promise<void>;
}

export function testCluster(): TestCluster {
  return inject('testCluster');
}

function urlFor(database: string, who: 'owner' | 'superuser'): string {
  const cluster = testCluster();
  const { user, password } = cluster[who];
  return connectionUrl({ user, password, host: cluster.host, port: cluster.port, database });
}

function asSuperuser<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(urlFor('postgres', 'superuser'), work);
}

async function create(template: string | undefined): Promise<TestDatabase> {
  const name = `test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const owner = testCluster().owner.user;
  await asSuperuser(async (client) => {
    // Copies of one template must not run concurrently (Postgres refuses while the template is in use).
    await client.query('SELECT pg_advisory_lock(4242)');
    try {
      const copied = template ? `TEMPLATE ${quoteIdent(template)}` : '';
      await client.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(owner)} ${copied}`);
    } finally {
      await client.query('SELECT pg_advisory_unlock(4242)');
    }
  });
  const url = urlFor(name, 'owner');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // pool.end() can resolve before every connection is closed; DROP … WITH (FORCE) then
    // terminates the rest, which must not surface as an unhandled pool error.
    pool.on('error', () => {});
    await pool.end();
  };
  return {
    name,
    url,
    superuserUrl: urlFor(name, 'superuser'),
    pool,
    query: (text, params) => pool.query(text, params),
    close,
    drop: async () => {
      await close();
      await asSuperuser((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

/** A fresh database with every migration applied. */
export function createTestDatabase(): Promise<TestDatabase> {
  return create(TEMPLATE_DATABASE);
}

/** A fresh database with nothing applied, for testing the migrations themselves. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return create(undefined);
}

/**
 * A copy of `source` as it is now, for tests that each start from the same loaded state: copying
 * a database costs a fraction of loading it again. Postgres copies only a database nobody is
 * connected to, so `source` is closed first and can only be copied or dropped after.
 */
export async function copyOfDatabase(source: TestDatabase): Promise<TestDatabase> {
  await source.close();
  return create(source.name);
}
