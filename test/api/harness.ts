/**
 * A real PostgREST 12.0.2 (and the schema-prefix proxy) on a fresh test database, started the
 * way `erp api` starts it. One per test file; stop() in afterAll.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_JWT_AUDIENCE } from '../../src/api/config.ts';
import { mintToken } from '../../src/api/jwt.ts';
import { startLocalApi, type LocalApi } from '../../src/api/local-api.ts';
import { PRODUCTION_PROXY_LIMITS } from '../../src/api/schema-proxy.ts';
import { setLoginRolePasswords } from '../../src/api/role-passwords.ts';
import { AUTHENTICATOR_ROLE, type LoginRole } from '../../src/api/roles.ts';
import { connectionUrl } from '../../src/db/target.ts';
import { createTestDatabase, testCluster, type TestDatabase } from '../support/db.ts';

export const TEST_JWT_SECRET = 'test-jwt-secret-long-enough-for-postgrest-0123456789';

/**
 * Login roles are cluster-wide and PostgREST reconnects with the password at any time, so every
 * test file uses these same values: a file setting its own would break another file's server.
 */
export const TEST_LOGIN_PASSWORDS: Record<LoginRole, string> = {
  authenticator: 'test-authenticator-password',
  planner_api: 'test-planner-api-password',
  memory_gateway: 'test-memory-gateway-password',
};

/** The URL a login role uses to reach a test database. */
export function loginUrl(role: LoginRole, database: string): string {
  const { host, port } = testCluster();
  return connectionUrl({ user: role, password: TEST_LOGIN_PASSWORDS[role], host, port, database });
}

async function canLogIn(role: LoginRole, database: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: loginUrl(role, database) });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Sets the shared test passwords once per run. Two files doing it at the same moment may collide
 * on the shared catalog row ("tuple concurrently updated"); the loser retries and then finds the
 * password already set.
 */
export async function ensureTestLoginPasswords(db: TestDatabase): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const missing: LoginRole[] = [];
    for (const role of Object.keys(TEST_LOGIN_PASSWORDS) as LoginRole[])
      if (!(await canLogIn(role, db.name))) missing.push(role);
    if (!missing.length) return;
    try {
      await setLoginRolePasswords(
        db.superuserUrl,
        Object.fromEntries(missing.map((role) => [role, TEST_LOGIN_PASSWORDS[role]])),
      );
      return;
    } catch (error) {
      if (attempt >= 5 || !/concurrently/.test(String(error))) throw error;
      await sleep(50 * attempt);
    }
  }
}

export interface RequestOptions {
  method?: string;
  /** Mint a valid token for this role; omit for an anonymous request. */
  role?: string;
  clientId?: string;
  /** A ready-made token (forged, expired ...), instead of role. */
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Send to the schema-prefix proxy instead of PostgREST itself. */
  viaProxy?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read PostgREST bodies of many shapes and assert them with expect
  body: any;
}

export interface ApiUnderTest {
  db: TestDatabase;
  api: LocalApi;
  token(role: string, options?: { clientId?: string }): string;
  request(path: string, options?: RequestOptions): Promise<ApiResponse>;
  stop(): Promise<void>;
}

/**
 * Several test files run at once under authenticator's cluster-wide connection limit (12), so
 * each PostgREST gets a small pool; the abuse suite asks for a bigger one. The proxy has
 * production's limits but no rate limit: tests send hundreds of requests from one address on
 * purpose, and the rate limits are tested on a proxy of their own (test/api/proxy.test.ts).
 */
export async function startApiUnderTest({ dbPool = 3 }: { dbPool?: number } = {}): Promise<ApiUnderTest> {
  const db = await createTestDatabase();
  try {
    const api = await startApiOn(db, { dbPool });
    return {
      ...api,
      stop: async () => {
        await api.stop();
        await db.drop();
      },
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

/** PostgREST and the proxy on a database the caller owns; `stop` stops them and leaves the database. */
export async function startApiOn(
  db: TestDatabase,
  { dbPool = 3 }: { dbPool?: number } = {},
): Promise<ApiUnderTest> {
  await ensureTestLoginPasswords(db);
  const api = await startLocalApi(
    { url: db.url, label: db.name, close: async () => {} },
    {
      dataDir: '/nonexistent', // every secret comes from env, as in production
      env: {
        JWT_SECRET: TEST_JWT_SECRET,
        AUTHENTICATOR_PASSWORD: TEST_LOGIN_PASSWORDS[AUTHENTICATOR_ROLE],
      },
      dbPool,
      proxyLimits: { ...PRODUCTION_PROXY_LIMITS, rateLimits: null },
    },
  );
  const token = (role: string, { clientId }: { clientId?: string } = {}) =>
    mintToken({
      secret: TEST_JWT_SECRET,
      role,
      audience: DEFAULT_JWT_AUDIENCE,
      expiresInSeconds: 600,
      clientId,
    }).token;
  const request = async (path: string, options: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    const bearer =
      options.token ?? (options.role ? token(options.role, { clientId: options.clientId }) : undefined);
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const base = options.viaProxy ? api.proxy.url : api.postgrest.url;
    const response = await fetch(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body };
  };
  return { db, api, token, request, stop: () => api.stop() };
}
