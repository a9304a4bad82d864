/**
 * Schema migrations: node-pg-migrate applies the numbered files in `migrations/`, this module
 * closes its one gap (it does not notice a file edited after it was applied).
 *
 * Why node-pg-migrate: it is maintained, applies each file in its own transaction
 * (`singleTransaction: false`), records applied versions, applies nothing on a rerun and
 * serialises runners with a Postgres advisory lock. dbmate has neither lock nor checksum,
 * postgres-migrations has both but no release since 2021, graphile-migrate and sqitch impose
 * their own file layout. See docs/MIGRATIONS.md.
 *
 * The wrapper holds node-pg-migrate's own advisory lock for the whole run (advisory locks are
 * re-entrant per session, so node-pg-migrate's own lock call on the same connection succeeds),
 * verifies recorded checksums under it, and records each file's checksum inside that file's
 * transaction, so "applied" and "checksum recorded" can never disagree.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withClient } from './client.ts';
import { splitStatements } from './sql-statements.ts';
import type { MigrationBuilder } from 'node-pg-migrate';

const { escapeIdentifier: quoteIdent, escapeLiteral: quoteLiteral } = pg;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
/** The pipeline's own bookkeeping lives here, never in `erp` or `agent`, never exposed over HTTP. */
export const BOOKKEEPING_SCHEMA = 'pipeline';
const APPLIED_TABLE = 'schema_migrations';
const CHECKSUM_TABLE = 'schema_migration_checksums';
const MIGRATION_FILE = /^\d+_[a-z0-9_]+\.sql$/;
/**
 * First line of a file whose statements cannot run in a transaction (CREATE INDEX CONCURRENTLY):
 * the runner sends them one by one, each committed on its own. See docs/MIGRATIONS.md.
 */
export const NO_TRANSACTION_MARKER = '-- erp:no-transaction';
/**
 * How long any migration statement waits for a lock before failing, so a migration queued behind
 * a long transaction fails fast instead of blocking every query queued behind it. Files set it
 * too (so they behave the same under plain psql); this default covers every file.
 */
const LOCK_TIMEOUT = '5s';

export interface MigrationFile {
  name: string;
  file: string;
  sha256: string;
  sql: string;
}

export interface AppliedMigration {
  name: string;
  appliedAt: Date;
  recordedSha256: string | null;
}

/**
 * `newer-than-code`: applied, absent here, and after every file here. A newer version of the code
 * applied it and this older one is running (an application rollback); migrations only roll
 * forward, so the database keeps it. `missing-file`: absent here but older than files that exist,
 * so a file was deleted.
 */
export type AppliedState = 'ok' | 'edited' | 'missing-file' | 'newer-than-code';

export interface MigrationStatus {
  applied: (AppliedMigration & { state: AppliedState })[];
  pending: MigrationFile[];
}

class MigrationError extends Error {}

/** Line endings are normalised so a checkout with CRLF does not look like an edit. */
function checksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

export function runsOutsideTransaction(file: Pick<MigrationFile, 'sql'>): boolean {
  return file.sql.split('\n', 1)[0]?.trim() === NO_TRANSACTION_MARKER;
}

export async function readMigrationFiles(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (fileName) => {
      const file = path.join(dir, fileName);
      const sql = await readFile(file, 'utf8');
      return { name: fileName.replace(/\.sql$/, ''), file, sha256: checksum(sql), sql };
    }),
  );
}

const appliedTable = `${quoteIdent(BOOKKEEPING_SCHEMA)}.${quoteIdent(APPLIED_TABLE)}`;
const checksumTable = `${quoteIdent(BOOKKEEPING_SCHEMA)}.${quoteIdent(CHECKSUM_TABLE)}`;

async function readApplied(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    appliedTable,
  ]);
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query<{ name: string; run_on: Date; sha256: string | null }>(
    `SELECT m.name, m.run_on, c.sha256
       FROM ${appliedTable} m LEFT JOIN ${checksumTable} c USING (name)
      ORDER BY m.run_on, m.id`,
  );
  return rows.map((row) => ({ name: row.name, appliedAt: row.run_on, recordedSha256: row.sha256 }));
}

function compare(files: MigrationFile[], applied: AppliedMigration[]): MigrationStatus {
  const byName = new Map(files.map((file) => [file.name, file]));
  const appliedNames = new Set(applied.map((migration) => migration.name));
  const lastFile = files.at(-1)?.name ?? '';
  const stateOf = (migration: AppliedMigration): AppliedState => {
    const file = byName.get(migration.name);
    if (file) return file.sha256 === migration.recordedSha256 ? 'ok' : 'edited';
    return migration.name > lastFile ? 'newer-than-code' : 'missing-file';
  };
  return {
    applied: applied.map((migration) => ({ ...migration, state: stateOf(migration) })),
    pending: files.filter((file) => !appliedNames.has(file.name)),
  };
}

/** Applied migrations that a newer version of the code brought: this code runs without them. */
export function newerThanCode(status: MigrationStatus): string[] {
  return status.applied
    .filter((migration) => migration.state === 'newer-than-code')
    .map((migration) => migration.name);
}

