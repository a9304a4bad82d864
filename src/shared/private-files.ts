/**
 * Files that hold business data (backups) are readable by their owner only: 0600 files in 0700
 * folders, whatever the umask says.
 */
import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';

export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves a folder that already existed as it was, and its mode is masked by the umask.
  await chmod(dir, 0o700);
}

/** A new file (never an existing one) that only its owner can read and write. */
export async function createPrivateFile(file: string): Promise<FileHandle> {
  const handle = await open(file, 'wx', 0o600);
  await handle.chmod(0o600);
  return handle;
}
