/**
 * The API on a developer's machine: PostgREST against the embedded (or DATABASE_URL) database,
 * behind the schema-prefix proxy, on free loopback ports. Development secrets (JWT secret,
 * authenticator password) live in the git-ignored data folder; JWT_SECRET, JWT_AUDIENCE and
 * AUTHENTICATOR_PASSWORD in the environment take precedence, as in production.
 */
import { withClient } from '../db/client.ts';
import { loadOrCreateSecret } from '../db/secrets.ts';
import type { DatabaseTarget } from '../db/target.ts';
import { DEFAULT_JWT_AUDIENCE, SHARED_POSTGREST_SETTINGS } from './config.ts';
import { checkJwtSecret } from './jwt.ts';
import { startPostgrest, type RunningPostgrest } from './postgrest.ts';
import { setLoginRolePasswords } from './role-passwords.ts';
import { AUTHENTICATOR_ROLE, LOGIN_ROLE_PASSWORD_VARIABLES } from './roles.ts';
import {
  PRODUCTION_PROXY_LIMITS,
  startSchemaProxy,
  type ProxyLimits,
  type RunningProxy,
} from './schema-proxy.ts';
import { freePort } from '../shared/ports.ts';

const HOST = '127.0.0.1';

export interface SigningKey {
  secret: string;
  audience: string;
}

export async function signingKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SigningKey> {
  const secret = env.JWT_SECRET || (await loadOrCreateSecret(dataDir, 'jwt-secret'));
  checkJwtSecret(secret);
  return { secret, audience: env.JWT_AUDIENCE || DEFAULT_JWT_AUDIENCE };
}

async function requireApiRoles(target: DatabaseTarget): Promise<void> {
  const { rows } = await withClient(target.url, (client) =>
    client.query<{ ready: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AND to_regprocedure($2) IS NOT NULL AS ready`,
      [AUTHENTICATOR_ROLE, `${SHARED_POSTGREST_SETTINGS.PGRST_DB_PRE_REQUEST}()`],
    ),
  );
  if (!rows[0]?.ready)
    throw new Error(`${target.label} has no API roles yet: run \`npm run erp -- migrate\` first`);
}

/**
 * The embedded database gets the development password; a configured one must be given
 * AUTHENTICATOR_PASSWORD, so a local run never changes a shared server's password.
 */
async function authenticatorPassword(
  target: DatabaseTarget,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const variable = LOGIN_ROLE_PASSWORD_VARIABLES[AUTHENTICATOR_ROLE];
  const fromEnv = env[variable];
  if (fromEnv) return fromEnv;
  if (!target.embedded) throw new Error(`With DATABASE_URL, set ${variable} to the authenticator's password`);
  const password = await loadOrCreateSecret(dataDir, AUTHENTICATOR_ROLE);
  await setLoginRolePasswords(target.url, { [AUTHENTICATOR_ROLE]: password });
  return password;
}

export interface LocalApi {
  postgrest: RunningPostgrest;
  /** Serves /erp/... and /agent/... as well as header-based requests. */
  proxy: RunningProxy;
  signingKey: SigningKey;
  stop(): Promise<void>;
}

export async function startLocalApi(
  target: DatabaseTarget,
  {
    dataDir,
    env = process.env,
    dbPool,
    proxyLimits = PRODUCTION_PROXY_LIMITS,
    log,
  }: {
    dataDir: string;
    env?: NodeJS.ProcessEnv;
    dbPool?: number;
    /** The proxy's rate limits, client timeouts and connection cap; production's by default. */
    proxyLimits?: ProxyLimits;
    log?: (line: string) => void;
  },
): Promise<LocalApi> {
  await requireApiRoles(target);
  const key = await signingKey(dataDir, env);
  const dbUri = new URL(target.url);
  dbUri.username = AUTHENTICATOR_ROLE;
  dbUri.password = await authenticatorPassword(target, dataDir, env);
  const postgrest = await startPostgrest({
    dbUri: dbUri.toString(),
    jwtSecret: key.secret,
    jwtAudience: key.audience,
    host: HOST,
    port: await freePort(),
    adminPort: await freePort(),
    dbPool,
    log,
  });
  try {
    const proxy = await startSchemaProxy({
      target: postgrest.url,
      host: HOST,
      port: await freePort(),
      limits: proxyLimits,
    });
    return {
      postgrest,
      proxy,
      signingKey: key,
      // Both start stopping at once, synchronously: a caller may be inside a signal handler.
      stop: async () => {
        await Promise.all([postgrest.stop(), proxy.stop()]);
      },
    };
  } catch (error) {
    await postgrest.stop();
    throw error;
  }
}
