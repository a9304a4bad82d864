/**
 * CHANGELOG.md and the release the code says it is agree: the newest released version is the one
 * in package.json (what `erp --version`, snapshots and reports record), and the release tags this
 * clone has follow test/support/releases.ts's rules. test/docs/releasing.test.ts cuts a release
 * in a scratch clone and checks it by the same rules.
 */
import { describe, expect, it } from 'vitest';
import { releaseProblems, releaseTags } from '../support/releases.ts';
import { REPO_ROOT } from '../support/cli.ts';

describe('CHANGELOG.md, package.json and the release tags', () => {
  if (!releaseTags(REPO_ROOT).length)
    console.warn('NOTICE: this clone has no release tags (git fetch --tags); only the changelog is checked.');

  it('agree', () => {
    expect(releaseProblems(REPO_ROOT)).toEqual([]);
  });
});
