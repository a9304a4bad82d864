/**
 * The fake Coda itself: it must behave like Coda where the extractor depends on it, and its
 * responses must conform to Coda's published OpenAPI document when that document is at hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DOC_ID, projectsTable, tasksTable } from '../../bench/coda-server/fixture-doc.ts';
import type { CodaServer } from '../../bench/coda-server/server.ts';
import { codaServer, REPO_ROOT, TOKEN, until } from './helpers.ts';
import { checkAgainstSchema, responseSchema, type OpenApiDocument } from './openapi-check.ts';

const DOC = `/docs/${FIXTURE_DOC_ID}`;

/** token '' sends no Authorization header. */
async function get(server: CodaServer, apiPath: string, token = TOKEN) {
  const response = await fetch(`${server.baseUrl}${apiPath}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: JSON.parse(text) as Record<string, unknown> & { items: Record<string, unknown>[] },
  };
}

describe('the fake Coda server', () => {
  it("wants the bearer token: 401 without it or with another, in Coda's error shape", async () => {
    const server = await codaServer();
    for (const token of ['', 'wrong']) {
      const { status, body } = await get(server, DOC, token);
      expect(status).toBe(401);
      expect(body).toEqual({ statusCode: 401, statusMessage: 'Unauthorized', message: expect.any(String) });
    }
    expect((await get(server, DOC)).status).toBe(200);
  });

  it('caps limit, and with a pageToken ignores every other parameter', async () => {
    const server = await codaServer({ maxPageSize: 5 });
    const first = await get(server, `${DOC}/tables/${tasksTable.id}/rows?valueFormat=rich&limit=1000`);
    expect(first.body.items).toHaveLength(5);
    const token = String(first.body.nextPageToken);
    const plain = await get(server, `${DOC}/tables/${tasksTable.id}/rows?pageToken=${token}`);
    const noisy = await get(
      server,
      `${DOC}/tables/${tasksTable.id}/rows?pageToken=${token}&valueFormat=simple&limit=1&useColumnNames=true`,
    );
    expect(noisy.body.items).toEqual(plain.body.items);
    expect(plain.body.items.map((row) => row.id)).toEqual(tasksTable.rows.slice(5, 10).map((row) => row.id));
    expect(plain.body.items[0]?.values).toMatchObject({ 'c-Kp7rJ2kS2b': { '@type': 'StructuredValue' } });
  });

  it('derives the simple formats from the rich values, and keys by name on request', async () => {
    const server = await codaServer();
    const row = (format: string) =>
      get(server, `${DOC}/tables/${projectsTable.id}/rows/i-jNwDisc1A?valueFormat=${format}`);
    const rich = (await row('rich')).body.values as Record<string, unknown>;
    const withArrays = (await row('simpleWithArrays')).body.values as Record<string, unknown>;
    const simple = (await row('simple')).body.values as Record<string, unknown>;
    expect(rich['c-Jt3aM7mB7g']).toHaveLength(3);
    expect(withArrays['c-Jt3aM7mB7g']).toEqual(['Maya Okafor', 'Priya Raman', 'Lena Fischer']);
    expect(simple['c-Jt3aM7mB7g']).toBe('Maya Okafor,Priya Raman,Lena Fischer');
    expect(withArrays['c-Jb7dG3eT3m']).toBe('$18,000.00');
    expect(withArrays['c-Jo7gA4nZ4d']).toBe('Northwind Analytics');
    expect(simple['c-Jb1lL9aB9i']).toBe(true);

    const byName = await get(server, `${DOC}/tables/Projects/rows?useColumnNames=true&limit=1`);
    expect(Object.keys(byName.body.items[0]?.values as object)).toEqual(
      projectsTable.columns.map((column) => column.name),
    );
  });

  it('hands out sync tokens that return only the rows changed since', async () => {
    const server = await codaServer();
    const rowsPath = `${DOC}/tables/${tasksTable.id}/rows?valueFormat=rich&limit=100`;
    const full = await get(server, rowsPath);
    expect(full.body.items).toHaveLength(tasksTable.rowCount);
    const syncToken = String(full.body.nextSyncToken);

    server.editRow(tasksTable.id, 'i-kTask003C', { 'c-Ks1tA5kS5e': 'Done' });
    const changed = await get(server, `${DOC}/tables/${tasksTable.id}/rows?syncToken=${syncToken}`);
    expect(
      changed.body.items.map((row) => [row.id, (row.values as Record<string, unknown>)['c-Ks1tA5kS5e']]),
    ).toEqual([['i-kTask003C', 'Done']]);
    const nothingNew = await get(
      server,
      `${DOC}/tables/${tasksTable.id}/rows?syncToken=${String(changed.body.nextSyncToken)}`,
    );
    expect(nothingNew.body.items).toEqual([]);
  });

  it("lists no deleted row through a sync token: only the table's rowCount and updatedAt tell", async () => {
    const server = await codaServer();
    const tablePath = `${DOC}/tables/${tasksTable.id}`;
    const before = (await get(server, tablePath)).body;
    const full = await get(server, `${tablePath}/rows?valueFormat=rich&limit=100`);
    const [first, second] = tasksTable.rows;

    server.deleteRow(tasksTable.id, first?.id ?? '');
    server.insertRow(tasksTable.id, 'i-kTaskN3wZ', { [tasksTable.columnIds.title]: 'Nouvelle tâche ✓' });
    server.editRow(tasksTable.id, second?.id ?? '', { [tasksTable.columnIds.title]: 'edited' });
    const changed = await get(server, `${tablePath}/rows?syncToken=${String(full.body.nextSyncToken)}`);
    // Coda's order, creation time: the edited row, then the new one; the deleted one is not there.
    expect(changed.body.items.map((row) => row.id)).toEqual([second?.id, 'i-kTaskN3wZ']);
    const after = (await get(server, tablePath)).body;
    expect(after.rowCount).toBe(tasksTable.rowCount);
    expect(String(after.updatedAt) > String(before.updatedAt)).toBe(true);
    const fullAfter = await get(server, `${tablePath}/rows?valueFormat=rich&limit=100`);
    expect(fullAfter.body.items.map((row) => row.id)).toEqual([
      ...tasksTable.rows.slice(1).map((row) => row.id),
      'i-kTaskN3wZ',
    ]);
  });

  it('moves updatedAt, and nothing a sync read lists, for a moved row or changed columns', async () => {
    const server = await codaServer();
    const tablePath = `${DOC}/tables/${projectsTable.id}`;
    const full = await get(server, `${tablePath}/rows?valueFormat=rich&limit=100`);
    let updatedAt = String((await get(server, tablePath)).body.updatedAt);
    const moved = async () => {
      const now = String((await get(server, tablePath)).body.updatedAt);
      const movedOn = now > updatedAt;
      updatedAt = now;
      return movedOn;
    };
    server.moveRow(projectsTable.id, projectsTable.rows[2]?.id ?? '');
    expect(await moved()).toBe(true);
    const [display, ...others] = projectsTable.columns;
    if (!display) throw new Error('Projects has no columns');
    server.setColumns(projectsTable.id, [{ ...display, name: 'Renamed ✓' }, ...others.slice(1)]);
    expect(await moved()).toBe(true);
    const columns = await get(server, `${tablePath}/columns`);
    expect(columns.body.items.map((column) => column.name)).toEqual([
      'Renamed ✓',
      ...others.slice(1).map((column) => column.name),
    ]);
    const changed = await get(server, `${tablePath}/rows?syncToken=${String(full.body.nextSyncToken)}`);
    expect(changed.body.items).toEqual([]);
  });

  it("refuses an expired sync token with 400, in Coda's error shape", async () => {
    const server = await codaServer();
    const rowsPath = `${DOC}/tables/${tasksTable.id}/rows`;
    const token = String((await get(server, `${rowsPath}?valueFormat=rich&limit=100`)).body.nextSyncToken);
    server.expireSyncTokens();
    const refused = await get(server, `${rowsPath}?syncToken=${token}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      statusCode: 400,
      statusMessage: 'Bad Request',
      message: expect.stringContaining('sync token has expired'),
    });
    const fresh = String((await get(server, `${rowsPath}?valueFormat=rich&limit=100`)).body.nextSyncToken);
    expect((await get(server, `${rowsPath}?syncToken=${fresh}`)).status).toBe(200);
  });

  it('rate-limits per sliding window, with or without Retry-After, and records every request', async () => {
    for (const retryAfter of ['seconds', 'http-date', 'none'] as const) {
      const server = await codaServer({ rateLimit: { requests: 2, windowMs: 60_000, retryAfter } });
      const statuses: Awaited<ReturnType<typeof get>>[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push(await get(server, DOC));
      expect(statuses.map((response) => response.status)).toEqual([200, 200, 429]);
      const header = statuses[2]?.headers.get('retry-after');
      if (retryAfter === 'seconds') expect(header).toBe('60');
      if (retryAfter === 'http-date') expect(Date.parse(header ?? '') - Date.now()).toBeGreaterThan(55_000);
      if (retryAfter === 'none') expect(header).toBeNull();
      expect(server.requests.map((request) => request.status)).toEqual([200, 200, 429]);
      expect(server.requests.every((request, i, all) => i === 0 || request.at >= (all[i - 1]?.at ?? 0))).toBe(
        true,
      );
    }
  });

  it('injects faults by path, count and skip: 5xx once, reset, malformed JSON, slow', async () => {
    const server = await codaServer({
      faults: [
        { kind: 'status', status: 502, path: /^\/docs\/[^/]+$/, skip: 1 },
        { kind: 'malformedJson', path: /\/columns/ },
        { kind: 'reset', path: /\/rows/ },
        { kind: 'slow', delayMs: 600_000, path: /\/tables$/ },
      ],
    });
    expect((await get(server, DOC)).status).toBe(200);
    expect((await get(server, DOC)).status).toBe(502);
    expect((await get(server, DOC)).status).toBe(200);
    const columns = await fetch(`${server.baseUrl}${DOC}/tables/${tasksTable.id}/columns`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await expect(columns.json()).rejects.toThrow(SyntaxError);
    await expect(get(server, `${DOC}/tables/${tasksTable.id}/rows`)).rejects.toThrow();
    // Held back: requests that arrive after it are answered while it still waits for its delay.
    const abandoned = new AbortController();
    const slow = fetch(`${server.baseUrl}${DOC}/tables`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: abandoned.signal,
    });
    await until(async () => server.requests.some((request) => request.path.endsWith('/tables')));
    expect((await get(server, DOC)).status).toBe(200);
    expect(server.requests.find((request) => request.path.endsWith('/tables'))?.status).toBe(0);
    abandoned.abort();
    await expect(slow).rejects.toThrow();
  });
});

