/**
 * Incremental extraction: given the previous snapshot, an extract reads only what changed, and
 * what it writes is what a full read at the same moment writes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  extractSnapshot,
  readSnapshot,
  silentProgress,
  type ExtractProgress,
  type FullReadReason,
  type Snapshot,
  type SnapshotManifest,
  type TableRead,
} from '../../src/extract/index.ts';
import type { FixtureColumn, FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { person } from '../../bench/coda-server/rich-values.ts';
import type { CodaServer } from '../../bench/coda-server/server.ts';
import { syntheticDoc } from '../../bench/coda-server/synthetic.ts';
import { codaServer, tempDir, testClient } from './helpers.ts';

/** Notices and how each table was read, as the progress is told them. */
function recordingProgress() {
  const notices: { table: string; reason: FullReadReason }[] = [];
  const reads = new Map<string, TableRead | undefined>();
  const progress: ExtractProgress = {
    ...silentProgress,
    tableFinished: (tableId, summary) => reads.set(tableId, summary.read),
    fullRead: (table, reason) => notices.push({ table: table.name, reason }),
  };
  return { progress, notices, reads };
}

async function extract(server: CodaServer, doc: FixtureDoc, outDir: string, previous?: Snapshot) {
  const recorded = recordingProgress();
  const requestsBefore = server.requests.length;
  const { dir } = await extractSnapshot({
    client: testClient(server),
    docId: doc.id,
    outDir,
    progress: recorded.progress,
    ...(previous ? { previous } : {}),
  });
  return { snapshot: await readSnapshot(dir), requests: server.requests.slice(requestsBefore), ...recorded };
}

/**
 * The manifest's tables without how each was read, and without the sync token: an opaque string
 * of Coda's, and a table copied unchanged keeps the one of the read that last saw it change.
 */
function comparable(manifest: SnapshotManifest) {
  return manifest.tables.map(({ coda, ...table }) => {
    const { read: _read, syncToken: _token, ...sync } = coda ?? { read: undefined, syncToken: undefined };
    return { ...table, coda: sync };
  });
}

async function expectSameSnapshot(incremental: Snapshot, full: Snapshot): Promise<void> {
  expect(comparable(incremental.manifest())).toEqual(comparable(full.manifest()));
  for (const table of full.manifest().tables) {
    const [mine, theirs] = await Promise.all(
      [incremental, full].map((snapshot) => readFile(path.join(snapshot.dir, table.file), 'utf8')),
    );
    expect(mine, table.name).toBe(theirs);
  }
}

