/**
 * The snapshot writer and reader against each other, with an in-memory Coda instead of a server:
 * what is written reads back exactly (format 2's sync state included), an extract given the
 * previous snapshot copies or merges what it can, and a damaged snapshot is refused saying where.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CodaClient, RowPage } from '../../src/extract/client.ts';
import type { CodaRow, PublicApiColumn } from '../../src/extract/coda-api-types.ts';
import { CodaApiError } from '../../src/extract/errors.ts';
import type { ExtractProgress, FullReadReason } from '../../src/extract/progress.ts';
import { SNAPSHOT_FORMAT_VERSION, tableFile } from '../../src/extract/snapshot-format.ts';
import { latestSnapshot, readSnapshot } from '../../src/extract/snapshot-reader.ts';
import { extractSnapshot } from '../../src/extract/snapshot-writer.ts';
import type { Clock } from '../../src/extract/timing.ts';
import { collect } from '../support/collect.ts';

const DOC = 'dR0undTr1p';
const BASE_URL = 'http://coda.invalid/apis/v1';

interface MemoryTable {
  id: string;
  name: string;
  columns: PublicApiColumn[];
  rows: CodaRow[];
  updatedAt: string;
  /** Rows per page. */
  pageSize: number;
  /** Row ids changed since the sync token was handed out. */
  changedSince: Set<string>;
  refuseToken?: boolean;
}

const column = (id: string, name: string): PublicApiColumn =>
  ({
    id,
    name,
    type: 'column',
    href: '',
    format: { type: 'text', isArray: false },
  }) as unknown as PublicApiColumn;

const row = (id: string, values: Record<string, unknown>): CodaRow =>
  ({
    id,
    type: 'row',
    href: `${BASE_URL}/rows/${id}`,
    name: String(values['c-a'] ?? id),
    index: 0,
    browserLink: `https://coda.io/d/_d${DOC}#_r${id}`,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    values,
  }) as unknown as CodaRow;

/** Coda as the writer uses it: the doc, its tables, their columns and rows page by page. */
function memoryCoda(tables: MemoryTable[]) {
  const requests: string[] = [];
  const find = (id: string) => tables.find((table) => table.id === id)!;
  const client = {
    baseUrl: BASE_URL,
    getDoc: (docId: string) => {
      requests.push('doc');
      return Promise.resolve({ id: docId, name: 'Dóc ✓', browserLink: `https://coda.io/d/_d${docId}` });
    },
    listBaseTables: () => {
      requests.push('tables');
      return Promise.resolve(
        tables.map(({ id, name }) => ({ id, name, browserLink: `https://coda.io/t/${id}` })),
      );
    },
    getTable: (_doc: string, { id }: { id: string }) => {
      requests.push(`table ${id}`);
      const table = find(id);
      return Promise.resolve({ updatedAt: table.updatedAt, rowCount: table.rows.length });
    },
    listColumns: (_doc: string, { id }: { id: string }) => {
      requests.push(`columns ${id}`);
      return Promise.resolve(structuredClone(find(id).columns));
    },
    // A generator like the client's, answering from memory: nothing to await.
    // biome-ignore lint/suspicious/useAwait: it must be an async generator to stand in for rowPages
    async *rowPages(_doc: string, { id }: { id: string }, options: { syncToken?: string } = {}) {
      const table = find(id);
      requests.push(`rows ${id}${options.syncToken ? ` since ${options.syncToken}` : ''}`);
      if (options.syncToken && table.refuseToken) throw new CodaApiError('sync token expired', 400);
      const rows = options.syncToken
        ? table.rows.filter((item) => table.changedSince.has(item.id))
        : table.rows;
      for (let start = 0; start < Math.max(rows.length, 1); start += table.pageSize) {
        const last = start + table.pageSize >= rows.length;
        const page: RowPage = { rows: structuredClone(rows.slice(start, start + table.pageSize)) };
        if (last) page.nextSyncToken = `token-${id}-${table.updatedAt}`;
        yield page;
      }
    },
  };
  return { client: client as unknown as CodaClient, requests };
}

/** A clock at a fixed moment: the manifest's extractedAt. */
const clockAt = (iso: string): Clock => ({ now: () => Date.parse(iso), sleep: () => Promise.resolve() });

