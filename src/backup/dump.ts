/**
 * A whole-database backup: erp, agent, pipeline (the migration records, the runs and the row
 * history `erp undo` works from), in pg_dump's custom format, without roles (roles are
 * cluster-wide; `erp migrate` creates them). The file is 0600 in a 0700 folder: it holds all the
 * business data. Both `erp backup` and the backup a cutover takes first are made here.
 */
import path from 'node:path';
import { makePrivateDir, openNewPrivateFile } from '../shared/private-files.ts';
import { runPgTool } from './pg-tools.ts';

export async function dumpDatabase(databaseUrl: string, file: string): Promise<void> {
  await makePrivateDir(path.dirname(file));
  const output = await openNewPrivateFile(file);
  try {
    await runPgTool('pg_dump', databaseUrl, ['--format=custom'], output);
  } finally {
    await output.close();
  }
}
