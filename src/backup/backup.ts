/**
 * `erp backup`: a whole-database dump named with its time, verified by a trial restore, the
 * newest `keep` kept in the local folder and, when the operator names a target, copied off the
 * machine with the same number kept there. A cutover's own backup goes through secureBackup too,
 * after the cutover, so the load never waits for the copy.
 *
 * Returns what happened as data; src/report/backup.ts words it.
 */
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { timeStamp } from '../shared/time-stamp.ts';
import { dumpDatabase } from './dump.ts';
import { type BackupTarget, directoryTarget, newestFirst } from './targets.ts';
import { type Verification, verifyBackup } from './verify.ts';

export const DEFAULT_KEEP = 14;

/** The suffix a dump gets when its trial restore failed: no `*.dump` glob (nor `erp doctor`) takes it for a backup. */
const UNVERIFIED_SUFFIX = '.unverified';

export type CopyOutcome =
  | { target: string; ok: true; pruned: string[] }
  | { target: string; ok: false; error: string };

export interface BackupOutcome {
  name: string;
  /** Where the dump is now (renamed when it failed verification). */
  file: string;
  verification: Verification;
  /** Older backups removed from the local folder to keep `keep`. */
  localPruned: string[];
  /** Absent when no target was named, or when the dump failed verification (then nothing is copied). */
  copy?: CopyOutcome;
}

export interface SecureOptions {
  databaseUrl: string;
  keep: number;
  target?: BackupTarget;
  /** The local folder whose backups are pruned to `keep` (a cutover's run folder is not). */
  localDir?: string;
}

/** Keeps the newest `keep` backups there; returns the names removed. */
async function prune(target: BackupTarget, keep: number): Promise<string[]> {
  const old = newestFirst(await target.list()).slice(keep);
  for (const { name } of old) await target.remove(name);
  return old.map(({ name }) => name);
}

/** Verifies a dump already taken, then prunes the local folder and copies it to the target. */
export async function secureBackup(
  file: string,
  name: string,
  options: SecureOptions,
): Promise<BackupOutcome> {
  const verification = await verifyBackup(options.databaseUrl, file);
  if (!verification.ok) {
    const unverified = `${file}${UNVERIFIED_SUFFIX}`;
    await rename(file, unverified);
    return { name, file: unverified, verification, localPruned: [] };
  }
  const localPruned = options.localDir ? await prune(directoryTarget(options.localDir), options.keep) : [];
  if (!options.target) return { name, file, verification, localPruned };
  const { target } = options;
  let copy: CopyOutcome;
  try {
    await target.upload(file, name);
    copy = { target: target.label, ok: true, pruned: await prune(target, options.keep) };
  } catch (error) {
    copy = { target: target.label, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  return { name, file, verification, localPruned, copy };
}

export function backupName(at: Date, takenBy?: string): string {
  return `portfolio-${timeStamp(at)}${takenBy ? `-${takenBy}` : ''}.dump`;
}

export async function takeBackup(
  options: SecureOptions & { dir: string; at?: Date },
): Promise<BackupOutcome> {
  const name = backupName(options.at ?? new Date());
  const file = path.join(options.dir, name);
  await dumpDatabase(options.databaseUrl, file);
  return secureBackup(file, name, { ...options, localDir: options.dir });
}
