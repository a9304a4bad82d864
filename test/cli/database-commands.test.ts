/**
 * The database commands as a user runs them: a child process, real output, real exit codes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/client.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from '../../src/shared/ports.ts';
import { EXAMPLE_SNAPSHOT } from '../../src/cli/example.ts';
import { connectionUrl, DATABASE_NAME, EXAMPLE_DATABASE_NAME, OWNER_ROLE } from '../../src/db/target.ts';
import { erp } from '../support/cli.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

describe('erp up on the embedded default', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-cli-data-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a migrated portfolio database, prints how to connect, exits, and keeps the data', async () => {
    const first = await erp(['up'], { ERP_DATA_DIR: dataDir, DATABASE_URL: undefined });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\)/);
    expect(first.stdout).toMatch(/validate_schema: OK/);
    expect(first.stdout).toMatch(
      /PGPASSFILE=\S+pgpass psql "postgresql:\/\/erp_admin@127\.0\.0\.1:\d+\/portfolio"/,
    );
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

    const second = await erp(['up'], { ERP_DATA_DIR: dataDir, DATABASE_URL: undefined });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Nothing to migrate/);
  });

  it('with the example, loads it into a database of its own and leaves portfolio without it, with no pg_dump on the machine', {
    timeout: 180_000,
  }, async () => {
    // `npm ci && npm start` must work without Postgres client tools: PG_DUMP is the only pg_dump tried.
    const started = await erp(['up', '--with-example'], {
      ERP_DATA_DIR: dataDir,
      DATABASE_URL: undefined,
      PG_DUMP: '/nonexistent/pg_dump',
    });
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(started.stdout).toMatch(/The example doc is in its own database, portfolio_example/);
    expect(started.stdout).toMatch(/portfolio, the database a real migration loads into, holds none of it/);
    expect(await readdir(path.join(dataDir, 'example-runs'))).toHaveLength(1);

    const server = await startEmbeddedPostgres({ dataDir, persistent: true });
    try {
      const ownerPassword = (await readFile(path.join(dataDir, 'secrets', OWNER_ROLE), 'utf8')).trim();
      const count = (database: string) =>
        withClient(
          connectionUrl({
            user: OWNER_ROLE,
            password: ownerPassword,
            host: server.host,
            port: server.port,
            database,
          }),
          async (client) => (await client.query('SELECT count(*)::int AS n FROM erp.projects')).rows[0]?.n,
        );
      expect(await count(EXAMPLE_DATABASE_NAME)).toBeGreaterThan(0);
      expect(await count(DATABASE_NAME)).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('never prints the generated passwords', async () => {
    const secrets = await readdir(path.join(dataDir, 'secrets'));
    const status = await erp(['status'], { ERP_DATA_DIR: dataDir, DATABASE_URL: undefined });
    expect(status.code).toBe(0);
    for (const name of secrets) {
      const secret = (await readFile(path.join(dataDir, 'secrets', name), 'utf8')).trim();
      expect(status.stdout + status.stderr).not.toContain(secret);
    }
  });
});

describe('the database commands with DATABASE_URL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('says to run migrate when a plan meets an unmigrated database', async () => {
    const planned = await erp(['plan', '--snapshot', EXAMPLE_SNAPSHOT], { DATABASE_URL: db.url });
    expect(planned.code).toBe(1);
    expect(planned.stderr).toMatch(
      /is not migrated \(\d+ migration\(s\) pending, from 001_erp_schema\); run `npm run erp -- migrate` first/,
    );
    expect(planned.stderr).not.toContain(new URL(db.url).password);
  });

  it('names a server it cannot reach, never the password', async () => {
    const port = await freePort();
    const url = `postgresql://erp_admin:never-print-me@127.0.0.1:${port}/portfolio`;
    const status = await erp(['status'], { DATABASE_URL: url });
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      new RegExp(`cannot reach the database server at 127\\.0\\.0\\.1:${port}: nothing accepts connections`),
    );
    expect(status.stdout + status.stderr).not.toContain('never-print-me');
  });

  it('status lists pending migrations, migrate applies them, validate passes', async () => {
    const env = { DATABASE_URL: db.url };
    const before = await erp(['status'], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/pending {2}001_erp_schema\npending {2}002_agent_schema/);

    const migrated = await erp(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/applied 001_erp_schema/);
    expect(migrated.stdout).not.toContain(new URL(db.url).password);

    const after = await erp(['status'], env);
    expect(after.stdout).toMatch(/applied {2}001_erp_schema/);
    expect(after.stdout).not.toMatch(/pending/);

    const validated = await erp(['validate'], env);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toMatch(/validate_schema: OK/);
  });

  it('never migrates the example doc into a database named by DATABASE_URL', async () => {
    const started = await erp(['up', '--with-example'], { DATABASE_URL: db.url });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(
      /the example doc is migrated only into the embedded database, so it was skipped/,
    );
    expect((await db.query('SELECT count(*)::int AS n FROM erp.projects')).rows[0]?.n).toBe(0);
  });

  it('migrate and status accept a database that a newer version migrated further, and change nothing', async () => {
    await erp(['migrate'], { DATABASE_URL: db.url });
    // What a newer release leaves behind: an applied migration this checkout does not have.
    await db.query(
      `INSERT INTO pipeline.schema_migrations (name, run_on) VALUES ('999_from_a_newer_release', now())`,
    );
    await db.query(
      `INSERT INTO pipeline.schema_migration_checksums (name, sha256) VALUES ('999_from_a_newer_release', 'f00')`,
    );
    try {
      const migrated = await erp(['migrate'], { DATABASE_URL: db.url });
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.stdout).toMatch(
        /is ahead of this version of the code: it has 999_from_a_newer_release, applied by a newer version.*Nothing was changed/,
      );
      const status = await erp(['status'], { DATABASE_URL: db.url });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/applied {2}999_from_a_newer_release .*the database is ahead/);
    } finally {
      await db.query(`DELETE FROM pipeline.schema_migrations WHERE name = '999_from_a_newer_release'`);
      await db.query(
        `DELETE FROM pipeline.schema_migration_checksums WHERE name = '999_from_a_newer_release'`,
      );
    }
  });

  it('refuses a DATABASE_URL that carries the .env.example placeholder password, saying how to set one', async () => {
    const placeholder = new URL(db.url);
    placeholder.password = 'change-me-postgres-password';
    const refused = await erp(['status'], { DATABASE_URL: placeholder.toString() });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/database password .* is still a placeholder/);
    expect(refused.stderr).toMatch(/deploy\/make-secrets\.sh/);
    expect(refused.stderr).not.toContain('change-me-postgres-password');
  });

  it("reads the owner's password from the file PGPASSWORD_FILE names, as compose's secrets give it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erp-secret-file-'));
    try {
      const withoutPassword = new URL(db.url);
      const password = decodeURIComponent(withoutPassword.password);
      withoutPassword.password = '';
      const file = path.join(dir, 'postgres_password');
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      const status = await erp(['status'], {
        DATABASE_URL: withoutPassword.toString(),
        PGPASSWORD_FILE: file,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^applied {2}001_erp_schema /m);

      const missing = await erp(['status'], {
        DATABASE_URL: withoutPassword.toString(),
        PGPASSWORD_FILE: path.join(dir, 'nothing-here'),
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/PGPASSWORD_FILE names .*nothing-here, which cannot be read/);

      const both = await erp(['status'], {
        DATABASE_URL: db.url,
        PGPASSWORD: password,
        PGPASSWORD_FILE: file,
      });
      expect(both.stderr).toMatch(/both PGPASSWORD and PGPASSWORD_FILE are set/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('validate exits non-zero and names the table when one is missing', async () => {
    await db.query('DROP TABLE erp.okrs');
    const validated = await erp(['validate'], { DATABASE_URL: db.url });
    expect(validated.code, validated.stdout + validated.stderr).not.toBe(0);
    expect(validated.stderr).toMatch(/erp\.okrs/);
  });
});
