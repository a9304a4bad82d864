/**
 * A read-only Coda API v1 client for extraction: the doc, its base tables, their columns and
 * their rows, every request through one rate-limited queue, retried where retrying can help.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import type { z } from 'zod';
import type {
  CodaRow,
  PublicApiColumn,
  PublicApiDoc,
  PublicApiTable,
  PublicApiTableReference,
} from './coda-api-types.ts';
import { displayBaseUrl, formatRateLimit, type CodaConnection } from './config.ts';
import { CodaApiError, describeSubject, refusalMessage, type RequestSubject } from './errors.ts';
import { RequestQueue } from './request-queue.ts';
import {
  columnListSchema,
  describeIssue,
  docSchema,
  errorBodySchema,
  rowListSchema,
  tableListSchema,
  tableSchema,
} from './response-schemas.ts';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  longestWaits,
  parseRetryAfter,
  type RetryPolicy,
} from './retry-policy.ts';
import { systemClock, type Clock, type Random } from './timing.ts';

/** Columns are documented to come at most 100 per page. */
const COLUMN_PAGE_LIMIT = 100;
/** Coda caps pages at its own (undocumented, changing) maximum; asking for more costs nothing. */
const LARGE_PAGE_LIMIT = 1_000;
const DEFAULT_TIMEOUT_MS = 60_000;
/** A person starts to wonder after a couple of seconds of silence. */
const DEFAULT_SLOW_ANSWER_MS = 2_000;

export interface CodaClientOptions extends CodaConnection {
  /** Per request; a request that takes longer is retried. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: Random;
  /** Told before each wait for a retry of a request Coda did not answer, so a person is not left waiting in silence. */
  onRetry?: (notice: RetryNotice) => void;
  /** Told once per read when Coda has not answered it for `slowAnswerAfterMs`, long before the timeout. */
  onSlowAnswer?: (notice: SlowAnswerNotice) => void;
  slowAnswerAfterMs?: number;
  /** Times the silence alone, apart from `clock`, whose waits are the retries' own. */
  slowAnswerClock?: Pick<Clock, 'sleep'>;
}

/** A read Coda has not answered yet, said while the client still waits. */
export interface SlowAnswerNotice {
  subject: string;
  waitedMs: number;
  /** How long this try waits in all before it is given up and retried. */
  timeoutMs: number;
  retries: number;
}

/** A request about to be tried again, and how long the client may keep trying. */
export interface RetryNotice {
  /** What is being read, in words. */
  subject: string;
  problem: string;
  /** 1 for the first retry. */
  retry: number;
  retries: number;
  waitMs: number;
  /** The most the remaining waits and attempts can take before the client gives up. */
  giveUpWithinMs: number;
}

export interface CodaClientStats {
  /** Requests sent, including retries. */
  requests: number;
  rateLimited: number;
  transientFailures: number;
}

/** A table as requests need it: the id to address it, the name to report it by. */
export type TableIdentity = Pick<PublicApiTableReference, 'id' | 'name'>;

type QueryParams = Record<string, string | number | boolean>;

type Outcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'rateLimited'; retryAfterMs: number | undefined }
  | { kind: 'transient'; problem: string; timedOut?: boolean }
  | { kind: 'refused'; status: number; codaMessage: string | undefined };

interface Page<T> {
  items: T[];
  nextPageToken?: string | null;
  nextSyncToken?: string | null;
}

/** A page of rows; the last page carries the token that later returns the rows changed since. */
export interface RowPage {
  rows: CodaRow[];
  nextSyncToken?: string;
}

export class CodaClient {
  readonly stats: CodaClientStats = { requests: 0, rateLimited: 0, transientFailures: 0 };
  /** The base URL without credentials, for messages and snapshots. */
  readonly baseUrl: string;
  private readonly http: Promise<AxiosInstance>;
  private readonly queue: RequestQueue;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly timeoutMs: number;
  private readonly rateLimitText: string;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;
  private readonly onSlowAnswer: ((notice: SlowAnswerNotice) => void) | undefined;
  private readonly slowAnswerAfterMs: number;
  private readonly slowAnswerClock: Pick<Clock, 'sleep'>;

  constructor(options: CodaClientOptions) {
    this.baseUrl = displayBaseUrl(options.baseUrl);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRetry = options.onRetry;
    this.onSlowAnswer = options.onSlowAnswer;
    this.slowAnswerAfterMs = options.slowAnswerAfterMs ?? DEFAULT_SLOW_ANSWER_MS;
    this.slowAnswerClock = options.slowAnswerClock ?? systemClock;
    this.rateLimitText = formatRateLimit(options.rateLimit);
    this.queue = new RequestQueue(options.rateLimit, this.clock);
    // axios is loaded with the first request, not at start-up: it is a good part of the CLI's
    // start-up time, and most commands never call Coda.
    this.http = import('axios').then(({ default: axios }) =>
      axios.create({
        baseURL: options.baseUrl,
        timeout: this.timeoutMs,
        headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
        // The body is parsed here so that a malformed one is retried instead of arriving as a string.
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        // Statuses are classified here; axios would throw them with the request headers attached.
        validateStatus: () => true,
      }),
    );
  }

