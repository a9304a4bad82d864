/**
 * Cutovers, plans and undos through the CLI against one test database, each command with a run
 * folder of its own, and the fixture doc with one project renamed in Coda.
 */
import path from 'node:path';
import type { Snapshot } from '../../src/extract/index.ts';
import { erp } from './cli.ts';
import { fixtureDoc, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

export const RENAMED_PROJECT = 'i-jNwDisc1A';

/** `where()` gives the database URL and the folder for run folders, once the test has them. */
export function erpInRunFolders(where: () => { databaseUrl: string; root: string }) {
  let runFolders = 0;
  return async (args: string[]) => {
    const { databaseUrl, root } = where();
    runFolders += 1;
    const runs = path.join(root, `runs-${runFolders}`);
    const result = await erp([...args, '--runs', runs], { DATABASE_URL: databaseUrl });
    return { ...result, output: result.stdout + result.stderr, runs };
  };
}

/** The fixture doc as Coda serves it after the owner renamed one project there. */
export function renamedProjectSnapshot(parentDir: string): Promise<Snapshot> {
  return snapshotOf(fixtureDoc, parentDir, (server) =>
    server.editRow(projectsTable.id, RENAMED_PROJECT, {
      [projectsTable.columnIds.name]: 'Northwind (renamed)',
    }),
  );
}