const OPENAPI_PATH = path.resolve(REPO_ROOT, '../shared/coda/openapi-v1.5.0.json');
const openApiPresent = existsSync(OPENAPI_PATH);
if (!openApiPresent)
  console.warn(
    `NOTICE: ${OPENAPI_PATH} is absent: the OpenAPI conformance checks of the fake Coda server are skipped.`,
  );

describe.skipIf(!openApiPresent)(
  `the fake server's responses conform to Coda's OpenAPI document (${OPENAPI_PATH})`,
  () => {
    const openApi = () => JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;

    async function expectConforming(
      server: CodaServer,
      apiPath: string,
      documentedPath: string,
      status = 200,
    ) {
      const response = await get(server, apiPath);
      expect(response.status).toBe(status);
      const root = openApi();
      expect(
        checkAgainstSchema(responseSchema(root, documentedPath, status), response.body, root),
        `GET ${apiPath}`,
      ).toEqual([]);
    }

    it('doc, tables, table and view', async () => {
      const server = await codaServer({ maxPageSize: 4 });
      await expectConforming(server, DOC, '/docs/{docId}');
      await expectConforming(server, `${DOC}/tables`, '/docs/{docId}/tables');
      await expectConforming(server, `${DOC}/tables?tableTypes=table&limit=100`, '/docs/{docId}/tables');
      for (const table of ['grid-Pr0j3ctS7', 'table-AcTPrj018'])
        await expectConforming(server, `${DOC}/tables/${table}`, '/docs/{docId}/tables/{tableIdOrName}');
    });

    it('columns and rows of every table, in every value format, and a single row', async () => {
      const server = await codaServer();
      const tables = (await get(server, `${DOC}/tables?limit=100`)).body.items.map((table) =>
        String(table.id),
      );
      for (const table of tables) {
        await expectConforming(
          server,
          `${DOC}/tables/${table}/columns?limit=100`,
          '/docs/{docId}/tables/{tableIdOrName}/columns',
        );
        for (const format of ['rich', 'simple', 'simpleWithArrays']) {
          await expectConforming(
            server,
            `${DOC}/tables/${table}/rows?valueFormat=${format}&limit=100`,
            '/docs/{docId}/tables/{tableIdOrName}/rows',
          );
        }
      }
      // A sync read, changes and all: its last page carries nextSyncToken.
      const token = String(
        (await get(server, `${DOC}/tables/${tasksTable.id}/rows?valueFormat=rich&limit=100`)).body
          .nextSyncToken,
      );
      server.insertRow(tasksTable.id, 'i-kTaskN3wZ', { [tasksTable.columnIds.title]: 'New' });
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/rows?syncToken=${token}`,
        '/docs/{docId}/tables/{tableIdOrName}/rows',
      );
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/rows/i-kTask001A?valueFormat=rich`,
        '/docs/{docId}/tables/{tableIdOrName}/rows/{rowIdOrName}',
      );
    });

    it('error bodies', async () => {
      const server = await codaServer({
        faults: [
          { kind: 'status', status: 429, path: /\/rows/ },
          { kind: 'status', status: 403, path: /\/columns/ },
        ],
      });
      await expectConforming(server, '/docs/NoSuchDoc', '/docs/{docId}', 404);
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/rows`,
        '/docs/{docId}/tables/{tableIdOrName}/rows',
        429,
      );
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/columns`,
        '/docs/{docId}/tables/{tableIdOrName}/columns',
        403,
      );
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/rows?limit=0`,
        '/docs/{docId}/tables/{tableIdOrName}/rows',
        400,
      );
      const token = String(
        (await get(server, `${DOC}/tables/${tasksTable.id}/rows?limit=1000`)).body.nextSyncToken,
      );
      server.expireSyncTokens();
      await expectConforming(
        server,
        `${DOC}/tables/${tasksTable.id}/rows?syncToken=${token}`,
        '/docs/{docId}/tables/{tableIdOrName}/rows',
        400,
      );
      const unauthorized = await get(server, DOC, 'wrong');
      const root = openApi();
      expect(checkAgainstSchema(responseSchema(root, '/docs/{docId}', 401), unauthorized.body, root)).toEqual(
        [],
      );
    });

    it('the checker itself notices what does not conform', () => {
      const root = openApi();
      const rows = responseSchema(root, '/docs/{docId}/tables/{tableIdOrName}/rows', 200);
      expect(checkAgainstSchema(rows, { items: [{ id: 'i-x' }] }, root)).toEqual(
        expect.arrayContaining([expect.stringMatching(/missing required values/)]),
      );
      expect(checkAgainstSchema(rows, { items: [], surprise: 1 }, root)).toEqual([
        '$: unexpected property surprise',
      ]);
    });
  },
);