function recordingProgress() {
  const fullReads: { table: string; reason: FullReadReason }[] = [];
  const progress: ExtractProgress = {
    tableStarted: () => {},
    pageWritten: () => {},
    tableFinished: () => {},
    fullRead: (table, reason) => fullReads.push({ table: table.id, reason }),
    close: () => {},
  };
  return { progress, fullReads };
}

/** Values Coda sends that are easy to lose on the way to disk and back. */
const awkwardRows = [
  row('i-1', { 'c-a': 'Zürich ✓ 名前 🚀', 'c-b': 'line one\nline two\r\n\ttabbed' }),
  row('i-2', { 'c-a': 'separators \u2028 and \u2029, quote " and backslash \\', 'c-b': '' }),
  row('i-3', {
    'c-a': [{ '@type': 'Person', name: 'Zoë', email: 'zoe@example.com' }, ''],
    'c-b': { '@type': 'MonetaryAmount', currency: 'EUR', amount: 1234.5 },
  }),
  row('i-4', {
    'c-a': { '@type': 'StructuredValue', tableId: 'grid-X', rowId: 'i-9', name: 'x' },
    'c-b': null,
  }),
  row('i-5', JSON.parse('{"c-a": 0, "c-b": false, "__proto__": "stays data"}') as Record<string, unknown>),
];

const tablesFor = (): MemoryTable[] => [
  {
    id: 'grid-Aaaa1',
    name: 'Tâches',
    columns: [column('c-a', 'Name ✎'), column('c-b', '')],
    rows: structuredClone(awkwardRows),
    updatedAt: '2024-05-01T10:00:00.000Z',
    pageSize: 2,
    changedSince: new Set(),
  },
  {
    id: 'grid-Bbbb2',
    name: 'Empty',
    columns: [column('c-a', 'Only')],
    rows: [],
    updatedAt: '2024-05-01T09:00:00.000Z',
    pageSize: 100,
    changedSince: new Set(),
  },
];

const folders: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erp-snapshot-unit-'));
  folders.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('a snapshot written and read back', () => {
  it('gives back every row exactly as Coda sent it, in order, and a format 2 manifest', async () => {
    const tables = tablesFor();
    const { client } = memoryCoda(tables);
    const outDir = path.join(await tempDir(), 'snap');
    const written = await extractSnapshot({
      client,
      docId: DOC,
      outDir,
      clock: clockAt('2024-05-02T03:04:05.000Z'),
    });
    const snapshot = await readSnapshot(outDir);

    expect(snapshot.manifest()).toEqual(written.manifest);
    expect(snapshot.manifest()).toMatchObject({
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      tool: { name: 'postgres-erp', version: expect.stringMatching(/^\d+\.\d+\.\d+/) },
      extractedAt: '2024-05-02T03:04:05.000Z',
      apiBaseUrl: BASE_URL,
      doc: { id: DOC, name: 'Dóc ✓' },
    });
    expect(snapshot.manifest().tables).toEqual([
      {
        id: 'grid-Aaaa1',
        name: 'Tâches',
        browserLink: 'https://coda.io/t/grid-Aaaa1',
        columns: tables[0]!.columns,
        rowCount: 5,
        file: 'tables/grid-Aaaa1.jsonl',
        coda: {
          updatedAt: '2024-05-01T10:00:00.000Z',
          rowCount: 5,
          syncToken: 'token-grid-Aaaa1-2024-05-01T10:00:00.000Z',
          read: 'full',
        },
      },
      expect.objectContaining({
        id: 'grid-Bbbb2',
        rowCount: 0,
        coda: expect.objectContaining({ read: 'full' }),
      }),
    ]);
    expect(await collect(snapshot.rows('grid-Aaaa1'))).toEqual(awkwardRows);
    expect(await collect(snapshot.rows('grid-Bbbb2'))).toEqual([]);
    // The stored text is the row's JSON, one line each: a plan hashes it unparsed.
    const entries = await collect(snapshot.entries('grid-Aaaa1'));
    expect(entries.map((entry) => entry.text)).toEqual(awkwardRows.map((item) => JSON.stringify(item)));
  });

  it('is found as the latest snapshot of its doc and API, past unfinished and foreign folders', async () => {
    const root = await tempDir();
    const { client } = memoryCoda(tablesFor());
    for (const at of ['2024-05-01T00:00:00.000Z', '2024-05-03T00:00:00.000Z', '2024-05-02T00:00:00.000Z'])
      await extractSnapshot({
        client,
        docId: DOC,
        outDir: path.join(root, at.slice(0, 10)),
        clock: clockAt(at),
      });
    await extractSnapshot({
      client,
      docId: 'dOtherD0c',
      outDir: path.join(root, 'other-doc'),
      clock: clockAt('2024-06-01T00:00:00.000Z'),
    });
    await mkdir(path.join(root, `${DOC}-x.partial-1234`));
    await writeFile(path.join(root, 'not-a-folder.json'), '{}');

    const latest = await latestSnapshot(root, DOC, BASE_URL);
    expect(latest?.dir).toBe(path.join(root, '2024-05-03'));
    expect(await latestSnapshot(root, DOC, 'http://elsewhere.invalid/apis/v1')).toBeUndefined();
    expect(await latestSnapshot(path.join(root, 'missing'), DOC, BASE_URL)).toBeUndefined();
  });
});

