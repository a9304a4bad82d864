/**
 * Local development secrets (embedded superuser and owner passwords, the dev JWT secret):
 * generated once, kept in the git-ignored data folder with owner-only permissions, and never
 * printed. Production secrets come from files instead: compose.yaml mounts them as compose
 * secrets and names each in a NAME_FILE variable (readSecretFiles).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

/**
 * The secrets `erp` reads from the environment that may come as a file instead: NAME_FILE holds
 * the path, as the postgres image reads POSTGRES_PASSWORD_FILE. PGPASSWORD is the owner's
 * password when DATABASE_URL carries none.
 */
const FILE_VARIABLES = [
  'PGPASSWORD',
  'JWT_SECRET',
  'AUTHENTICATOR_PASSWORD',
  'PLANNER_API_PASSWORD',
  'MEMORY_GATEWAY_PASSWORD',
  'CODA_API_TOKEN',
  // The off-site backup bucket's keys (src/backup/targets.ts).
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
];

/** Sets NAME from the file NAME_FILE names, trailing line breaks removed; both set is refused. */
export function readSecretFiles(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new Error(`both ${name} and ${name}_FILE are set; keep one`);
    let value: string;
    try {
      value = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(
        `${name}_FILE names ${file}, which cannot be read (${(error as Error).message}); create the secret files with deploy/make-secrets.sh (docs/RUNBOOK.md, First deploy)`,
      );
    }
    env[name] = value.replace(/[\r\n]+$/, '');
  }
}
