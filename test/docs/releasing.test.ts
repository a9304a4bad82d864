/**
 * docs/RELEASING.md followed in a scratch clone of this checkout: the changelog edited as step 2
 * says, then the commands of its code block run verbatim through /bin/sh (the version number
 * changed to the next one; `npm version` played by a stand-in that edits package.json and
 * package-lock.json as npm does, without the network; `git push` acted out, there is no remote).
 * The release rules of test/support/releases.ts must hold before and after, with no tag, one and
 * several, and they must catch a release made half-way.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.ts';
import { releaseProblems, releaseTags } from '../support/releases.ts';

const RELEASE_FILES = ['CHANGELOG.md', 'package.json', 'package-lock.json', 'docs/RELEASING.md'];
/** Outside a git checkout (an unpacked archive) there is no history to clone. */
const gitCheckout =
  spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: REPO_ROOT, stdio: 'ignore' }).status === 0;

/** `npm version X --no-git-tag-version`, without npm: the version in package.json and package-lock.json. */
const NPM_VERSION = `
import { readFileSync, writeFileSync } from 'node:fs';
const [verb, version, flag] = process.argv.slice(2);
if (verb !== 'version' || flag !== '--no-git-tag-version' || !/^\\d+\\.\\d+\\.\\d+$/.test(version)) {
  console.error('the stand-in knows only: npm version X.Y.Z --no-git-tag-version');
  process.exit(1);
}
const edit = (file, change) => {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  change(json);
  writeFileSync(file, JSON.stringify(json, null, 2) + '\\n');
};
edit('package.json', (json) => { json.version = version; });
edit('package-lock.json', (json) => { json.version = version; json.packages[''].version = version; });
console.log('v' + version);
`;

let scratch: string;
let clone: string;
let bin: string;
const env = {
  PATH: process.env.PATH,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Release rehearsal',
  GIT_AUTHOR_EMAIL: 'release@example.invalid',
  GIT_COMMITTER_NAME: 'Release rehearsal',
  GIT_COMMITTER_EMAIL: 'release@example.invalid',
};
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: clone, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const version = () =>
  (JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8')) as { version: string }).version;

/** The shell commands of RELEASING.md's code block. */
const releaseCommands = [...readFileSync('docs/RELEASING.md', 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((match) => match[1]!.split('\n'))
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

/** Step 2: `## Unreleased` becomes the release, under a new empty `## Unreleased`. */
function editChangelog(next: string): void {
  const file = path.join(clone, 'CHANGELOG.md');
  const today = new Date().toISOString().slice(0, 10);
  const text = readFileSync(file, 'utf8');
  expect(text).toMatch(/^## Unreleased$/m);
  writeFileSync(file, text.replace(/^## Unreleased$/m, `## Unreleased\n\n## ${next} - ${today}`));
}

/** Steps 2 and 3 for the next minor version, as the doc writes them. */
function cutRelease(): string {
  const [major, minor] = version().split('.').map(Number);
  const next = `${major}.${minor! + 1}.0`;
  editChangelog(next);
  const example = /npm version (\d+\.\d+\.\d+)/.exec(releaseCommands.join('\n'))?.[1];
  expect(example, 'RELEASING.md shows `npm version X.Y.Z`').toBeDefined();
  for (const command of releaseCommands) {
    if (command.startsWith('git push')) continue; // publishing: no remote here
    const run = spawnSync('/bin/sh', ['-c', command.replaceAll(example!, next)], {
      cwd: clone,
      env: { ...env, PATH: `${bin}:${env.PATH}` },
      encoding: 'utf8',
    });
    expect(run.status, `$ ${command}\n${run.stdout}${run.stderr}`).toBe(0);
  }
  return next;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'erp-releasing-'));
  clone = path.join(scratch, 'clone');
  bin = path.join(scratch, 'bin');
  if (gitCheckout) {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', REPO_ROOT, clone], { env });
    git('checkout', '--quiet', '-B', 'main', head);
    git('remote', 'remove', 'origin');
    for (const tag of releaseTags(clone)) git('tag', '-d', tag);
  } else {
    // A copy without history (an unpacked archive): a new repository holding its release files.
    mkdirSync(path.join(clone, 'docs'), { recursive: true });
    git('init', '--quiet', '--initial-branch=main');
  }
  // What is being worked on, committed: the rehearsal starts from this checkout's files.
  for (const file of RELEASE_FILES) cpSync(path.join(REPO_ROOT, file), path.join(clone, file));
  git('add', ...RELEASE_FILES);
  if (git('status', '--porcelain')) git('commit', '--quiet', '-m', 'Work in progress');
  execFileSync('mkdir', [bin]);
  writeFileSync(path.join(scratch, 'npm-version.mjs'), NPM_VERSION);
  writeFileSync(
    path.join(bin, 'npm'),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(scratch, 'npm-version.mjs')}" "$@"\n`,
    { mode: 0o755 },
  );
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('following docs/RELEASING.md', () => {
  it('keeps the release rules with no tag, one tag, and a release cut after it', () => {
    expect(releaseProblems(clone)).toEqual([]);

    const first = version();
    git('tag', '-a', `v${first}`, '-m', `Release ${first}`);
    expect(releaseProblems(clone)).toEqual([]);

    const next = cutRelease();
    expect(git('log', '-1', '--format=%s')).toBe(`Release ${next}`);
    expect(git('rev-parse', `v${next}^{commit}`)).toBe(git('rev-parse', 'HEAD'));
    expect(version()).toBe(next);
    expect(releaseTags(clone).sort()).toEqual([`v${first}`, `v${next}`].sort());
    expect(releaseProblems(clone)).toEqual([]);

    // The first tag made after untagged releases: those need none.
    git('tag', '-d', `v${first}`);
    expect(releaseProblems(clone)).toEqual([]);

    // The previous release checked out: the later tag is outside its history and ignored.
    git('checkout', '--quiet', 'HEAD~1');
    expect(releaseProblems(clone)).toEqual([]);
    git('checkout', '--quiet', 'main');
  });

  it('catches a release made half-way: committed but not tagged, or a tag no changelog names', () => {
    const tagged = version();
    if (!releaseTags(clone).includes(`v${tagged}`)) git('tag', '-a', `v${tagged}`, '-m', 'Release');
    const [major, minor] = tagged.split('.').map(Number);
    const next = `${major}.${minor! + 1}.0`;
    editChangelog(next);
    expect(releaseProblems(clone)).toContain(
      `package.json is ${tagged}, the newest release in CHANGELOG.md is ${next}`,
    );
    git('commit', '--quiet', '-am', 'changelog only');
    spawnSync('npm', ['version', next, '--no-git-tag-version'], {
      cwd: clone,
      env: { ...env, PATH: `${bin}:${env.PATH}` },
    });
    git('commit', '--quiet', '-am', `Release ${next}`);
    expect(releaseProblems(clone)).toEqual([
      `the newest release ${next} has no tag v${next} (docs/RELEASING.md, step 3)`,
    ]);
    git('tag', 'v9.9.9');
    expect(releaseProblems(clone)).toContain('tag v9.9.9 names no version of CHANGELOG.md');
  });
});
