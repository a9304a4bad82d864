/**
 * CHANGELOG.md and the release the code says it is agree: the newest released version is the one
 * in package.json (what `erp --version`, snapshots and reports record), and its tag, where the
 * clone has tags, points at a commit this checkout contains.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPackageVersion } from '../../src/shared/version.ts';

const changelog = readFileSync('CHANGELOG.md', 'utf8');
const headings = [...changelog.matchAll(/^## (.+)$/gm)].map((match) => match[1]!);
const releases = headings.slice(1).map((heading) => {
  const match = /^(\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$/.exec(heading);
  if (!match) throw new Error(`CHANGELOG.md: "## ${heading}" is not "## X.Y.Z - YYYY-MM-DD"`);
  return { version: match[1]!, date: match[2]! };
});

describe('CHANGELOG.md', () => {
  it('starts with Unreleased, then dated versions, newest first', () => {
    expect(headings[0]).toBe('Unreleased');
    expect(releases.length).toBeGreaterThan(0);
    for (const { date } of releases) expect(new Date(`${date}T00:00:00Z`).toISOString()).toMatch(date);
    const order = releases.map(({ version }) => version.split('.').map(Number));
    const sorted = [...order].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]! || b[2]! - a[2]!);
    expect(order).toEqual(sorted);
  });

  it("names package.json's version as the newest release", () => {
    expect(releases[0]?.version).toBe(readPackageVersion());
  });

  const tags = spawnSync('git', ['tag', '--list', 'v*'], { encoding: 'utf8' });
  const known = new Set(tags.status === 0 ? tags.stdout.split('\n').filter(Boolean) : []);
  if (!known.size)
    console.warn('NOTICE: this clone has no release tags (git fetch --tags); the tag check is skipped.');

  it.skipIf(!known.size)('has each released version tagged on a commit of this history', () => {
    for (const { version } of releases) {
      expect(known, `tag v${version}`).toContain(`v${version}`);
      const ancestor = spawnSync('git', ['merge-base', '--is-ancestor', `v${version}`, 'HEAD']);
      expect(ancestor.status, `v${version} is in this history`).toBe(0);
    }
  });
});
