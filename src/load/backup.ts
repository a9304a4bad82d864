/**
 * The backup a cutover takes before it loads anything, in its run folder: the same whole-database
 * dump as `erp backup` (src/backup/dump.ts). It restores with the commands in docs/RUNBOOK.md
 * ("Backup and restore"), onto the same server or a fresh one. Without pg_dump the cutover is
 * refused before anything changes.
 */
import path from 'node:path';
import { dumpDatabase } from '../backup/dump.ts';
import { findPgTool, PgToolMissingError } from '../backup/pg-tools.ts';
import { LoadRefusedError } from './lifecycle/with-run.ts';

export const BACKUP_FILE = 'portfolio-backup.dump';

export interface BackupResult {
  kind: 'pg_dump';
  path: string;
}

export async function backupDatabase(databaseUrl: string, dir: string): Promise<BackupResult> {
  try {
    await findPgTool('pg_dump');
  } catch (error) {
    if (!(error instanceof PgToolMissingError)) throw error;
    throw new LoadRefusedError({ code: 'no_pg_dump' });
  }
  const file = path.join(dir, BACKUP_FILE);
  await dumpDatabase(databaseUrl, file);
  return { kind: 'pg_dump', path: file };
}
