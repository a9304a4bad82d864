/**
 * examples/brightline-consulting is what `npm start` migrates: it must stay a faithful snapshot
 * of the fixture doc (regenerate with `node --import tsx test/support/write-example.ts`).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SNAPSHOT } from '../../src/cli/example.ts';
import { readSnapshot } from '../../src/extract/index.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

/** The fake server's address is in every href; it is the only part that may differ. */
const withoutServerAddress = (text: string) => text.replace(/http:\/\/127\.0\.0\.1:\d+/g, '<server>');

async function tableFiles(dir: string): Promise<Record<string, string>> {
  const snapshot = await readSnapshot(dir);
  const files: Record<string, string> = {};
  for (const table of snapshot.manifest().tables) {
    files[table.id] = withoutServerAddress(await readFile(path.join(dir, table.file), 'utf8'));
  }
  return files;
}

describe('the example snapshot', () => {
  it('holds exactly the rows and columns of the fixture doc', async () => {
    const fresh = await snapshotOf(fixtureDoc);
    try {
      const [example, current] = [(await readSnapshot(EXAMPLE_SNAPSHOT)).manifest(), fresh.manifest()];
      expect(withoutServerAddress(JSON.stringify(example.tables))).toBe(
        withoutServerAddress(JSON.stringify(current.tables)),
      );
      expect(await tableFiles(EXAMPLE_SNAPSHOT)).toEqual(await tableFiles(fresh.dir));
    } finally {
      await rm(path.dirname(fresh.dir), { recursive: true, force: true });
    }
  });
});