describe('an extract given the previous snapshot', () => {
  async function previousAndNext(change: (tables: MemoryTable[]) => void) {
    const tables = tablesFor();
    const { client, requests } = memoryCoda(tables);
    const root = await tempDir();
    await extractSnapshot({ client, docId: DOC, outDir: path.join(root, 'first') });
    const previous = await readSnapshot(path.join(root, 'first'));
    change(tables);
    requests.length = 0;
    const { progress, fullReads } = recordingProgress();
    const next = await extractSnapshot({
      client,
      docId: DOC,
      outDir: path.join(root, 'next'),
      previous,
      progress,
    });
    return { tables, requests, fullReads, next: await readSnapshot(next.dir) };
  }

  it('copies a table that did not move, asking Coda for neither its columns nor its rows', async () => {
    const { requests, next } = await previousAndNext(() => {});
    expect(requests).toEqual(['doc', 'tables', 'table grid-Aaaa1', 'table grid-Bbbb2']);
    expect(next.manifest().tables.map((table) => table.coda?.read)).toEqual(['unchanged', 'unchanged']);
    expect(await collect(next.rows('grid-Aaaa1'))).toEqual(awkwardRows);
  });

  it('merges the changed rows in place and adds new ones at the end, in Coda order', async () => {
    const { requests, next, fullReads } = await previousAndNext((tables) => {
      const [table] = tables;
      table!.rows[1] = row('i-2', { 'c-a': 'edited ✓', 'c-b': 'x' });
      table!.rows.push(row('i-6', { 'c-a': 'new', 'c-b': '' }));
      table!.changedSince = new Set(['i-2', 'i-6']);
      table!.updatedAt = '2024-05-02T00:00:00.000Z';
    });
    expect(fullReads).toEqual([]);
    expect(requests).toContain('rows grid-Aaaa1 since token-grid-Aaaa1-2024-05-01T10:00:00.000Z');
    expect(next.manifest().tables[0]?.coda).toEqual({
      updatedAt: '2024-05-02T00:00:00.000Z',
      rowCount: 6,
      syncToken: 'token-grid-Aaaa1-2024-05-02T00:00:00.000Z',
      read: 'changes',
    });
    expect((await collect(next.rows('grid-Aaaa1'))).map((item) => [item.id, item.values['c-a']])).toEqual([
      ['i-1', awkwardRows[0]!.values['c-a']],
      ['i-2', 'edited ✓'],
      ['i-3', awkwardRows[2]!.values['c-a']],
      ['i-4', awkwardRows[3]!.values['c-a']],
      ['i-5', 0],
      ['i-6', 'new'],
    ]);
  });

  it.each([
    [
      'columns-changed',
      (table: MemoryTable) => {
        table.columns = [column('c-a', 'Renamed'), table.columns[1]!];
      },
    ],
    [
      'rows-removed',
      (table: MemoryTable) => {
        table.rows.splice(0, 1);
        table.rows[0] = row('i-2', { 'c-a': 'edited' });
        table.changedSince = new Set(['i-2']);
      },
    ],
    [
      'token-refused',
      (table: MemoryTable) => {
        table.refuseToken = true;
      },
    ],
    ['change-not-in-rows', () => {}],
  ] as const)('reads a table whole when it cannot merge (%s), and says why', async (reason, change) => {
    const { next, fullReads } = await previousAndNext((tables) => {
      change(tables[0]!);
      tables[0]!.updatedAt = '2024-05-02T00:00:00.000Z';
    });
    expect(fullReads).toEqual([{ table: 'grid-Aaaa1', reason }]);
    expect(next.manifest().tables[0]?.coda?.read).toBe('full');
    const rows = await collect(next.rows('grid-Aaaa1'));
    expect(rows).toHaveLength(next.manifest().tables[0]!.rowCount);
  });

  it('is refused when the previous snapshot is of another doc', async () => {
    const { client } = memoryCoda(tablesFor());
    const root = await tempDir();
    await extractSnapshot({ client, docId: 'dOtherD0c', outDir: path.join(root, 'other') });
    const previous = await readSnapshot(path.join(root, 'other'));
    await expect(
      extractSnapshot({ client, docId: DOC, outDir: path.join(root, 'next'), previous }),
    ).rejects.toThrow(/dOtherD0c/);
  });
});

