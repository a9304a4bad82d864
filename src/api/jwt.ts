/**
 * HS256 JSON Web Tokens for PostgREST, made with node:crypto: the format is small enough that a
 * dependency would add more to audit than it saves.
 */
import { createHmac } from 'node:crypto';
import { CROSS_CLIENT_ROLE } from './roles.ts';

/** PostgREST 12 silently fails signature checks with a shorter secret instead of refusing it. */
export const MIN_JWT_SECRET_LENGTH = 32;

export function checkJwtSecret(secret: string): void {
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new Error(
      `The JWT secret has ${secret.length} characters; PostgREST needs at least ${MIN_JWT_SECRET_LENGTH} ` +
        `(generate one with: openssl rand -base64 48)`,
    );
  }
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Signs any claims as given: the tests use it to forge tokens that mintToken would refuse to make. */
export function signToken(claims: Record<string, unknown>, secret: string): string {
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/**
 * The longest a token may live. A leaked token is usable until it expires; postgrest.check_request()
 * refuses any token expiring later than this (migration 008), so a longer one would not work anyway.
 */
const MAX_TOKEN_LIFETIME_SECONDS = 90 * 86_400;

export interface TokenRequest {
  secret: string;
  role: string;
  audience: string;
  expiresInSeconds: number;
  /** Limits the agent memory tables to this client (row-level security). */
  clientId?: string;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
}

export interface MintedToken {
  token: string;
  expiresAt: Date;
}

export function mintToken({
  secret,
  role,
  audience,
  expiresInSeconds,
  clientId,
  now,
}: TokenRequest): MintedToken {
  checkJwtSecret(secret);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0)
    throw new Error('A token must expire: give a positive lifetime');
  if (expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS)
    throw new Error(
      `A token may live at most ${MAX_TOKEN_LIFETIME_SECONDS / 86_400} days (90d); mint a new one before it expires`,
    );
  if (clientId !== undefined && clientId.trim() === '') throw new Error('The client id must not be empty');
  if (clientId !== undefined && role === CROSS_CLIENT_ROLE)
    throw new Error(`${CROSS_CLIENT_ROLE} works across clients: give it no client id`);
  const issuedAt = now ?? Math.floor(Date.now() / 1000);
  const exp = issuedAt + expiresInSeconds;
  const claims = {
    role,
    aud: audience,
    iat: issuedAt,
    exp,
    ...(clientId === undefined ? {} : { client_id: clientId }),
  };
  return { token: signToken(claims, secret), expiresAt: new Date(exp * 1000) };
}

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** '90s', '15m', '1h', '30d' to seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const amount = Number(match?.[1]);
  if (!match || amount <= 0)
    throw new Error(
      `Cannot read the duration "${text}": use a positive number and a unit, e.g. 90s, 15m, 1h, 30d`,
    );
  return amount * DURATION_UNITS[match[2] as keyof typeof DURATION_UNITS];
}
