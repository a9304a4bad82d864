/**
 * The data rollback after a migration, rehearsed with the commands of docs/RUNBOOK.md ("Rolling
 * back / Data after a migration"), read from it: a backup, a migration that adds a table with a
 * foreign key and a check constraint on an existing table (a test-only file, with this code's
 * migrations, in a scratch folder), rows written after it, then the restore into a fresh database
 * and the switch by renaming. The data and the API then answer as before the migration.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { withClient } from '../../src/db/client.ts';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrations.ts';
import { runLoad } from '../../src/load/run.ts';
import { loadMappings } from '../../src/transform/mapping-spec.ts';
import { type ApiUnderTest, startApiOn } from '../api/harness.ts';
import { erp, REPO_ROOT } from '../support/cli.ts';
import { createTestDatabase, testCluster, type TestDatabase } from '../support/db.ts';
import { shellWords } from '../support/runbook/compose.ts';

const SECTION = '### Data after a migration';

let db: TestDatabase;
let workDir: string;
let api: ApiUnderTest | undefined;
/** Every database this test leaves on the cluster, dropped after. */
const databases: string[] = [];

/** The section's ```sh block, one command a line, comments removed. */
async function runbookCommands(): Promise<string[]> {
  const runbook = await readFile(path.join(REPO_ROOT, 'docs/RUNBOOK.md'), 'utf8');
  const section = runbook.slice(runbook.indexOf(SECTION));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block, `${SECTION}: no sh block`).toBeDefined();
  return block!
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

