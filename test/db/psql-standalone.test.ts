/**
 * The owner runs the migration files and the validation script with plain psql in production;
 * prove that works on an empty Postgres 15, outside the runner.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, readMigrationFiles } from '../../src/db/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const run = promisify(execFile);
const psqlAvailable = spawnSync('psql', ['--version']).status === 0;
if (!psqlAvailable)
  console.warn(
    'NOTICE: psql is not installed; the plain-psql migration test is skipped (apt-get install postgresql-client-15).',
  );

describe.skipIf(!psqlAvailable)('plain psql', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const psql = (file: string) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url, '-f', file]);

  it('applies every migration file in order and validate_schema.sql then passes', async () => {
    for (const migration of await readMigrationFiles()) await psql(migration.file);
    const { stderr } = await psql(path.join(MIGRATIONS_DIR, 'validate_schema.sql'));
    expect(stderr).toMatch(/validate_schema: OK/);
  });
});
