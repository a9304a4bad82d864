/**
 * migrations/validate_schema.sql, sent as one multi-statement simple query through node-postgres:
 * passes on the migrated database with a summary NOTICE, and fails naming what is missing on a
 * scratch database where objects were dropped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { dropDatabase } from './fixtures.ts';

const VALIDATE_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../migrations/validate_schema.sql',
);

let sql: string;
let migrated: TestDatabase;
let scratch: TestDatabase;

beforeAll(async () => {
  sql = await readFile(VALIDATE_FILE, 'utf8');
  [migrated, scratch] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});

afterAll(async () => {
  await Promise.all([dropDatabase(migrated), dropDatabase(scratch)]);
});

/** Runs the script on one connection, collecting NOTICE messages. */
async function runValidate(client: pg.PoolClient): Promise<string[]> {
  const notices: string[] = [];
  const onNotice = (notice: { message?: string }) => notices.push(notice.message ?? '');
  client.on('notice', onNotice);
  try {
    await client.query(sql);
  } finally {
    client.off('notice', onNotice);
  }
  return notices;
}

/** Applies `damage` in a transaction, runs the script, returns its error message, rolls back. */
async function failureAfter(damage: string): Promise<string> {
  const client = await scratch.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(damage);
    try {
      await runValidate(client);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`validate_schema.sql passed after: ${damage}`);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('validate_schema.sql', () => {
  it('passes on the migrated database and reports a summary', async () => {
    const client = await migrated.pool.connect();
    try {
      const notices = await runValidate(client);
      expect(notices).toEqual([
        'validate_schema: OK: erp 14 tables, agent 24 tables, 41 foreign keys (3 cross-schema), 28 updated_at triggers',
      ]);
    } finally {
      client.release();
    }
  });

  it('is read-only: running it twice gives the same result', async () => {
    const client = await migrated.pool.connect();
    try {
      expect(await runValidate(client)).toEqual(await runValidate(client));
    } finally {
      client.release();
    }
  });

  it('reports a dropped table as a missing table, not as the foreign keys that went with it', async () => {
    const message = await failureAfter('DROP TABLE erp.projects CASCADE');
    expect(message).toBe('validate_schema: missing table erp.projects');
  });

  it('names every missing table', async () => {
    const message = await failureAfter('DROP TABLE agent.block_actions; DROP TABLE erp.okrs');
    expect(message).toBe('validate_schema: missing table erp.okrs; missing table agent.block_actions');
  });

  it('refuses tables in public', async () => {
    const message = await failureAfter('CREATE TABLE public.stray (id int)');
    expect(message).toContain('unexpected table public.stray');
  });

  it('names a missing cross-schema foreign key', async () => {
    const message = await failureAfter(
      'ALTER TABLE agent.step_evaluations DROP CONSTRAINT step_evaluations_execution_run_id_fkey',
    );
    expect(message).toContain(
      'missing foreign key step_evaluations_execution_run_id_fkey (execution_run_id) on agent.step_evaluations -> erp.execution_runs',
    );
  });

  it('names a missing link between client tables with both its columns', async () => {
    const message = await failureAfter(
      'ALTER TABLE agent.events DROP CONSTRAINT events_client_id_session_id_fkey',
    );
    expect(message).toContain(
      'missing foreign key events_client_id_session_id_fkey (client_id, session_id) on agent.events -> agent.sessions',
    );
  });

  it('names a foreign key whose ON DELETE action changed', async () => {
    const message = await failureAfter(
      `ALTER TABLE agent.sessions DROP CONSTRAINT sessions_client_person_id_fkey;
       ALTER TABLE agent.sessions ADD CONSTRAINT sessions_client_person_id_fkey
         FOREIGN KEY (client_person_id) REFERENCES erp.people (id) ON DELETE CASCADE`,
    );
    expect(message).toContain(
      'foreign key sessions_client_person_id_fkey on agent.sessions is not ON DELETE SET NULL',
    );
  });

  it('names a foreign key without an index', async () => {
    const message = await failureAfter('DROP INDEX erp.tasks_sprint_id_idx');
    expect(message).toContain('foreign key tasks_sprint_id_fkey on erp.tasks has no index on (sprint_id)');
  });

  it('names a missing updated_at trigger', async () => {
    const message = await failureAfter('DROP TRIGGER facts_set_updated_at ON agent.facts');
    expect(message).toContain('missing trigger facts_set_updated_at on agent.facts');
  });

  it('names a missing generated column', async () => {
    const message = await failureAfter(
      'ALTER TABLE erp.execution_runs DROP COLUMN variance_pct; ALTER TABLE erp.execution_runs ADD COLUMN variance_pct numeric',
    );
    expect(message).toContain('missing generated column erp.execution_runs.variance_pct');
  });

  it('names a missing function', async () => {
    const message = await failureAfter('DROP FUNCTION agent.get_graph_neighbors(bigint)');
    expect(message).toBe('validate_schema: missing function agent.get_graph_neighbors(bigint)');
  });
});
