/**
 * Rewrites examples/brightline-consulting/, the snapshot `npm start` migrates, from the fixture
 * doc through the fake Coda server and the real extractor:
 *
 *   node --import tsx test/support/write-example.ts
 *
 * test/load/example.test.ts fails when the committed example no longer matches the fixture.
 */
import { rename, rm } from 'node:fs/promises';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { EXAMPLE_SNAPSHOT } from '../../src/cli/example.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const snapshot = await snapshotOf(fixtureDoc);
await rm(EXAMPLE_SNAPSHOT, { recursive: true, force: true });
await rename(snapshot.dir, EXAMPLE_SNAPSHOT);
console.log(`wrote ${EXAMPLE_SNAPSHOT}`);
