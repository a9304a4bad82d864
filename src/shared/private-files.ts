/**
 * Files that hold business data (Coda snapshots, run reports, backups) are readable by their
 * owner alone: created 0600 inside folders made 0700, whatever the umask, so another account on
 * the machine cannot read the doc's rows.
 */
import { chmod, mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';

const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

/** Creates the folder (and missing parents) 0700; an existing folder is made 0700 too. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/** Writes the file 0600; an existing file keeps its mode on write, so it is set again. */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data, { mode: PRIVATE_FILE_MODE });
  await chmod(file, PRIVATE_FILE_MODE);
}

/** Opens a new file 0600 for writing (fails if it exists: flag 'wx'). */
export function openNewPrivateFile(file: string): Promise<FileHandle> {
  return open(file, 'wx', PRIVATE_FILE_MODE);
}
