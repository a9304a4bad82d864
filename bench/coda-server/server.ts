/**
 * A local server that behaves like Coda API v1 for the read paths the pipeline uses, serving one
 * fixture doc: bearer auth, paging with a server-side cap, the three value formats,
 * useColumnNames, sync tokens (refused with 400 once expired), table `updatedAt` and `rowCount`
 * that follow changes made through the returned handle, Coda's error bodies, a sliding-window rate limit, and faults that
 * a test injects by path. It records every request so a test can check the client's pace.
 */
import http, { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  CodaErrorBody,
  CodaRow,
  PublicApiColumn,
  PublicApiColumnFormat,
  PublicApiColumnList,
  PublicApiDoc,
  PublicApiRowDetail,
  PublicApiRowList,
  PublicApiTable,
  PublicApiTableList,
  PublicApiTableReference,
} from '../../src/extract/coda-api-types.ts';
import type {
  PublicApiLayout,
  PublicApiPageReference,
  PublicApiTableType,
  PublicApiType,
} from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';
import { fixtureDoc } from './fixture-doc.ts';
import { LiveDoc } from './live-doc.ts';
import type {
  FixtureCellValue,
  FixtureColumn,
  FixtureDoc,
  FixtureRow,
  FixtureTable,
} from './fixture-types.ts';
import { docBrowserLink, rowBrowserLink, tableBrowserLink } from './links.ts';
import { formatValue, type ValueFormat } from './value-formats.ts';

const API_BASE_PATH = '/apis/v1';
const DEFAULT_PAGE_SIZE = 25;
/** Documented for the columns endpoint; the others have no published maximum. */
const MAX_COLUMN_PAGE_SIZE = 100;

export interface RateLimitSpec {
  requests: number;
  windowMs: number;
  /** Coda does not document Retry-After; both its presence and its absence must be handled. */
  retryAfter: 'seconds' | 'http-date' | 'none';
}

