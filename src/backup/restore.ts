/**
 * `erp backup restore`: a copy fetched back from the target and restored into a FRESH database
 * on the same server, never over the live one (a backup restored in place fails once a newer
 * migration added anything). The runbook then switches to it by renaming the databases.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { makePrivateDir } from '../shared/private-files.ts';
import type { BackupTarget } from './targets.ts';
import { databaseExists, dropDatabase, type RestoredContents, restoreIntoNewDatabase } from './verify.ts';

export type RestoreOutcome =
  | { ok: true; name: string; target: string; database: string; contents: RestoredContents }
  | { ok: false; target: string; problem: 'no-backup'; name?: string }
  | { ok: false; target: string; problem: 'database-exists'; database: string }
  | { ok: false; target: string; problem: 'restore-failed'; name: string; database: string; error: string };

export interface RestoreOptions {
  /** Any database on the server, as the owner: the new database is created beside it. */
  serverUrl: string;
  target: BackupTarget;
  /** A backup's name; the newest when absent. */
  name?: string;
  /** The new database's name. */
  into: string;
  /** Where the copy is fetched to; it is deleted after the restore. */
  workDir: string;
}

export async function restoreFromTarget(options: RestoreOptions): Promise<RestoreOutcome> {
  const { target, serverUrl, into } = options;
  const stored = await target.list();
  const chosen = options.name ? stored.find(({ name }) => name === options.name) : stored[0];
  if (!chosen) return { ok: false, target: target.label, problem: 'no-backup', name: options.name };
  if (await databaseExists(serverUrl, into))
    return { ok: false, target: target.label, problem: 'database-exists', database: into };
  await makePrivateDir(options.workDir);
  const file = path.join(options.workDir, `.restoring-${chosen.name}`);
  try {
    await target.download(chosen.name, file);
    const contents = await restoreIntoNewDatabase(serverUrl, into, file);
    return { ok: true, name: chosen.name, target: target.label, database: into, contents };
  } catch (error) {
    // An empty database left behind would make the next attempt refuse.
    await dropDatabase(serverUrl, into).catch(() => {});
    return {
      ok: false,
      target: target.label,
      problem: 'restore-failed',
      name: chosen.name,
      database: into,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await rm(file, { force: true });
  }
}