/** Deterministic, so that a failure replays (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('an incremental extract', () => {
  it('writes what a full read writes, round after round of inserts, edits, deletions, moves and column changes', async () => {
    const doc = syntheticDoc({ taskRows: 400 });
    // Small pages: the larger tables span several, for full and sync reads alike.
    const server = await codaServer({ doc, maxPageSize: 40 });
    const root = await tempDir();
    const random = seededRandom(26);
    const pick = <T>(items: readonly T[]): T => {
      const item = items[Math.floor(random() * items.length)];
      if (item === undefined) throw new Error('nothing to pick from');
      return item;
    };
    const columns = new Map<string, FixtureColumn[]>(doc.tables.map((table) => [table.id, table.columns]));
    const seen = new Set<TableRead | undefined>();
    const reasons = new Set<FullReadReason>();

    let previous = (await extract(server, doc, path.join(root, 'round-0'))).snapshot;
    for (let round = 1; round <= 6; round += 1) {
      // Each table is left alone, or changed in one or two ways, picked from what the last full read holds.
      for (const table of previous.manifest().tables) {
        const ids: string[] = [];
        for await (const row of previous.rows(table.id)) ids.push(row.id);
        const current = columns.get(table.id) ?? [];
        const [display, ...others] = current;
        if (!display) throw new Error(`${table.name} has no columns`);
        const changes = Math.floor(random() * 3);
        for (let change = 0; change < changes; change += 1) {
          const kind = pick(['edit', 'edit', 'insert', 'delete', 'move', 'columns'] as const);
          if (kind === 'edit') {
            for (let edit = 0; edit < 3; edit += 1) {
              server.editRow(table.id, pick(ids), { [display.id]: `édité ${round}.${edit} ✓` });
            }
          } else if (kind === 'insert') {
            const id = `i-new${round}${change}${table.id.slice(-3)}`;
            server.insertRow(table.id, id, {
              [display.id]: `Nouvelle ligne ${round} — 新`,
              ...(others[0]
                ? { [others[0].id]: [person('Ana Ñúñez'), person('李 雷', 'li@example.com')] }
                : {}),
            });
            ids.push(id);
          } else if (kind === 'delete') {
            // With an edit beside it, as deletions come: the edited row comes back, the removed one does not.
            const id = pick(ids);
            server.deleteRow(table.id, id);
            ids.splice(ids.indexOf(id), 1);
            server.editRow(table.id, pick(ids), { [display.id]: `après suppression ${round}` });
          } else if (kind === 'move') {
            server.moveRow(table.id, pick(ids));
          } else {
            // Added (a blank name), renamed (unicode), removed and reordered, all at once.
            const changed: FixtureColumn[] = [
              display,
              ...others
                .slice(1)
                .reverse()
                .map((column, at) => (at === 0 ? { ...column, name: `${column.name} · ünïcode` } : column)),
              { id: `c-Added${round}${change}`, name: '', format: { type: 'text', isArray: false } },
            ];
            server.setColumns(table.id, changed);
            columns.set(table.id, changed);
          }
        }
      }

      const incremental = await extract(server, doc, path.join(root, `round-${round}`), previous);
      const full = await extract(server, doc, path.join(root, `full-${round}`));
      await expectSameSnapshot(incremental.snapshot, full.snapshot);
      for (const read of incremental.reads.values()) seen.add(read);
      for (const notice of incremental.notices) reasons.add(notice.reason);
      previous = incremental.snapshot;
    }
    // Every path was taken at least once, or this test would prove less than it says.
    expect([...seen].sort()).toEqual(['changes', 'full', 'unchanged']);
    expect([...reasons].sort()).toEqual(['change-not-in-rows', 'columns-changed', 'rows-removed']);
  });

  it('of an unchanged doc makes one request per table, besides listing the doc and its tables', async () => {
    const doc = syntheticDoc({ taskRows: 300 });
    const server = await codaServer({ doc, maxPageSize: 50 });
    const root = await tempDir();
    const first = await extract(server, doc, path.join(root, 'first'));
    const second = await extract(server, doc, path.join(root, 'second'), first.snapshot);

    const tables = first.snapshot.manifest().tables;
    expect(second.requests.map((request) => request.path).sort()).toEqual(
      [
        `/apis/v1/docs/${doc.id}`,
        `/apis/v1/docs/${doc.id}/tables`,
        ...tables.map((table) => `/apis/v1/docs/${doc.id}/tables/${table.id}`),
      ].sort(),
    );
    expect(new Set(second.reads.values())).toEqual(new Set(['unchanged']));
    expect(second.notices).toEqual([]);
    await expectSameSnapshot(second.snapshot, first.snapshot);
  });

  it('reads only the changed rows of a table that changed, through the sync token', async () => {
    const doc = syntheticDoc({ taskRows: 300 });
    const server = await codaServer({ doc, maxPageSize: 50 });
    const root = await tempDir();
    const first = await extract(server, doc, path.join(root, 'first'));
    const [changedTable] = first.snapshot.manifest().tables;
    if (!changedTable) throw new Error('the doc has no tables');
    const [row] = await (async () => {
      for await (const entry of first.snapshot.rows(changedTable.id)) return [entry];
      return [];
    })();
    if (!row) throw new Error(`${changedTable.name} has no rows`);
    const display = changedTable.columns[0]?.id ?? '';
    server.editRow(changedTable.id, row.id, { [display]: 'changed' });

    const second = await extract(server, doc, path.join(root, 'second'), first.snapshot);
    const rowReads = second.requests.filter((request) => request.path.endsWith('/rows'));
    expect(rowReads).toHaveLength(1);
    expect(rowReads[0]?.path).toContain(changedTable.id);
    expect(new URLSearchParams(rowReads[0]?.query).get('syncToken')).toBe(changedTable.coda?.syncToken);
    expect(second.reads.get(changedTable.id)).toBe('changes');
    const [changedRow] = await (async () => {
      for await (const entry of second.snapshot.rows(changedTable.id)) return [entry];
      return [];
    })();
    expect(changedRow?.values[display]).toBe('changed');
  });

  it('reads a table whole, saying so, when Coda refuses the sync token', async () => {
    const doc = syntheticDoc({ taskRows: 200 });
    const server = await codaServer({ doc, maxPageSize: 50 });
    const root = await tempDir();
    const first = await extract(server, doc, path.join(root, 'first'));
    const table = first.snapshot.manifest().tables.at(-1);
    if (!table) throw new Error('the doc has no tables');
    const ids: string[] = [];
    for await (const row of first.snapshot.rows(table.id)) ids.push(row.id);
    server.editRow(table.id, ids[1] ?? '', { [table.columns[0]?.id ?? '']: 'after the token expired' });
    server.expireSyncTokens();

    const second = await extract(server, doc, path.join(root, 'second'), first.snapshot);
    expect(second.notices).toEqual([{ table: table.name, reason: 'token-refused' }]);
    const refused = second.requests.filter((request) => request.query.includes('syncToken'));
    expect(refused.map((request) => request.status)).toEqual([400]);
    expect(second.reads.get(table.id)).toBe('full');
    await expectSameSnapshot(second.snapshot, (await extract(server, doc, path.join(root, 'full'))).snapshot);
    // The new snapshot holds a token Coda takes again.
    server.editRow(table.id, ids[2] ?? '', { [table.columns[0]?.id ?? '']: 'later' });
    const third = await extract(server, doc, path.join(root, 'third'), second.snapshot);
    expect(third.notices).toEqual([]);
    expect(third.reads.get(table.id)).toBe('changes');
  });

  it('is refused for a snapshot of another doc', async () => {
    const doc = syntheticDoc({ taskRows: 50 });
    const server = await codaServer({ doc });
    const root = await tempDir();
    const first = await extract(server, doc, path.join(root, 'first'));
    await expect(
      extractSnapshot({
        client: testClient(server),
        docId: 'AnotherDoc1',
        outDir: path.join(root, 'second'),
        previous: first.snapshot,
      }),
    ).rejects.toThrow(
      `the previous snapshot ${first.snapshot.dir} is of doc "${doc.name}" (${doc.id}), not of doc AnotherDoc1`,
    );
  });
});