export type FaultKind =
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Answers normally after a delay (to trigger the client's timeout). */
  | { kind: 'slow'; delayMs: number }
  /** Destroys the connection without answering (ECONNRESET / socket hang up). */
  | { kind: 'reset' }
  /** 200 with a JSON body cut in half. */
  | { kind: 'malformedJson' }
  /** Answers a paged request but hands back the page token it was given, as a buggy server could. */
  | { kind: 'stuckPageToken' };

export type Fault = FaultKind & {
  /** Tested against the path below /apis/v1 plus the query string, e.g. /\/rows/ . */
  path: RegExp;
  /** Matching requests it applies to; default 1, Infinity for all. */
  times?: number;
  /** Matching requests let through before it applies; default 0. */
  skip?: number;
};

export interface RecordedRequest {
  /** performance.now() on arrival. */
  at: number;
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was reset on purpose. */
  status: number;
}

export interface CodaServerOptions {
  token: string;
  doc?: FixtureDoc;
  /** The server's cap on `limit` (default 100). */
  maxPageSize?: number;
  rateLimit?: RateLimitSpec;
  faults?: Fault[];
  /** Default 0: any free port. */
  port?: number;
}

export interface CodaServer {
  /** What CODA_API_BASE_URL should be, e.g. http://127.0.0.1:41234/apis/v1 */
  baseUrl: string;
  readonly requests: RecordedRequest[];
  addFault(fault: Fault): void;
  /** Changes cells of a row, as an edit in Coda would; sync tokens issued before see the row again. */
  editRow(tableId: string, rowId: string, values: Record<string, FixtureCellValue>): void;
  /** Adds a row (last: rows are listed by creation time); sync tokens issued before list it. */
  insertRow(tableId: string, rowId: string, values: Record<string, FixtureCellValue>): void;
  /** Removes a row; no sync read lists it, only the table's rowCount shows it is gone. */
  deleteRow(tableId: string, rowId: string): void;
  /** Drags a row elsewhere in the doc: the API's order (creation time) and rows stay as they were. */
  moveRow(tableId: string, rowId: string): void;
  /** Replaces a table's columns; no row changes with them. */
  setColumns(tableId: string, columns: FixtureColumn[]): void;
  /** Makes every sync token issued so far one that Coda refuses (400), as an expired one is. */
  expireSyncTokens(): void;
  close(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ListState {
  /** The path the token belongs to: a token is no good on another endpoint. */
  path: string;
  offset: number;
  limit: number;
  tableTypes?: string[];
  valueFormat?: ValueFormat;
  useColumnNames?: boolean;
  /** Rows changed after this doc version only (a sync read). */
  changedAfter?: number;
  /** The doc version when the listing began: what the final nextSyncToken hands back. */
  docVersion?: number;
}

interface SyncState {
  tableId: string;
  version: number;
  /** Tokens from before the last expireSyncTokens() are refused. */
  epoch: number;
  valueFormat: ValueFormat;
  useColumnNames: boolean;
}

const encodeToken = (state: object) => Buffer.from(JSON.stringify(state)).toString('base64url');

function decodeToken<T>(token: string, what: string): T {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    throw new HttpProblem(400, `Invalid ${what}.`);
  }
}

function positiveInteger(text: string | null, name: string, fallback: number): number {
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new HttpProblem(400, `${name} must be a positive integer.`);
  return value;
}

function valueFormatParam(text: string | null): ValueFormat {
  const format = text ?? 'simple';
  if (format !== 'simple' && format !== 'simpleWithArrays' && format !== 'rich') {
    throw new HttpProblem(400, `valueFormat must be simple, simpleWithArrays or rich.`);
  }
  return format;
}

export async function startCodaServer(options: CodaServerOptions): Promise<CodaServer> {
  const doc = options.doc ?? fixtureDoc;
  const maxPageSize = options.maxPageSize ?? 100;
  const faults = (options.faults ?? []).map((fault) => ({ fault, seen: 0, applied: 0 }));
  const requests: RecordedRequest[] = [];
  const admitted: number[] = [];
  const pendingTimers = new Set<NodeJS.Timeout>();
  const live = new LiveDoc(doc);
  let apiBase = '';

  const docHref = `/docs/${encodeURIComponent(doc.id)}`;
  const tableHref = (table: FixtureTable) => `${apiBase}${docHref}/tables/${encodeURIComponent(table.id)}`;

  function takeFault(target: string): FaultKind | undefined {
    for (const entry of faults) {
      if (!entry.fault.path.test(target)) continue;
      entry.seen += 1;
      if (entry.seen > (entry.fault.skip ?? 0) && entry.applied < (entry.fault.times ?? 1)) {
        entry.applied += 1;
        return entry.fault;
      }
    }
    return undefined;
  }

  /** Milliseconds until a request would be admitted, or undefined when it is admitted now. */
  function rateLimitWait(now: number): number | undefined {
    const limit = options.rateLimit;
    if (!limit) return undefined;
    while (admitted.length && (admitted[0] ?? 0) <= now - limit.windowMs) admitted.shift();
    if (admitted.length < limit.requests) {
      admitted.push(now);
      return undefined;
    }
    return (admitted[0] ?? now) + limit.windowMs - now;
  }

  function displayColumnOf(table: FixtureTable): FixtureColumn {
    const columns = live.columns(table);
    const column = columns.find((candidate) => candidate.display) ?? columns[0];
    if (!column) throw new HttpProblem(500, `fixture table ${table.name} has no columns`);
    return column;
  }

  function findTable(idOrName: string): FixtureTable {
    const table =
      doc.tables.find((candidate) => candidate.id === idOrName) ??
      doc.tables.find((candidate) => candidate.name === idOrName);
    if (!table)
      throw new HttpProblem(404, `Could not find a table with the specified ID or name: ${idOrName}.`);
    return table;
  }

  /** Each fixture table sits on a page of its own name. */
  function pageReference(table: FixtureTable): PublicApiPageReference {
    const pageId = `canvas-${table.id.replace(/^(grid|table)-/, '')}`;
    return {
      id: pageId,
      type: 'page' as PublicApiType.Page,
      href: `${apiBase}${docHref}/pages/${pageId}`,
      browserLink: `${docBrowserLink(doc.id)}/${table.name.replace(/\W+/g, '-')}_su${pageId.slice(7)}`,
      name: table.name,
    };
  }

  function tableReference(table: FixtureTable): PublicApiTableReference & { parent: PublicApiPageReference } {
    return {
      id: table.id,
      type: 'table' as PublicApiType.Table,
      tableType: table.tableType as PublicApiTableType,
      href: tableHref(table),
      browserLink: tableBrowserLink(doc.id, table),
      name: table.name,
      parent: pageReference(table),
    };
  }

  function columnReference(table: FixtureTable, column: FixtureColumn) {
    return {
      id: column.id,
      type: 'column' as PublicApiType.Column,
      href: `${tableHref(table)}/columns/${column.id}`,
    };
  }

  function apiColumn(table: FixtureTable, column: FixtureColumn): PublicApiColumn {
    const { table: targetId, options: choices, currencyFormat, ...format } = column.format;
    const { name, display, calculated, formula } = column;
    return {
      ...columnReference(table, column),
      name,
      ...(display === undefined ? {} : { display }),
      ...(calculated === undefined ? {} : { calculated }),
      ...(formula === undefined ? {} : { formula }),
      // The fixture spells the SDK's enum members as their string values.
      format: {
        ...format,
        ...(targetId ? { table: tableReference(findTable(targetId)) } : {}),
        ...(choices ? { options: choices.map((name) => ({ name })) } : {}),
        ...(currencyFormat ? { format: currencyFormat } : {}),
      } as PublicApiColumnFormat,
    };
  }

  function apiRow(
    table: FixtureTable,
    row: FixtureRow,
    index: number,
    format: ValueFormat,
    useColumnNames: boolean,
  ): CodaRow {
    const displayColumn = displayColumnOf(table);
    return {
      id: row.id,
      type: 'row' as PublicApiType.Row,
      href: `${tableHref(table)}/rows/${row.id}`,
      name: String(formatValue(row.values[displayColumn.id] ?? '', 'simple')),
      index,
      browserLink: rowBrowserLink(doc.id, table, row.id),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      values: Object.fromEntries(
        live
          .columns(table)
          .map((column) => [
            useColumnNames ? column.name : column.id,
            formatValue(row.values[column.id] ?? '', format),
          ]),
      ),
    };
  }

  /** One page of a list: the state comes from the page token when there is one, else from `fresh`. */
  function page<T>(
    url: URL,
    path: string,
    fresh: (limit: number) => ListState,
    cap: number,
    items: (state: ListState) => { count: number; slice: (start: number, end: number) => T[] },
  ): { items: T[]; nextPageToken?: string; state: ListState; last: boolean } {
    const token = url.searchParams.get('pageToken');
    const state = token
      ? decodeToken<ListState>(token, 'page token')
      : fresh(positiveInteger(url.searchParams.get('limit'), 'limit', DEFAULT_PAGE_SIZE));
    if (state.path !== path) throw new HttpProblem(400, 'The page token does not belong to this request.');
    const size = Math.min(state.limit, cap);
    const source = items(state);
    const end = Math.min(source.count, state.offset + size);
    const list = source.slice(state.offset, end);
    const last = end >= source.count;
    return {
      items: list,
      state,
      last,
      ...(last ? {} : { nextPageToken: encodeToken({ ...state, offset: end }) }),
    };
  }

  function listRows(
    url: URL,
    path: string,
    table: FixtureTable,
  ): Omit<PublicApiRowList, 'items'> & { items: CodaRow[] } {
    const syncToken = url.searchParams.get('syncToken');
    const result = page(
      url,
      path,
      (limit) => {
        const sync = syncToken ? decodeToken<SyncState>(syncToken, 'sync token') : undefined;
        if (sync && sync.tableId !== table.id)
          throw new HttpProblem(400, 'The sync token does not belong to this table.');
        // Coda documents no error for a token it no longer honours; 400, as for any bad parameter.
        if (sync && sync.epoch !== live.syncEpoch)
          throw new HttpProblem(400, 'The sync token has expired: read the table without it.');
        return {
          path,
          offset: 0,
          limit,
          valueFormat: sync?.valueFormat ?? valueFormatParam(url.searchParams.get('valueFormat')),
          useColumnNames: sync?.useColumnNames ?? url.searchParams.get('useColumnNames') === 'true',
          docVersion: live.version,
          ...(sync ? { changedAfter: sync.version } : {}),
        };
      },
      maxPageSize,
      (state) => {
        const format = state.valueFormat ?? 'simple';
        const names = state.useColumnNames ?? false;
        if (state.changedAfter === undefined) {
          const slice = (start: number, end: number) =>
            Array.from({ length: Math.max(0, end - start) }, (_, i) =>
              apiRow(table, live.rowAt(table, start + i), start + i, format, names),
            );
          return { count: live.rowCount(table), slice };
        }
        const changed = live
          .changedSince(table, state.changedAfter)
          .map(({ row, index }) => apiRow(table, row, index, format, names));
        return { count: changed.length, slice: (start: number, end: number) => changed.slice(start, end) };
      },
    );
    const { state } = result;
    return {
      ...listOf(result, path),
      ...(result.last
        ? {
            nextSyncToken: encodeToken({
              tableId: table.id,
              version: state.docVersion ?? live.version,
              epoch: live.syncEpoch,
              valueFormat: state.valueFormat ?? 'simple',
              useColumnNames: state.useColumnNames ?? false,
            } satisfies SyncState),
          }
        : {}),
    };
  }

  function route(url: URL, path: string): unknown {
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [root, docId, collection, tableIdOrName, sub, rowIdOrName, ...rest] = segments;
    if (root !== 'docs' || docId === undefined || rest.length) throw new HttpProblem(404, 'Not found.');
    if (docId !== doc.id) throw new HttpProblem(404, `Could not find a doc with the specified ID: ${docId}.`);
    if (collection === undefined) return apiDoc();
    if (collection !== 'tables') throw new HttpProblem(404, 'Not found.');
    if (tableIdOrName === undefined) {
      return listOf(
        page(
          url,
          path,
          (limit) => ({
            path,
            offset: 0,
            limit,
            tableTypes: (url.searchParams.get('tableTypes') ?? 'table,view').split(','),
          }),
          maxPageSize,
          (state) => {
            const tables = doc.tables
              .filter((table) => state.tableTypes?.includes(table.tableType) ?? true)
              .map(tableReference);
            return { count: tables.length, slice: (start: number, end: number) => tables.slice(start, end) };
          },
        ),
        path,
      ) satisfies PublicApiTableList;
    }
    const table = findTable(tableIdOrName);
    if (sub === undefined) return apiTable(table);
    if (sub === 'columns') {
      return listOf(
        page(
          url,
          path,
          (limit) => ({ path, offset: 0, limit }),
          Math.min(maxPageSize, MAX_COLUMN_PAGE_SIZE),
          () => ({
            count: live.columns(table).length,
            slice: (start: number, end: number) =>
              live
                .columns(table)
                .slice(start, end)
                .map((column) => apiColumn(table, column)),
          }),
        ),
        path,
      ) satisfies PublicApiColumnList;
    }
    if (sub !== 'rows') throw new HttpProblem(404, 'Not found.');
    if (rowIdOrName === undefined) return listRows(url, path, table);
    return apiRowDetail(url, table, rowIdOrName);
  }

  function listOf<T>(result: { items: T[]; nextPageToken?: string }, path: string) {
    return {
      items: result.items,
      href: `${apiBase}${path}`,
      ...(result.nextPageToken
        ? {
            nextPageToken: result.nextPageToken,
            nextPageLink: `${apiBase}${path}?pageToken=${result.nextPageToken}`,
          }
        : {}),
    };
  }

  function apiDoc(): PublicApiDoc {
    return {
      id: doc.id,
      type: 'doc' as PublicApiType.Doc,
      href: `${apiBase}${docHref}`,
      browserLink: docBrowserLink(doc.id),
      name: doc.name,
      owner: doc.owner,
      ownerName: doc.ownerName,
      docSize: {
        totalRowCount: doc.tables
          .filter((table) => table.tableType === 'table')
          .reduce((sum, table) => sum + live.rowCount(table), 0),
        tableAndViewCount: doc.tables.length,
        pageCount: doc.tables.length,
        overApiSizeLimit: doc.overApiSizeLimit ?? false,
      },
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      folder: {
        id: 'fl-Br1ghtL1n3',
        type: 'folder' as PublicApiType.Folder,
        browserLink: 'https://coda.io/docs?folderId=fl-Br1ghtL1n3',
      },
      workspace: {
        id: 'ws-Br1ghtWs0',
        type: 'workspace' as PublicApiType.Workspace,
        browserLink: 'https://coda.io/docs?workspaceId=ws-Br1ghtWs0',
      },
      workspaceId: 'ws-Br1ghtWs0',
      folderId: 'fl-Br1ghtL1n3',
    };
  }

  /** OpenAPI 1.5.0 adds a required viewId that the SDK's types predate. */
  function apiTable(table: FixtureTable): PublicApiTable & { viewId: string } {
    const displayColumn = displayColumnOf(table);
    const parentTable = table.parentTableId ? findTable(table.parentTableId) : undefined;
    return {
      ...tableReference(table),
      ...(parentTable ? { parentTable: tableReference(parentTable) } : {}),
      displayColumn: columnReference(table, displayColumn),
      rowCount: live.rowCount(table),
      sorts: [],
      layout: 'default' as PublicApiLayout.Default,
      createdAt: table.createdAt,
      updatedAt: live.updatedAt(table),
      viewId: table.id,
    };
  }

  function apiRowDetail(
    url: URL,
    table: FixtureTable,
    rowIdOrName: string,
  ): Omit<PublicApiRowDetail, 'values'> & Pick<CodaRow, 'values'> {
    const format = valueFormatParam(url.searchParams.get('valueFormat'));
    const useColumnNames = url.searchParams.get('useColumnNames') === 'true';
    for (let index = 0; index < live.rowCount(table); index += 1) {
      const row = apiRow(table, live.rowAt(table, index), index, format, useColumnNames);
      if (row.id === rowIdOrName || row.name === rowIdOrName)
        return { ...row, parent: tableReference(table) };
    }
    throw new HttpProblem(404, `Could not find a row with the specified ID or name: ${rowIdOrName}.`);
  }

  function respond(
    response: http.ServerResponse,
    record: RecordedRequest,
    status: number,
    text: string,
    headers: http.OutgoingHttpHeaders = {},
  ) {
    record.status = status;
    if (response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(text);
  }

  function error(status: number, message: string): string {
    const body: CodaErrorBody = {
      statusCode: status,
      statusMessage: STATUS_CODES[status] ?? 'Error',
      message,
    };
    return JSON.stringify(body);
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://coda.invalid');
    const record: RecordedRequest = {
      at: performance.now(),
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    requests.push(record);
    const path = url.pathname.startsWith(`${API_BASE_PATH}/`)
      ? url.pathname.slice(API_BASE_PATH.length)
      : undefined;
    const fault = path === undefined ? undefined : takeFault(`${path}${url.search}`);

    if (fault?.kind === 'reset') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          resolve();
        }, fault.delayMs);
        pendingTimers.add(timer);
      });
    }
    if (fault?.kind === 'status') {
      return respond(
        response,
        record,
        fault.status,
        error(fault.status, STATUS_CODES[fault.status] ?? 'Injected fault'),
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
    }
    const wait = rateLimitWait(record.at);
    if (wait !== undefined) {
      const retryAfter = options.rateLimit?.retryAfter;
      const seconds = Math.max(1, Math.ceil(wait / 1_000));
      const header =
        retryAfter === 'seconds'
          ? { 'retry-after': String(seconds) }
          : retryAfter === 'http-date'
            ? { 'retry-after': new Date(Date.now() + seconds * 1_000).toUTCString() }
            : {};
      return respond(response, record, 429, error(429, 'Too many requests: slow down.'), header);
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      return respond(
        response,
        record,
        401,
        error(401, 'Unauthorized: the API token is missing, invalid or expired.'),
      );
    }
    if (path === undefined) return respond(response, record, 404, error(404, 'Not found.'));
    if (request.method !== 'GET')
      return respond(response, record, 405, error(405, 'Only reads are served here.'));

    let body: unknown;
    try {
      body = route(url, path);
    } catch (problem) {
      const status = problem instanceof HttpProblem ? problem.status : 500;
      return respond(
        response,
        record,
        status,
        error(status, problem instanceof Error ? problem.message : String(problem)),
      );
    }
    if (fault?.kind === 'stuckPageToken' && url.searchParams.has('pageToken')) {
      body = { ...(body as object), nextPageToken: url.searchParams.get('pageToken') };
    }
    const text = JSON.stringify(body);
    respond(
      response,
      record,
      200,
      fault?.kind === 'malformedJson' ? text.slice(0, Math.floor(text.length / 2)) : text,
    );
  }

  const server = http.createServer((request, response) => {
    // handle() answers every problem it knows of; anything else ends the connection, not the test run.
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  apiBase = `http://127.0.0.1:${port}${API_BASE_PATH}`;

  return {
    baseUrl: apiBase,
    requests,
    addFault: (fault) => faults.push({ fault, seen: 0, applied: 0 }),
    editRow: (tableId, rowId, values) => live.editRow(findTable(tableId), rowId, values),
    insertRow: (tableId, rowId, values) => live.insertRow(findTable(tableId), rowId, values),
    deleteRow: (tableId, rowId) => live.deleteRow(findTable(tableId), rowId),
    moveRow: (tableId, rowId) => live.moveRow(findTable(tableId), rowId),
    setColumns: (tableId, columns) => live.setColumns(findTable(tableId), columns),
    expireSyncTokens: () => live.expireSyncTokens(),
    async close() {
      for (const timer of pendingTimers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