function refuseEdited(status: MigrationStatus, dir: string): void {
  const newer = newerThanCode(status);
  if (newer.length && status.pending.length) {
    throw new MigrationError(
      `Refusing to migrate: the database has ${newer.join(', ')}, which this code does not know, ` +
        `and this code has ${status.pending.map((file) => file.name).join(', ')}, which the database does not. ` +
        `The code and the database went different ways: check out the version that applied ` +
        `${newer.at(-1)} (or a later one) and migrate from there.`,
    );
  }
  for (const migration of status.applied) {
    const relative = path.relative(process.cwd(), path.join(dir, `${migration.name}.sql`));
    if (migration.state === 'edited') {
      throw new MigrationError(
        `Refusing to migrate: ${relative} was changed after it was applied on ` +
          `${migration.appliedAt.toISOString()} (recorded sha256 ${String(migration.recordedSha256).slice(0, 12)}…). ` +
          `An applied migration must not change: restore it (git checkout -- ${relative}) ` +
          `and put the change in a new numbered migration file.`,
      );
    }
    if (migration.state === 'missing-file') {
      throw new MigrationError(
        `Refusing to migrate: ${migration.name} is applied in the database but ${relative} is missing. ` +
          `Restore the file; applied migrations are never deleted.`,
      );
    }
  }
}

export async function migrationStatus(url: string, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const files = await readMigrationFiles(dir);
  return withClient(url, async (client) => compare(files, await readApplied(client)));
}

/** Loads and checks need every migration applied; say how to get there instead of failing on a missing table. */
export async function assertMigrated(url: string, label: string): Promise<void> {
  const { pending } = await migrationStatus(url);
  if (pending.length)
    throw new MigrationError(
      `the database ${label} is not migrated (${pending.length} migration(s) pending, from ${pending[0]!.name}); run \`npm run erp -- migrate\` first (on the droplet: \`docker compose run --rm migrate\`)`,
    );
}

export interface MigrateResult {
  applied: string[];
  /** Applied by a newer version of the code and left as they are (see newerThanCode). */
  newerThanCode: string[];
}

/**
 * Applies pending migrations. A second runner started at the same time waits for the first
 * and then finds nothing to do.
 */
export async function migrate(
  url: string,
  { dir = MIGRATIONS_DIR, log = () => {} }: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const files = await readMigrationFiles(dir);
  // Loaded here, not at the top: node-pg-migrate takes a noticeable part of the CLI's start-up,
  // and most commands never migrate.
  const { PG_MIGRATE_LOCK_ID, runner } = await import('node-pg-migrate');
  const byPath = new Map(files.map((file) => [file.file, file]));
  return withClient(url, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(BOOKKEEPING_SCHEMA)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${checksumTable} (
           name text PRIMARY KEY,
           sha256 text NOT NULL,
           recorded_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(
        `COMMENT ON TABLE ${checksumTable} IS 'sha256 of each applied migration file, written in the same transaction as the migration; a mismatch means the file was edited after it was applied.'`,
      );
      const status = compare(files, await readApplied(client));
      refuseEdited(status, dir);
      // Nothing can be pending here (refuseEdited saw to that): the schema stays as it is.
      const newer = newerThanCode(status);
      if (newer.length) return { applied: [], newerThanCode: newer };
      // After the advisory lock: lock_timeout would otherwise cut short the wait for another runner.
      await client.query(`SET lock_timeout = ${quoteLiteral(LOCK_TIMEOUT)}`);

      const ran = await runner({
        dbClient: client,
        dir,
        ignorePattern: `(?!${MIGRATION_FILE.source.slice(1, -1)}$).*`,
        migrationsSchema: BOOKKEEPING_SCHEMA,
        migrationsTable: APPLIED_TABLE,
        direction: 'up',
        singleTransaction: false,
        checkOrder: true,
        advisoryLockMode: 'wait',
        migrationLoaderStrategies: [
          {
            extensions: ['.sql'],
            loader: async (filePaths: string[]) =>
              filePaths.map((filePath) => {
                const file = byPath.get(filePath);
                if (!file) throw new MigrationError(`${filePath} appeared while migrating; run again`);
                return {
                  id: filePath,
                  filePaths: [filePath],
                  actions: {
                    up: (pgm: MigrationBuilder) => {
                      if (runsOutsideTransaction(file)) {
                        pgm.noTransaction();
                        for (const statement of splitStatements(file.sql)) pgm.sql(statement);
                      } else pgm.sql(file.sql);
                      pgm.sql(
                        `INSERT INTO ${checksumTable} (name, sha256) VALUES (${quoteLiteral(file.name)}, ${quoteLiteral(file.sha256)})`,
                      );
                    },
                    // Roll forward only: a mistake is fixed by a new migration, as in production.
                    down: false as const,
                  },
                };
              }),
          },
        ],
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: log },
      });
      for (const migration of ran) log(`applied ${migration.name}`);
      return { applied: ran.map((migration) => migration.name), newerThanCode: [] };
    } finally {
      // node-pg-migrate leaves a failed file's transaction open; end it before releasing the lock.
      await client.query('ROLLBACK');
      await client.query('SELECT pg_advisory_unlock_all()');
    }
  });
}