describe('a damaged snapshot', () => {
  async function written() {
    const outDir = path.join(await tempDir(), 'snap');
    await extractSnapshot({ client: memoryCoda(tablesFor()).client, docId: DOC, outDir });
    const manifestPath = path.join(outDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    return { outDir, manifestPath, manifest };
  }

  type Manifest = {
    extractedAt?: string;
    tables: { file: string; rowCount: number; coda: { read: string } }[];
  };
  it.each<[string, (manifest: Manifest) => void, string]>([
    [
      'a table file outside tables/',
      (m) => {
        m.tables[0]!.file = '../outside.jsonl';
      },
      'tables.0.file',
    ],
    [
      'a negative row count',
      (m) => {
        m.tables[0]!.rowCount = -1;
      },
      'tables.0.rowCount',
    ],
    [
      'no extraction time',
      (m) => {
        delete m.extractedAt;
      },
      'extractedAt',
    ],
    [
      'an unknown read',
      (m) => {
        m.tables[0]!.coda.read = 'guessed';
      },
      'tables.0.coda.read',
    ],
  ])('refuses a manifest with %s, naming the field', async (_what, damage, field) => {
    const { outDir, manifestPath, manifest } = await written();
    damage(manifest as unknown as Manifest);
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(readSnapshot(outDir)).rejects.toThrow(`${manifestPath} is not a snapshot manifest`);
    await expect(readSnapshot(outDir)).rejects.toThrow(`: ${field}: `);
  });

  it('keeps fields a newer erp added to the manifest', async () => {
    const { outDir, manifestPath, manifest } = await written();
    await writeFile(manifestPath, JSON.stringify({ ...manifest, addedLater: { x: 1 } }));
    expect((await readSnapshot(outDir)).manifest()).toMatchObject({ addedLater: { x: 1 } });
  });

  it('says which rows file is missing, and which line of one is not a row', async () => {
    const { outDir } = await written();
    const file = path.join(outDir, tableFile('grid-Aaaa1'));
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, [lines[0], '[1, 2]', ...lines.slice(2)].join('\n'));
    const snapshot = await readSnapshot(outDir);
    await expect(collect(snapshot.rows('grid-Aaaa1'))).rejects.toThrow(`${file}:2 is not a Coda row`);
    // Entries are read unparsed, but the count is still checked.
    await writeFile(file, lines.slice(0, 2).join('\n'));
    await expect(collect(snapshot.entries('grid-Aaaa1'))).rejects.toThrow(
      /has 2 rows but the manifest says 5/,
    );
    await rm(file);
    await expect(collect(snapshot.rows('grid-Aaaa1'))).rejects.toThrow(`${file} is missing`);
  });

  it('refuses a table id that is no safe file name', () => {
    for (const id of ['../x', 'a/b', '', 'grid x']) expect(() => tableFile(id)).toThrow(JSON.stringify(id));
    expect(tableFile('grid-Ok_1')).toBe('tables/grid-Ok_1.jsonl');
  });
});
