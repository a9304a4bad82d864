import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT,
  displayBaseUrl,
  parseRateLimit,
  resolveConnection,
} from '../../src/extract/index.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../src/extract/retry-policy.ts';
import { tempDir } from './helpers.ts';

describe('configuration', () => {
  it('parses rates as requests per interval', () => {
    expect(parseRateLimit('80/6s')).toEqual({ requests: 80, intervalMs: 6_000 });
    expect(parseRateLimit(' 20 / 200ms ')).toEqual({ requests: 20, intervalMs: 200 });
    expect(parseRateLimit('100/1m')).toEqual({ requests: 100, intervalMs: 60_000 });
    expect(parseRateLimit('10/s')).toEqual({ requests: 10, intervalMs: 1_000 });
    for (const bad of ['', '80', '0/6s', '80/0s', 'fast', '80/6h'])
      expect(() => parseRateLimit(bad)).toThrow(/not of the form REQUESTS\/INTERVAL/);
  });

  it('defaults to Coda, with a token trimmed of whitespace', async () => {
    const connection = await resolveConnection({}, { CODA_API_TOKEN: ' secret\n' });
    expect(connection).toEqual({ baseUrl: DEFAULT_BASE_URL, token: 'secret', rateLimit: DEFAULT_RATE_LIMIT });
  });

  it('takes flags over the environment, and a token file over CODA_API_TOKEN', async () => {
    const tokenFile = path.join(await tempDir(), 'token');
    await writeFile(tokenFile, 'from-file\n');
    const env = {
      CODA_API_TOKEN: 'from-env',
      CODA_API_BASE_URL: 'http://env.example/apis/v1/',
      CODA_RATE_LIMIT: '5/1s',
    };
    expect(await resolveConnection({}, env)).toEqual({
      baseUrl: 'http://env.example/apis/v1',
      token: 'from-env',
      rateLimit: { requests: 5, intervalMs: 1_000 },
    });
    expect(
      await resolveConnection({ baseUrl: 'http://flag.example/v1', tokenFile, rateLimit: '7/2s' }, env),
    ).toEqual({
      baseUrl: 'http://flag.example/v1',
      token: 'from-file',
      rateLimit: { requests: 7, intervalMs: 2_000 },
    });
  });

  it('explains how to provide a token, and never repeats a base URL that may hold credentials', async () => {
    await expect(resolveConnection({}, {})).rejects.toThrow(
      /no Coda API token: set CODA_API_TOKEN .* or pass --token-file FILE/,
    );
    await expect(resolveConnection({ tokenFile: '/nonexistent/token' }, {})).rejects.toThrow(
      'cannot read the token file /nonexistent/token: ENOENT',
    );
    await expect(
      resolveConnection({ baseUrl: 'ftp://user:pw@host' }, { CODA_API_TOKEN: 't' }),
    ).rejects.toThrow(/must be an http\(s\) URL$/);
    expect(displayBaseUrl('https://user:pw@coda.example/apis/v1/?key=1#x')).toBe(
      'https://coda.example/apis/v1',
    );
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 01 May 2024 11:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('backs off exponentially, jittered within the upper half of each step, up to the cap', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1_000, maxDelayMs: 8_000 };
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000,
    ]);
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, () => 0.999_999))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000,
    ]);
  });
});
