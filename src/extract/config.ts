/**
 * Where the Coda API is and how to authenticate, from flags first, then the environment:
 * CODA_API_TOKEN, CODA_API_BASE_URL, CODA_RATE_LIMIT. The token is only ever put in the
 * Authorization header; nothing here includes it in a message.
 */
import { readFile } from 'node:fs/promises';

export const DEFAULT_BASE_URL = 'https://coda.io/apis/v1';

export interface RateLimit {
  requests: number;
  intervalMs: number;
}

/** Coda publishes 100 reads per 6 s per user; other clients still see 429s at that rate, hence the margin. */
export const DEFAULT_RATE_LIMIT: RateLimit = { requests: 80, intervalMs: 6_000 };

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const;

/** Parses "80/6s", "20/200ms", "100/1m" or "10/s" (requests per interval). */
export function parseRateLimit(text: string): RateLimit {
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m)\s*$/.exec(text);
  const requests = Number(match?.[1]);
  const intervalMs = Number(match?.[2] ?? 1) * UNIT_MS[(match?.[3] ?? 's') as keyof typeof UNIT_MS];
  if (!match || requests < 1 || !(intervalMs > 0)) {
    throw new Error(
      `rate limit "${text}" is not of the form REQUESTS/INTERVAL, for example 80/6s or 20/200ms`,
    );
  }
  return { requests, intervalMs };
}

export function formatRateLimit(rate: RateLimit): string {
  return rate.intervalMs % 1_000 === 0
    ? `${rate.requests}/${rate.intervalMs / 1_000}s`
    : `${rate.requests}/${rate.intervalMs}ms`;
}

/** The base URL as it may be shown or recorded: no user, password, query or fragment. */
export function displayBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/$/, '');
}

export interface ConnectionSettings {
  baseUrl?: string;
  /** A file holding the token: keeps it out of the process list and shell history, unlike a flag. */
  tokenFile?: string;
  rateLimit?: string;
}

export interface CodaConnection {
  baseUrl: string;
  token: string;
  rateLimit: RateLimit;
}

export async function resolveConnection(
  settings: ConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CodaConnection> {
  const baseUrl = settings.baseUrl ?? env.CODA_API_BASE_URL ?? DEFAULT_BASE_URL;
  if (!/^https?:$/.test(safeProtocol(baseUrl))) {
    throw new Error('the Coda API base URL (--base-url or CODA_API_BASE_URL) must be an http(s) URL');
  }
  const token = (
    settings.tokenFile ? await readTokenFile(settings.tokenFile) : (env.CODA_API_TOKEN ?? '')
  ).trim();
  if (!token) {
    throw new Error(
      'no Coda API token: set CODA_API_TOKEN (create one under Account settings > API settings in Coda) or pass --token-file FILE',
    );
  }
  const rateText = settings.rateLimit ?? env.CODA_RATE_LIMIT;
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    token,
    rateLimit: rateText ? parseRateLimit(rateText) : DEFAULT_RATE_LIMIT,
  };
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

async function readTokenFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}