const asSuperuser = (database: string) => {
  const url = new URL(db.superuserUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/** What a reader of the API and of the database sees. */
async function observe(database: string) {
  const rows = await withClient(asSuperuser(database), async (client) => ({
    projects: (await client.query('SELECT id::int AS id, name, status FROM erp.projects ORDER BY id')).rows,
    reviews: (await client.query(`SELECT to_regclass('erp.project_reviews') IS NOT NULL AS present`)).rows[0]
      .present as boolean,
    migrations: (await client.query('SELECT name FROM pipeline.schema_migrations ORDER BY name')).rows,
    // The database's own privileges (a migration revoked TEMPORARY from PUBLIC), not in a dump.
    privileges: (
      await client.query(
        `SELECT a.privilege_type, a.grantee::regrole::text AS grantee
           FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
          WHERE d.datname = current_database() ORDER BY 1, 2`,
      )
    ).rows,
  }));
  const projects = await api!.request('/projects?select=id,name,status&order=id', {
    role: 'dashboard_reader',
  });
  const reviews = await api!.request('/project_reviews', { role: 'dashboard_reader' });
  return { rows, api: { projects: projects.body, reviewsStatus: reviews.status } };
}

function psql(args: string[]): Promise<void> {
  const cluster = testCluster();
  return new Promise((resolve, reject) =>
    execFile(
      'psql',
      args,
      {
        env: {
          ...process.env,
          PGHOST: cluster.host,
          PGPORT: String(cluster.port),
          PGPASSWORD: cluster.superuser.password,
        },
      },
      (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  databases.push(db.name);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-rollback-'));
  const loaded = await runLoad({
    databaseUrl: db.url,
    source: await snapshotOf(fixtureDoc, workDir),
    mappings: await loadMappings(),
    mode: 'cutover',
    runDir: path.join(workDir, 'run'),
    withoutBackup: true,
  });
  expect(loaded.outcome).toBe('committed');
  // As migration 008 left the production database (a copy of the test template does not keep it).
  await withClient(db.superuserUrl, (client) =>
    client.query(`REVOKE TEMPORARY ON DATABASE ${pg.escapeIdentifier(db.name)} FROM PUBLIC`),
  );
  api = await startApiOn(db);
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await db.pool.end().catch(() => {});
  for (const database of databases)
    await withClient(asSuperuser('postgres'), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`),
    );
  await rm(workDir, { recursive: true, force: true });
});

describe('rolling back the data after a migration', () => {
  it('restores the backup into a fresh database, switches to it, and the data and the API are as before', async () => {
    const before = await observe(db.name);
    expect(before.rows.projects.length).toBeGreaterThan(0);
    expect(before.api.projects).toEqual(before.rows.projects);
    expect(before.api.reviewsStatus).toBe(404);

    // The backup taken before the deploy, copied off the machine.
    const offsite = path.join(workDir, 'offsite');
    const env = { DATABASE_URL: db.superuserUrl, BACKUP_TARGET: undefined };
    const backup = await erp(['backup', '--dir', path.join(workDir, 'backups'), '--to', offsite], env);
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    const name = /Backup (portfolio-\S+\.dump): verified/.exec(backup.stdout)![1]!;

    // The deploy: a migration adding a table with a foreign key and a check constraint, then rows.
    const newer = path.join(workDir, 'migrations');
    await cp(MIGRATIONS_DIR, newer, { recursive: true });
    const numbers = (await readdir(newer)).map((file) => Number(/^(\d+)_/.exec(file)?.[1] ?? 0));
    const next = String(Math.max(...numbers) + 1).padStart(3, '0');
    await writeFile(
      path.join(newer, `${next}_rollback_rehearsal.sql`),
      `CREATE TABLE erp.project_reviews (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES erp.projects (id),
  verdict text NOT NULL
);
GRANT SELECT ON erp.project_reviews TO dashboard_reader;
ALTER TABLE erp.projects ADD CONSTRAINT projects_name_not_blank CHECK (btrim(name) <> '');
`,
    );
    expect((await migrate(db.url, { dir: newer })).applied).toEqual([`${next}_rollback_rehearsal`]);
    const [first] = before.rows.projects as { id: number }[];
    await db.query(`INSERT INTO erp.project_reviews (project_id, verdict) VALUES ($1, 'ok')`, [first!.id]);
    await db.query(`UPDATE erp.projects SET name = 'Renamed after the migration' WHERE id = $1`, [first!.id]);
    await db.query(`NOTIFY pgrst, 'reload schema'`);
    const changed = await observe(db.name);
    expect(changed.rows.reviews).toBe(true);
    expect(changed.rows.projects).not.toEqual(before.rows.projects);

    // The runbook's commands, with this test's names for the databases and the folder of copies.
    const renamed = (word: string) =>
      word.replace(/\bportfolio(_before_rollback|_rollback)?\b/g, (_, suffix: string | undefined) =>
        suffix === '_before_rollback' ? `${db.name}_before` : suffix ? `${db.name}_rollback` : db.name,
      );
    databases.push(`${db.name}_before`, `${db.name}_rollback`);
    const done: string[] = [];
    for (const command of await runbookCommands()) {
      const words = shellWords(command);
      const erpArgs = (args: string[]) =>
        args.map((arg, index) =>
          args[index - 1] === '--from' ? offsite : arg === '<backup>' ? name : renamed(arg),
        );
      if (command.startsWith('docker compose run --rm backup backup ')) {
        const result = await erp(erpArgs(words.slice(5)), env);
        expect(result.code, `${command}\n${result.stdout}${result.stderr}`).toBe(0);
        if (words[5] === 'list') expect(result.stdout).toContain(name);
      } else if (command.startsWith('docker compose stop ')) {
        // Nothing may stay connected to a database being renamed: the API and this test's pool.
        await api!.stop();
        api = undefined;
        await db.pool.end();
      } else if (command.startsWith('docker compose exec -T postgres-erp psql ')) {
        const args = words
          .slice(5)
          .map((word, index, all) =>
            all[index - 1] === '-U' ? testCluster().superuser.user : renamed(word),
          );
        await psql(args);
      } else if (command === 'docker compose up -d') {
        // migrate, with the previous release's migrations (this code's), then the API.
        expect((await migrate(db.url)).applied).toEqual([]);
        api = await startApiOn(db);
      } else if (command === 'docker compose run --rm erp-cli validate') {
        const validate = await erp(['validate'], { DATABASE_URL: db.url });
        expect(validate.code, validate.stdout + validate.stderr).toBe(0);
      } else if (command !== 'git checkout <previous-tag>' && command !== 'deploy/set-release-version.sh') {
        throw new Error(`${SECTION}: a command this rehearsal does not know: ${command}`);
      }
      done.push(words.slice(0, 5).join(' '));
    }
    expect(done).toEqual(
      expect.arrayContaining(['docker compose stop postgrest-erp agent-sweep', 'docker compose up -d']),
    );

    const after = await observe(db.name);
    expect(after).toEqual(before);
    // The data written after the migration is kept aside, in the database switched away from.
    const aside = await withClient(
      asSuperuser(`${db.name}_before`),
      async (client) => (await client.query('SELECT verdict FROM erp.project_reviews')).rows,
    );
    expect(aside).toEqual([{ verdict: 'ok' }]);
  }, 180_000);
});