  /** The doc's metadata; refuses a doc that Coda says is over the API size limit. */
  async getDoc(docId: string, signal?: AbortSignal): Promise<PublicApiDoc> {
    const doc = await this.get<PublicApiDoc>(
      `/docs/${encodeURIComponent(docId)}`,
      {},
      docSchema,
      { docId },
      signal,
    );
    if (doc.docSize?.overApiSizeLimit) {
      const { totalRowCount, tableAndViewCount } = doc.docSize;
      throw new CodaApiError(
        `Doc "${doc.name}" (${docId}) is over Coda's API size limit (${totalRowCount} rows in ${tableAndViewCount} tables and views), ` +
          'so Coda will not serve its data through the API. Make the doc smaller (archive or delete old rows, remove unused tables) and try again.',
      );
    }
    return doc;
  }

  /** Base tables only: views hide columns and rows, and their data is in their base table anyway. */
  async listBaseTables(docId: string, signal?: AbortSignal): Promise<PublicApiTableReference[]> {
    const tables: PublicApiTableReference[] = [];
    const path = `/docs/${encodeURIComponent(docId)}/tables`;
    const params = { tableTypes: 'table', limit: LARGE_PAGE_LIMIT };
    for await (const page of this.pages<PublicApiTableReference>(
      path,
      params,
      tableListSchema,
      'tables',
      { docId },
      signal,
    )) {
      // Filtered again in case the filter is ignored: a view read as a table would duplicate rows.
      tables.push(...page.items.filter((table) => table.tableType === 'table'));
    }
    return tables;
  }

  /** Every column of a table, as Coda describes it (ids are stable, names are not). */
  async listColumns(docId: string, table: TableIdentity, signal?: AbortSignal): Promise<PublicApiColumn[]> {
    const columns: PublicApiColumn[] = [];
    const path = `${tablePath(docId, table)}/columns`;
    const subject = { docId, table };
    for await (const page of this.pages<PublicApiColumn>(
      path,
      { limit: COLUMN_PAGE_LIMIT },
      columnListSchema,
      'columns',
      subject,
      signal,
    )) {
      columns.push(...page.items);
    }
    return columns;
  }

  /** One table's metadata: its `updatedAt` and `rowCount` say whether its rows need reading again. */
  getTable(docId: string, table: TableIdentity, signal?: AbortSignal): Promise<PublicApiTable> {
    return this.get<PublicApiTable>(tablePath(docId, table), {}, tableSchema, { docId, table }, signal);
  }

