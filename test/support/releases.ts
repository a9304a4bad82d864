/**
 * What makes a checkout's releases consistent: CHANGELOG.md, package.json and the `vX.Y.Z` tags.
 * test/docs/changelog.test.ts judges this repository with it; test/docs/releasing.test.ts judges
 * a scratch clone after following docs/RELEASING.md.
 *
 * The tag rules: every tag in this history names a version of the changelog; every changelog
 * version that is tagged is tagged on a commit of this history; once any tag exists, the newest
 * release is tagged. Releases made before the first tag need none. A tag outside this history
 * and newer than its newest release is a later release (a checkout of an older tag sees those)
 * and is left out of all three rules.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Release {
  version: string;
  date: string;
}

type Version = [number, number, number];

const parse = (version: string): Version => version.split('.').map(Number) as Version;
const newer = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The dated releases under `## Unreleased`, newest first, or what is wrong with the headings. */
function readReleases(changelog: string): { releases: Release[]; problems: string[] } {
  const headings = [...changelog.matchAll(/^## (.+)$/gm)].map((match) => match[1]!);
  const problems: string[] = [];
  if (headings[0] !== 'Unreleased') problems.push('CHANGELOG.md: the first heading is not "## Unreleased"');
  const releases: Release[] = [];
  for (const heading of headings.slice(1)) {
    const match = /^(\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$/.exec(heading);
    const date = match && new Date(`${match[2]}T00:00:00Z`);
    if (!match || Number.isNaN(date?.getTime()) || !date?.toISOString().startsWith(match[2]!))
      problems.push(`CHANGELOG.md: "## ${heading}" is not "## X.Y.Z - YYYY-MM-DD"`);
    else releases.push({ version: match[1]!, date: match[2]! });
  }
  if (!releases.length) problems.push('CHANGELOG.md: no released version');
  for (const [index, release] of releases.entries()) {
    const next = releases[index + 1];
    if (next && newer(parse(release.version), parse(next.version)) <= 0)
      problems.push(`CHANGELOG.md: ${release.version} is listed above ${next.version}, which is not older`);
  }
  return { releases, problems };
}

function git(checkout: string, ...args: string[]) {
  return spawnSync('git', args, { cwd: checkout, encoding: 'utf8' });
}

/** The release tags of the clone; empty where it has none (or is no git checkout). */
export function releaseTags(checkout: string): string[] {
  const tags = git(checkout, 'tag', '--list', 'v*');
  return tags.status === 0 ? tags.stdout.split('\n').filter(Boolean) : [];
}

/** What disagrees between the checkout's changelog, package.json and tags, in words; empty when nothing. */
export function releaseProblems(checkout: string): string[] {
  const { releases, problems } = readReleases(readFileSync(path.join(checkout, 'CHANGELOG.md'), 'utf8'));
  const manifest = JSON.parse(readFileSync(path.join(checkout, 'package.json'), 'utf8')) as {
    version: string;
  };
  const newest = releases[0];
  if (!newest) return problems;
  if (newest.version !== manifest.version)
    problems.push(
      `package.json is ${manifest.version}, the newest release in CHANGELOG.md is ${newest.version}`,
    );
  const lock = JSON.parse(readFileSync(path.join(checkout, 'package-lock.json'), 'utf8')) as {
    version: string;
    packages: Record<string, { version?: string }>;
  };
  if (lock.version !== manifest.version || lock.packages['']?.version !== manifest.version)
    problems.push(`package-lock.json is not at package.json's version ${manifest.version}`);

  const released = new Set(releases.map(({ version }) => `v${version}`));
  const tags = releaseTags(checkout);
  let tagged = false;
  for (const tag of tags) {
    const inHistory = git(checkout, 'merge-base', '--is-ancestor', tag, 'HEAD').status === 0;
    const version = /^v(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
    if (released.has(tag)) {
      tagged = true;
      if (!inHistory) problems.push(`tag ${tag} is on a commit outside this history`);
    } else if (inHistory || !version || newer(parse(version), parse(newest.version)) <= 0) {
      tagged = true;
      problems.push(`tag ${tag} names no version of CHANGELOG.md`);
    }
  }
  if (tagged && !tags.includes(`v${newest.version}`))
    problems.push(
      `the newest release ${newest.version} has no tag v${newest.version} (docs/RELEASING.md, step 3)`,
    );
  return problems;
}
