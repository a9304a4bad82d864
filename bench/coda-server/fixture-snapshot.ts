/**
 * A real snapshot of a fixture doc, made the way production makes one: the fake Coda server
 * serves the doc and the real extractor reads it. Load tests start from these.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CodaClient,
  extractSnapshot,
  readSnapshot,
  systemClock,
  type Snapshot,
} from '../../src/extract/index.ts';
import type { FixtureDoc } from './fixture-types.ts';
import { startCodaServer, type CodaServer } from './server.ts';

const TOKEN = 'fixture-snapshot-token';

/**
 * `edit` changes cells before the extract, as an edit in Coda would. `maxPageSize` lets a test of a
 * large doc read it in fewer, larger pages (the server's default is Coda's 100 rows).
 */
export async function snapshotOf(
  doc: FixtureDoc,
  parentDir?: string,
  edit?: (server: CodaServer) => void,
  { maxPageSize }: { maxPageSize?: number } = {},
): Promise<Snapshot> {
  const root = parentDir ?? (await mkdtemp(path.join(os.tmpdir(), 'erp-snapshot-')));
  const server = await startCodaServer({ token: TOKEN, doc, maxPageSize });
  try {
    edit?.(server);
    const client = new CodaClient({
      baseUrl: server.baseUrl,
      token: TOKEN,
      rateLimit: { requests: 1_000, intervalMs: 1_000 },
      clock: systemClock,
      random: () => 0.5,
      timeoutMs: 5_000,
    });
    const { dir } = await extractSnapshot({
      client,
      docId: doc.id,
      outDir: path.join(root, `${doc.id}-${Date.now()}`),
    });
    return readSnapshot(dir);
  } finally {
    await server.close();
  }
}