  /**
   * A table's rows page by page, values keyed by column id in the rich format (the only one that
   * keeps row references and people resolvable), so callers can write each page and drop it.
   * With `syncToken`, only the rows changed since the read that handed it out (Coda keeps the
   * parameters of that read in the token, and lists no deleted rows).
   */
  async *rowPages(
    docId: string,
    table: TableIdentity,
    options: { syncToken?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<RowPage> {
    const params: QueryParams = { valueFormat: 'rich', useColumnNames: false, limit: LARGE_PAGE_LIMIT };
    if (options.syncToken !== undefined) params.syncToken = options.syncToken;
    const pages = this.pages<CodaRow>(
      `${tablePath(docId, table)}/rows`,
      params,
      rowListSchema,
      'rows',
      { docId, table },
      options.signal,
    );
    for await (const page of pages) {
      yield {
        rows: page.items,
        ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      };
    }
  }

  /** Follows nextPageToken until it is absent; a token seen twice would mean reading forever. */
  private async *pages<T>(
    path: string,
    firstParams: QueryParams,
    schema: z.ZodType,
    listing: string,
    subject: RequestSubject,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Page<T>> {
    const seenTokens = new Set<string>();
    let pageToken: string | undefined;
    do {
      // With a pageToken Coda ignores every other parameter: the token carries them.
      const page = await this.get<Page<T>>(
        path,
        pageToken === undefined ? firstParams : { pageToken },
        schema,
        subject,
        signal,
      );
      yield page;
      pageToken = page.nextPageToken ?? undefined;
      if (pageToken !== undefined) {
        if (seenTokens.has(pageToken)) {
          throw new CodaApiError(
            `Coda sent the same page token twice while listing the ${listing} of ${describeSubject(subject)} ` +
              `(after ${seenTokens.size + 1} pages); stopping instead of reading the same pages forever.`,
          );
        }
        seenTokens.add(pageToken);
      }
    } while (pageToken !== undefined);
  }

  /** One GET, queued, retried on 429 and transient failures, its body checked against `schema`. */
  private async get<T>(
    path: string,
    params: QueryParams,
    schema: z.ZodType,
    subject: RequestSubject,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let rateLimitedRetries = 0;
    let transientRetries = 0;
    let saidSlow = false;
    const saySlow = () => {
      if (saidSlow || !this.onSlowAnswer) return;
      saidSlow = true;
      this.onSlowAnswer({
        subject: describeSubject(subject),
        waitedMs: this.slowAnswerAfterMs,
        timeoutMs: this.timeoutMs,
        retries: this.retry.transientRetries,
      });
    };
    for (;;) {
      signal?.throwIfAborted();
      const retry = rateLimitedRetries + transientRetries > 0;
      const outcome = await this.queue.run(() => this.sendWatched(path, params, signal, saySlow), {
        retry,
        signal,
      });
      switch (outcome.kind) {
        case 'ok': {
          const check = schema.safeParse(outcome.body);
          if (!check.success) {
            throw new CodaApiError(
              `Coda's answer for ${describeSubject(subject)} (GET ${path}) is not what the extractor expects: ${describeIssue(check.error)}`,
            );
          }
          // Checked for the fields the extractor relies on; the rest is Coda's, as typed by its SDK.
          return outcome.body as T;
        }
        case 'rateLimited': {
          this.stats.rateLimited += 1;
          if (rateLimitedRetries >= this.retry.rateLimitRetries) {
            throw new CodaApiError(
              `Coda kept answering 429 Too Many Requests for ${describeSubject(subject)} after ${rateLimitedRetries} retries. ` +
                `Lower the rate (--rate-limit or CODA_RATE_LIMIT, now ${this.rateLimitText}) or try again later.`,
              429,
            );
          }
          rateLimitedRetries += 1;
          await this.queue.holdFor(
            outcome.retryAfterMs ?? backoffDelay(rateLimitedRetries, this.retry, this.random),
            signal,
          );
          break;
        }
        case 'transient': {
          this.stats.transientFailures += 1;
          if (transientRetries >= this.retry.transientRetries) {
            throw new CodaApiError(
              `Gave up reading ${describeSubject(subject)} from ${this.baseUrl} after ${transientRetries + 1} attempts; last problem: ${outcome.problem}.`,
            );
          }
          transientRetries += 1;
          const waitMs = backoffDelay(transientRetries, this.retry, this.random);
          const retries = this.retry.transientRetries;
          // Every attempt left may itself wait out the timeout when Coda does not answer at all.
          const attemptsMs = outcome.timedOut ? (retries - transientRetries + 1) * this.timeoutMs : 0;
          this.onRetry?.({
            subject: describeSubject(subject),
            problem: outcome.problem,
            retry: transientRetries,
            retries,
            waitMs,
            giveUpWithinMs: longestWaits(transientRetries, this.retry, retries) + attemptsMs,
          });
          await this.clock.sleep(waitMs, signal);
          break;
        }
        case 'refused':
          throw new CodaApiError(
            refusalMessage(outcome.status, subject, outcome.codaMessage),
            outcome.status,
          );
      }
    }
  }

  /** `send`, saying so (once per read) when Coda keeps silent past slowAnswerAfterMs. */
  private async sendWatched(
    path: string,
    params: QueryParams,
    signal: AbortSignal | undefined,
    saySlow: () => void,
  ): Promise<Outcome> {
    const answered = new AbortController();
    this.slowAnswerClock.sleep(this.slowAnswerAfterMs, answered.signal).then(saySlow, () => {});
    try {
      return await this.send(path, params, signal);
    } finally {
      answered.abort();
    }
  }

  private async send(path: string, params: QueryParams, signal: AbortSignal | undefined): Promise<Outcome> {
    this.stats.requests += 1;
    let response: AxiosResponse<string>;
    try {
      response = await (await this.http).get<string>(path, { params, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { kind: 'transient', ...this.networkProblem(error) };
    }
    const { status } = response;
    if (status === 429) {
      const header = response.headers['retry-after'] as string | undefined;
      return { kind: 'rateLimited', retryAfterMs: parseRetryAfter(header, this.clock.now()) };
    }
    // 409: "doc is not available to the API yet"; 5xx: Coda's side. Both pass.
    if (status === 409 || status >= 500) return { kind: 'transient', problem: `HTTP ${status}` };
    const body = parseJson(response.data);
    if (status >= 200 && status < 300) {
      return body === undefined
        ? { kind: 'transient', problem: 'a malformed or truncated JSON body' }
        : { kind: 'ok', body };
    }
    return { kind: 'refused', status, codaMessage: errorBodySchema.safeParse(body).data?.message };
  }

  /** A description of a failure without a response, built from the error code only. */
  private networkProblem(error: unknown): { problem: string; timedOut?: boolean } {
    // An axios error carries the Node error code of the failed request.
    const code = (error as { isAxiosError?: boolean; code?: string }).isAxiosError
      ? (error as { code?: string }).code
      : undefined;
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT')
      return { problem: `no answer within ${this.timeoutMs / 1_000} s`, timedOut: true };
    if (code === 'ECONNRESET') return { problem: 'the connection was reset' };
    if (code === 'ECONNREFUSED')
      return { problem: 'the connection was refused (check --base-url or CODA_API_BASE_URL)' };
    return { problem: `a network error (${code ?? 'unknown'})` };
  }
}

function tablePath(docId: string, table: TableIdentity): string {
  return `/docs/${encodeURIComponent(docId)}/tables/${encodeURIComponent(table.id)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
