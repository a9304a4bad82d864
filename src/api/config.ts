/**
 * PostgREST's configuration, as the PGRST_* environment variables it reads. The settings that do
 * not depend on where it runs are defined once here; compose.yaml repeats them for production
 * and a test checks that both agree.
 */
import { ANONYMOUS_ROLE } from './roles.ts';

/** The exposed schemas; the first is the default when a request names none. */
export const API_SCHEMAS = ['erp', 'agent'] as const;
export type ApiSchema = (typeof API_SCHEMAS)[number];

/** Holds the pre-request check; PostgREST calls into it but never serves it. */
export const API_SUPPORT_SCHEMA = 'postgrest';

/** Helpers of the agent functions (migration 016), the owner-rights memory search among them: never served. */
export const AGENT_PRIVATE_SCHEMA = 'agent_private';

/** The `aud` every token must carry; a token for another audience is refused. */
export const DEFAULT_JWT_AUDIENCE = 'erp-db.bestviable.com';

/**
 * The most rows one GET returns. PostgREST buffers a whole response in memory, so this is what
 * keeps one request from exhausting a 100 MB container (or a 300 MB database's work memory).
 */
export const MAX_ROWS = 1000;

/**
 * The largest request body the API accepts, enforced in front of PostgREST (Traefik's buffering
 * middleware in compose.yaml, the local proxy in schema-proxy.ts), which answer 413 without
 * passing the body on. PostgREST needs tens of MB of heap per MB of JSON it parses; 1 MiB (about
 * 2,000 ordinary rows in one bulk insert) keeps it far below its 80 MB heap cap.
 */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** Requests a second on average, and how many may come at once before the average applies. */
export interface RateLimit {
  average: number;
  burst: number;
}

/**
 * How fast one token, and one address, may send requests: Traefik's ratelimit middlewares in
 * compose.yaml (per Authorization header, per Cf-Connecting-Ip) and the local proxy answer 429
 * past them. The row limits bound what one request may change; these bound how many come in a
 * row (50 deletes of 20 rows in two seconds, a prefix search of 2,000 requests), while an agent
 * that pages through a table or a dashboard that loads a dozen panels at once stays under them.
 */
export const RATE_LIMITS: { perToken: RateLimit; perAddress: RateLimit } = {
  perToken: { average: 10, burst: 40 },
  perAddress: { average: 30, burst: 120 },
};

/**
 * How long a client may take to send its request's headers, and its whole request, before the
 * proxy answers 408 and closes the connection (Traefik's entry point has its own read timeout);
 * and how many connections the local proxy holds at once.
 */
export const CLIENT_TIMEOUTS_MS = { headers: 10_000, request: 30_000 } as const;
export const MAX_PROXY_CONNECTIONS = 256;

/** Connections PostgREST holds in production (PostgREST's default); more requests wait for one. */
export const PRODUCTION_DB_POOL = 10;

/** Settings identical in every environment. */
export const SHARED_POSTGREST_SETTINGS = {
  PGRST_DB_SCHEMAS: API_SCHEMAS.join(','),
  PGRST_DB_ANON_ROLE: ANONYMOUS_ROLE,
  // Rejects tokens without aud or exp, which PostgREST 12 itself accepts (see 003_api_roles.sql).
  PGRST_DB_PRE_REQUEST: `${API_SUPPORT_SCHEMA}.check_request`,
  PGRST_DB_MAX_ROWS: String(MAX_ROWS),
  PGRST_DB_EXTRA_SEARCH_PATH: '',
  PGRST_JWT_ROLE_CLAIM_KEY: '.role',
  PGRST_OPENAPI_MODE: 'follow-privileges',
  // Query plans reveal table sizes and indexes to any caller.
  PGRST_DB_PLAN_ENABLED: 'false',
  // Needed for the per-role statement_timeout: PostgREST reads role settings only with db-config on.
  PGRST_DB_CONFIG: 'true',
  PGRST_DB_CHANNEL_ENABLED: 'true',
  PGRST_LOG_LEVEL: 'warn',
  // Caps the Haskell heap below the 100 MB container limit, so an oversized request fails alone
  // instead of the container being killed; the same cap locally shows production behaviour.
  GHCRTS: '-M80m',
} as const;

export interface PostgrestEnvironmentOptions {
  /** Connection string of the authenticator role (holds its password). */
  dbUri: string;
  jwtSecret: string;
  jwtAudience: string;
  host: string;
  port: number;
  adminPort: number;
  /** Connections PostgREST may hold; production uses PRODUCTION_DB_POOL. */
  dbPool?: number;
}

export function postgrestEnvironment(options: PostgrestEnvironmentOptions): Record<string, string> {
  return {
    ...SHARED_POSTGREST_SETTINGS,
    PGRST_DB_URI: options.dbUri,
    PGRST_JWT_SECRET: options.jwtSecret,
    PGRST_JWT_AUD: options.jwtAudience,
    PGRST_SERVER_HOST: options.host,
    PGRST_SERVER_PORT: String(options.port),
    PGRST_ADMIN_SERVER_PORT: String(options.adminPort),
    ...(options.dbPool === undefined ? {} : { PGRST_DB_POOL: String(options.dbPool) }),
  };
}
