/**
 * Local development secrets (embedded superuser and owner passwords, the dev JWT secret):
 * generated once, kept in the git-ignored data folder with owner-only permissions, and never
 * printed. Production secrets come from the environment instead (see .env.example).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Every placeholder in .env.example contains this, so a copied example never goes live. */
export const PLACEHOLDER_MARKER = 'change-me';

export async function loadOrCreateSecret(dataDir: string, name: string): Promise<string> {
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, name);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** A connection string fit for logs: the password, if any, replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable connection string>';
  }
}
