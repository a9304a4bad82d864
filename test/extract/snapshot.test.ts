import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  extractSnapshot,
  readSnapshot,
  silentProgress,
  SNAPSHOT_FORMAT_VERSION,
  type CodaRow,
  type ExtractProgress,
} from '../../src/extract/index.ts';
import { isRowJson, rowSchema } from '../../src/extract/response-schemas.ts';
import { readPackageVersion } from '../../src/shared/version.ts';
import { FIXTURE_DOC_ID, fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { syntheticTable } from '../../bench/coda-server/synthetic.ts';
import { codaServer, tempDir, testClient, TOKEN } from './helpers.ts';
import { collect } from '../support/collect.ts';

const baseTables = fixtureDoc.tables.filter((table) => table.tableType === 'table');

describe('extract', () => {
  it('writes a manifest and one JSONL file per base table, rows exactly as Coda sent them', async () => {
    const server = await codaServer();
    const outDir = path.join(await tempDir(), 'snapshot');
    const { dir, manifest } = await extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir,
    });

    expect(dir).toBe(outDir);
    expect(manifest).toMatchObject({
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      tool: { name: 'postgres-erp', version: readPackageVersion() },
      apiBaseUrl: server.baseUrl,
      doc: {
        id: FIXTURE_DOC_ID,
        name: fixtureDoc.name,
        browserLink: `https://coda.io/d/_d${FIXTURE_DOC_ID}`,
      },
    });
    expect(Date.parse(manifest.extractedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(manifest.tables.map((table) => [table.id, table.name, table.rowCount, table.file])).toEqual(
      baseTables.map((table) => [table.id, table.name, table.rowCount, `tables/${table.id}.jsonl`]),
    );
    expect((await readdir(path.join(dir, 'tables'))).sort()).toEqual(
      baseTables.map((table) => `${table.id}.jsonl`).sort(),
    );

    const projects = manifest.tables.find((table) => table.name === 'Projects');
    expect(projects?.browserLink).toBe('https://coda.io/d/_dhR7tK2mQxZ/#Projects_tuPr0j3ctS7');
    // Columns as Coda describes them, including the lookup's target table and select options.
    expect(projects?.columns.find((column) => column.id === 'c-Jv3nT3rE3c')).toMatchObject({
      name: 'Venture',
      format: { type: 'lookup', isArray: false, table: { id: 'grid-V3ntUr5s3', name: 'Ventures' } },
    });
    expect(projects?.columns.find((column) => column.id === 'c-Jm1lE4sT4n')).toMatchObject({
      calculated: true,
      formula: expect.stringContaining('FormulaMap'),
    });
    // The manifest on disk is what readSnapshot gives back.
    expect((await readSnapshot(dir)).manifest()).toEqual(manifest);
  });

  it('is readable by its owner alone: folders 0700, files 0600', async () => {
    const { dir } = await extractSnapshot({
      client: testClient(await codaServer()),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(await tempDir(), 'snapshot'),
    });
    const mode = async (file: string) => (await stat(file)).mode & 0o777;
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, 'tables'))).toBe(0o700);
    const files = [
      'manifest.json',
      ...(await readdir(path.join(dir, 'tables'))).map((name) => `tables/${name}`),
    ];
    for (const file of files) expect(await mode(path.join(dir, file)), file).toBe(0o600);
  });

  it('keeps rich values unchanged: people, row references, money, dates, arrays, empty cells, images, links', async () => {
    const server = await codaServer();
    const { dir } = await extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(await tempDir(), 's'),
    });
    const snapshot = await readSnapshot(dir);

    for (const table of baseTables) {
      const rows = await collect(snapshot.rows(table.id));
      const expected = Array.from({ length: table.rowCount }, (_, index) => table.rowAt(index));
      expect(
        rows.map((row) => ({
          id: row.id,
          createdAt: row.createdAt,
          updatedAt: row.updatedAt,
          values: row.values,
        })),
      ).toEqual(expected);
    }

    // Spot checks of the awkward values, so a fixture change cannot quietly remove them.
    const byId = new Map<string, CodaRow>();
    for (const table of baseTables)
      for (const row of await collect(snapshot.rows(table.id))) byId.set(row.id, row);
    const project = byId.get('i-jNwDisc1A')?.values;
    expect(project?.['c-Jt3aM7mB7g']).toEqual([
      {
        '@context': 'http://schema.org/',
        '@type': 'Person',
        name: 'Maya Okafor',
        email: 'maya@brightline.consulting',
      },
      {
        '@context': 'http://schema.org/',
        '@type': 'Person',
        name: 'Priya Raman',
        email: 'priya@brightline.consulting',
      },
      { '@context': 'http://schema.org/', '@type': 'Person', name: 'Lena Fischer' },
    ]);
    expect(project?.['c-Jo7gA4nZ4d']).toMatchObject({
      '@type': 'StructuredValue',
      additionalType: 'row',
      rowId: 'i-oNorthw1A',
      tableId: 'grid-0rgS4nTx2',
      name: 'Northwind Analytics',
    });
    expect(project?.['c-Jb7dG3eT3m']).toEqual({
      '@context': 'http://schema.org/',
      '@type': 'MonetaryAmount',
      currency: 'USD',
      amount: '18,000.00',
    });
    expect(byId.get('i-jVpAudt2B')?.values['c-Jb7dG3eT3m']).toMatchObject({ amount: 9500 });
    expect(project?.['c-Jm1lE4sT4n']).toEqual([
      ['Readout', '2024-03-15T00:00:00.000-08:00'],
      ['Interviews done', '2024-03-11T00:00:00.000-08:00'],
    ]);
    expect(project?.['c-Js7aR0tD0j']).toBe('2024-03-04T00:00:00.000-08:00');
    expect(project?.['c-Jb9rF5lK5o']).toMatchObject({
      '@type': 'WebPage',
      url: 'https://docs.example.com/northwind/brief',
    });
    expect(byId.get('i-pMaya0Ok1')?.values['c-Pp8hO3tO9g']).toMatchObject({
      '@type': 'ImageObject',
      width: 256,
      status: 'live',
    });
    expect(byId.get('i-kTask024Z')?.values['c-Kd3sC3kS3m']).toBe(
      'Line one\u2028line two (U+2028)\r\nthird line with a tab\there',
    );
    expect(byId.get('i-kTask024Z')?.values['c-Kp7rJ2kS2b']).toBe('');
    expect(byId.get('i-wInterv2B')?.values['c-Ws7tE7pS4d']).toMatch(/^```1\. Recruit\n/);
  });

  it('streams rows to disk page by page', async () => {
    const big = syntheticTable({ id: 'grid-Str3am001', name: 'Stream', rowCount: 450 });
    const server = await codaServer({ doc: { ...fixtureDoc, tables: [big] }, maxPageSize: 100 });
    const root = await tempDir();
    const onDiskAfterEachPage: [number, number][] = [];
    const progress: ExtractProgress = {
      ...silentProgress,
      pageWritten(tableId, totals) {
        const [partial] = readdirSync(root);
        const text = readFileSync(path.join(root, partial ?? '', 'tables', `${tableId}.jsonl`), 'utf8');
        onDiskAfterEachPage.push([totals.rows, text.split('\n').length - 1]);
      },
    };
    await extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(root, 'snap'),
      progress,
    });
    expect(onDiskAfterEachPage).toEqual([
      [100, 100],
      [200, 200],
      [300, 300],
      [400, 400],
      [450, 450],
    ]);
  });

  it('refuses an output directory that already exists', async () => {
    const server = await codaServer();
    const outDir = await tempDir();
    await expect(
      extractSnapshot({ client: testClient(server), docId: FIXTURE_DOC_ID, outDir }),
    ).rejects.toThrow(/already exists/);
    expect(server.requests).toEqual([]);
  });

  it('leaves nothing behind when a table fails midway (no snapshot, no partial directory)', async () => {
    const big = syntheticTable({ id: 'grid-Fa1l1ng01', name: 'Failing', rowCount: 500 });
    const server = await codaServer({
      doc: { ...fixtureDoc, tables: [...fixtureDoc.tables, big] },
      maxPageSize: 100,
      faults: [{ kind: 'status', status: 403, path: /grid-Fa1l1ng01\/rows/, skip: 2, times: Infinity }],
    });
    const root = await tempDir();
    await expect(
      extractSnapshot({ client: testClient(server), docId: FIXTURE_DOC_ID, outDir: path.join(root, 'snap') }),
    ).rejects.toThrow(
      /denied access to table "Failing" \(grid-Fa1l1ng01\) in doc hR7tK2mQxZ \(403 Forbidden\)/,
    );
    expect(await readdir(root)).toEqual([]);
  });

  it('leaves nothing behind when interrupted', async () => {
    const server = await codaServer({
      faults: [{ kind: 'slow', delayMs: 5_000, path: /\/rows/, times: Infinity }],
    });
    const root = await tempDir();
    const interruption = new AbortController();
    const extraction = extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(root, 'snap'),
      signal: interruption.signal,
    });
    const started = Date.now();
    while (!server.requests.some((request) => request.path.endsWith('/rows')))
      await new Promise((resolve) => setImmediate(resolve));
    interruption.abort(new Error('interrupted by the test'));
    await expect(extraction).rejects.toThrow('interrupted by the test');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await readdir(root)).toEqual([]);
  });

  it('is refused before anything is written when the doc is over the API size limit', async () => {
    const server = await codaServer({ doc: { ...fixtureDoc, overApiSizeLimit: true } });
    const root = await tempDir();
    await expect(
      extractSnapshot({ client: testClient(server), docId: FIXTURE_DOC_ID, outDir: path.join(root, 'snap') }),
    ).rejects.toThrow(/over Coda's API size limit/);
    expect(await readdir(root)).toEqual([]);
  });

  it('writes the token nowhere', async () => {
    const server = await codaServer();
    const { dir } = await extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(await tempDir(), 's'),
    });
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile())
        expect(await readFile(path.join(entry.parentPath, entry.name), 'utf8')).not.toContain(TOKEN);
    }
  });
});

describe('readSnapshot', () => {
  it('says a directory without a manifest is not a snapshot', async () => {
    const dir = await tempDir();
    await expect(readSnapshot(dir)).rejects.toThrow(
      new RegExp(`${dir} is not a snapshot: it has no manifest\\.json`),
    );
  });

  it('names the manifest when it is not one', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ formatVersion: 1, doc: { id: 'x' } }));
    await expect(readSnapshot(dir)).rejects.toThrow(
      new RegExp(`${path.join(dir, 'manifest.json')} is not a snapshot manifest of format 1 or 2 .*: tool`),
    );
    await writeFile(path.join(dir, 'manifest.json'), '{"formatVersion": 1,');
    await expect(readSnapshot(dir)).rejects.toThrow(/manifest\.json is not valid JSON/);
  });

  it('reads a format 1 snapshot (no sync state), and refuses a newer format by name', async () => {
    const { dir, manifest } = await extractSnapshot({
      client: testClient(await codaServer()),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(await tempDir(), 'snapshot'),
    });
    const manifestPath = path.join(dir, 'manifest.json');
    const formatOne = {
      ...manifest,
      formatVersion: 1,
      tables: manifest.tables.map(({ coda: _, ...table }) => table),
    };
    await writeFile(manifestPath, JSON.stringify(formatOne));
    const old = await readSnapshot(dir);
    expect(old.manifest().tables.map((table) => table.coda)).toEqual(manifest.tables.map(() => undefined));
    expect(await collect(old.rows(baseTables[0]?.id ?? ''))).toHaveLength(baseTables[0]?.rowCount ?? -1);

    await writeFile(manifestPath, JSON.stringify({ ...manifest, formatVersion: 3 }));
    await expect(readSnapshot(dir)).rejects.toThrow(
      `${manifestPath} is not a snapshot manifest of format 1 or 2 (the formats this erp reads; a newer erp may have written it): formatVersion`,
    );
  });

  it('accepts exactly the rows the row schema accepts', () => {
    const samples = [
      { id: 'i-1', values: {} },
      { id: 'i-1', values: { 'c-1': null, constructor: 'x', __proto__: 1 }, extra: [1] },
      JSON.parse('{"id": "i-1", "values": {"__proto__": {}}, "__proto__": {"id": 2}}'),
      { id: 1, values: {} },
      { values: {} },
      { id: 'i-1' },
      { id: 'i-1', values: null },
      { id: 'i-1', values: [] },
      { id: 'i-1', values: 'x' },
      JSON.parse('{"__proto__": {"id": "i-1", "values": {}}}'),
      [],
      null,
      'row',
      3,
    ];
    for (const sample of samples)
      expect(isRowJson(sample), JSON.stringify(sample)).toBe(rowSchema.safeParse(sample).success);
  });

  it('reports a damaged rows file by file and line, and a short one by count', async () => {
    const server = await codaServer();
    const { dir } = await extractSnapshot({
      client: testClient(server),
      docId: FIXTURE_DOC_ID,
      outDir: path.join(await tempDir(), 's'),
    });
    const file = path.join(dir, 'tables', 'grid-T4sKs9Lm0.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, [...lines.slice(0, 3), '{"id": "i-cut', ...lines.slice(4)].join('\n'));
    const snapshot = await readSnapshot(dir);
    await expect(collect(snapshot.rows('grid-T4sKs9Lm0'))).rejects.toThrow(`${file}:4 is not a JSON row`);
    await writeFile(
      file,
      [...lines.slice(0, 3), '{"id": "i-cut", "values": []}', ...lines.slice(4)].join('\n'),
    );
    await expect(collect(snapshot.rows('grid-T4sKs9Lm0'))).rejects.toThrow(
      `${file}:4 is not a Coda row: values: Invalid input: expected record, received array`,
    );
    await writeFile(file, lines.slice(0, 5).join('\n'));
    await expect(collect(snapshot.rows('grid-T4sKs9Lm0'))).rejects.toThrow(
      /has 5 rows but the manifest says 24/,
    );
    expect(() => snapshot.rows('grid-Nope')).toThrow(
      /has no table grid-Nope; it has grid-pE0pl3Zq1 \(People\)/,
    );
  });
});
