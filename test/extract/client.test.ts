import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  CodaApiError,
  CodaClient,
  formatRetryNotice,
  formatSlowAnswerNotice,
  systemClock,
  type Clock,
  type CodaRow,
  type RetryNotice,
  type RowPage,
} from '../../src/extract/index.ts';
import { RequestQueue } from '../../src/extract/request-queue.ts';
import { freePort } from '../../src/shared/ports.ts';
import {
  FIXTURE_DOC_ID,
  fixtureDoc,
  projectsTable,
  tasksTable,
} from '../../bench/coda-server/fixture-doc.ts';
import { syntheticTable } from '../../bench/coda-server/synthetic.ts';
import { codaServer, scaledClock, testClient } from './helpers.ts';

const bigTable = syntheticTable({ id: 'grid-BigT4ble01', name: 'Big Table', rowCount: 1_234 });
const docWithBigTable = { ...fixtureDoc, tables: [...fixtureDoc.tables, bigTable] };

async function allRows(pages: AsyncIterable<RowPage>): Promise<{ rows: CodaRow[]; pages: number }> {
  const rows: CodaRow[] = [];
  let count = 0;
  for await (const page of pages) {
    rows.push(...page.rows);
    count += 1;
  }
  return { rows, pages: count };
}

describe('reading a table', () => {
  it('follows page tokens until none is left: a table spanning many pages arrives complete and in order', async () => {
    const server = await codaServer({ doc: docWithBigTable, maxPageSize: 100 });
    const { rows, pages } = await allRows(testClient(server).rowPages(FIXTURE_DOC_ID, bigTable));

    expect(pages).toBe(13);
    expect(rows.map((row) => row.id)).toEqual(
      Array.from({ length: bigTable.rowCount }, (_, index) => bigTable.rowAt(index).id),
    );
    const rowRequests = server.requests.filter((request) => request.path.endsWith('/rows'));
    expect(rowRequests[0]?.query).toMatch(/valueFormat=rich/);
    expect(rowRequests[0]?.query).toMatch(/limit=1000/);
    // Later pages send the token alone: the server ignores everything else anyway.
    expect(rowRequests.slice(1).every((request) => /^\?pageToken=[^&]+$/.test(request.query))).toBe(true);
  });

  it('pages through columns too, keeping their ids and order', async () => {
    const server = await codaServer({ maxPageSize: 4 });
    const columns = await testClient(server).listColumns(FIXTURE_DOC_ID, projectsTable);
    expect(columns.map((column) => column.id)).toEqual(projectsTable.columns.map((column) => column.id));
    expect(server.requests.filter((request) => request.path.endsWith('/columns'))).toHaveLength(
      Math.ceil(projectsTable.columns.length / 4),
    );
  });

  it('lists base tables only, asking Coda to leave views out', async () => {
    const server = await codaServer({ maxPageSize: 3 });
    const tables = await testClient(server).listBaseTables(FIXTURE_DOC_ID);
    expect(tables.map((table) => table.id)).toEqual(
      fixtureDoc.tables.filter((table) => table.tableType === 'table').map((table) => table.id),
    );
    expect(tables.map((table) => table.id)).not.toContain('table-AcTPrj018');
    expect(server.requests[0]?.query).toMatch(/tableTypes=table(&|$)/);
  });

  it('fails clearly when the server hands back a page token it already sent', async () => {
    const server = await codaServer({
      doc: docWithBigTable,
      faults: [{ kind: 'stuckPageToken', path: /\/rows\?pageToken=/, times: Infinity }],
    });
    const reading = allRows(testClient(server).rowPages(FIXTURE_DOC_ID, bigTable));
    await expect(reading).rejects.toThrow(
      /Coda sent the same page token twice while listing the rows of table "Big Table" \(grid-BigT4ble01\) in doc hR7tK2mQxZ/,
    );
    expect(server.requests.length).toBeLessThan(5);
  });
});

describe('the doc', () => {
  it('is refused when Coda says it is over the API size limit', async () => {
    const server = await codaServer({ doc: { ...fixtureDoc, overApiSizeLimit: true } });
    await expect(testClient(server).getDoc(FIXTURE_DOC_ID)).rejects.toThrow(
      /Doc "Brightline Consulting: Operations" \(hR7tK2mQxZ\) is over Coda's API size limit.*will not serve its data/,
    );
  });
});

describe('refusals fail at once, naming the doc or table and what to check', () => {
  const cases = [
    {
      status: 401,
      path: /^\/docs\/[^/]+$/,
      call: 'doc',
      message: /401 Unauthorized.*doc hR7tK2mQxZ.*Check CODA_API_TOKEN/,
    },
    {
      status: 403,
      path: /^\/docs\/[^/]+$/,
      call: 'doc',
      message:
        /denied access to doc hR7tK2mQxZ \(403 Forbidden\).*shared with the account that owns the API token/,
    },
    {
      status: 404,
      path: /\/columns/,
      call: 'columns',
      message:
        /could not find table "Tasks" \(grid-T4sKs9Lm0\) in doc hR7tK2mQxZ \(404 Not Found\)\. Check the table id/,
    },
    {
      status: 410,
      path: /\/rows/,
      call: 'rows',
      message: /Table "Tasks" \(grid-T4sKs9Lm0\) in doc hR7tK2mQxZ has been deleted in Coda \(410 Gone\)/,
    },
  ] as const;

  for (const { status, path, call, message } of cases) {
    it(`${status}`, async () => {
      const server = await codaServer({ faults: [{ kind: 'status', status, path, times: Infinity }] });
      const client = testClient(server);
      const attempt =
        call === 'doc'
          ? client.getDoc(FIXTURE_DOC_ID)
          : call === 'columns'
            ? client.listColumns(FIXTURE_DOC_ID, tasksTable)
            : allRows(client.rowPages(FIXTURE_DOC_ID, tasksTable));
      const error = await attempt.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CodaApiError);
      expect((error as CodaApiError).status).toBe(status);
      expect((error as Error).message).toMatch(message);
      expect(server.requests).toHaveLength(1);
    });
  }

  it('404 for an unknown doc says which id to check', async () => {
    const server = await codaServer();
    await expect(testClient(server).getDoc('NoSuchDoc1')).rejects.toThrow(
      /could not find doc NoSuchDoc1.*Check the doc id NoSuchDoc1 \(the part after "_d"/,
    );
  });
});

describe('faults that retrying can fix', () => {
  it('retries 409, 5xx, a reset connection, malformed JSON and a timeout, and gets every row', async () => {
    const server = await codaServer({
      faults: [
        { kind: 'status', status: 409, path: /^\/docs\/[^/]+$/ },
        { kind: 'status', status: 503, path: /\/rows/ },
        { kind: 'reset', path: /\/rows/ },
        { kind: 'malformedJson', path: /\/rows/ },
        { kind: 'slow', delayMs: 1_000, path: /\/rows/ },
      ],
    });
    const client = testClient(server, { timeoutMs: 150 });
    await client.getDoc(FIXTURE_DOC_ID);
    const { rows } = await allRows(client.rowPages(FIXTURE_DOC_ID, tasksTable));

    expect(rows.map((row) => row.id)).toEqual(tasksTable.rows.map((row) => row.id));
    expect(client.stats.transientFailures).toBe(5);
    // 0: reset, and the slow answer the client stopped waiting for (the server has not sent it yet).
    expect(server.requests.map((request) => request.status)).toEqual([409, 200, 503, 0, 200, 0, 200]);
  });

  it('gives up after a bounded number of retries, saying what failed', async () => {
    const server = await codaServer({
      faults: [{ kind: 'status', status: 500, path: /\/rows/, times: Infinity }],
    });
    const client = testClient(server, { retry: { transientRetries: 3 } });
    await expect(allRows(client.rowPages(FIXTURE_DOC_ID, tasksTable))).rejects.toThrow(
      /Gave up reading table "Tasks" \(grid-T4sKs9Lm0\) in doc hR7tK2mQxZ from http:\/\/127\.0\.0\.1:\d+\/apis\/v1 after 4 attempts; last problem: HTTP 500/,
    );
    expect(server.requests).toHaveLength(4);
  });

  it('backs off exponentially with jitter between attempts', async () => {
    const server = await codaServer({
      faults: [{ kind: 'status', status: 502, path: /^\/docs\//, times: 3 }],
    });
    const clock = scaledClock(0.01);
    await testClient(server, { clock, random: () => 0.5, retry: { baseDelayMs: 1_000 } }).getDoc(
      FIXTURE_DOC_ID,
    );
    // Half of each doubling step, plus random() times the other half.
    expect(clock.sleeps).toEqual([750, 1_500, 3_000]);
  });
});

describe('rate limits', () => {
  /**
   * Every request the client sends, as the one shared queue saw it. How that queue paces and
   * holds is tested on fake timers in request-queue.test.ts; here, what the client hands it.
   */
  function watchQueue() {
    const run = vi.spyOn(RequestQueue.prototype, 'run');
    const holdFor = vi.spyOn(RequestQueue.prototype, 'holdFor');
    onTestFinished(() => {
      run.mockRestore();
      holdFor.mockRestore();
    });
    return {
      queues: () => new Set([...run.mock.contexts, ...holdFor.mock.contexts]).size,
      runs: () => run.mock.calls.map(([, options]) => options.retry),
      holds: () => holdFor.mock.calls.map(([ms]) => ms),
    };
  }

  it('sends all concurrent reads of every table through one queue, and nothing around it', async () => {
    const server = await codaServer({
      doc: {
        ...fixtureDoc,
        tables: [
          ...fixtureDoc.tables,
          syntheticTable({ id: 'grid-P4c1ngT01', name: 'Pacing', rowCount: 1_500 }),
        ],
      },
      maxPageSize: 25,
    });
    const watched = watchQueue();
    const client = testClient(server, { rateLimit: { requests: 1_000, intervalMs: 100 } });
    const tables = await client.listBaseTables(FIXTURE_DOC_ID);
    await Promise.all(tables.map((table) => allRows(client.rowPages(FIXTURE_DOC_ID, table))));

    expect(server.requests.length).toBeGreaterThanOrEqual(60);
    expect(watched.queues()).toBe(1);
    expect(watched.runs()).toHaveLength(server.requests.length);
    expect(watched.runs().every((retry) => retry === false)).toBe(true);
  });

  it('a 429 storm completes, every retry queued ahead and the whole queue held back off (no Retry-After)', async () => {
    const server = await codaServer({
      doc: {
        ...fixtureDoc,
        tables: [
          ...fixtureDoc.tables,
          syntheticTable({ id: 'grid-St0rmT4b1', name: 'Storm', rowCount: 1_500 }),
        ],
      },
      maxPageSize: 50,
      faults: [{ kind: 'status', status: 429, path: /\/rows/, times: 8 }],
    });
    const watched = watchQueue();
    const client = testClient(server, { clock: scaledClock(0) });

    const tables = await client.listBaseTables(FIXTURE_DOC_ID);
    const counts = await Promise.all(
      tables.map(async (table) => (await allRows(client.rowPages(FIXTURE_DOC_ID, table))).rows.length),
    );

    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(
      1_500 +
        fixtureDoc.tables.filter((t) => t.tableType === 'table').reduce((sum, t) => sum + t.rowCount, 0),
    );
    const refused = server.requests.filter((request) => request.status === 429).length;
    expect(refused).toBe(8);
    expect(client.stats.rateLimited).toBe(8);
    expect(watched.queues()).toBe(1);
    expect(watched.runs().filter((retry) => retry)).toHaveLength(8);
    // Without Retry-After: backoff, at least half of the first step (1 s) and at most the cap.
    expect(watched.holds()).toHaveLength(8);
    for (const ms of watched.holds()) expect(ms).toBeGreaterThanOrEqual(500);
    for (const ms of watched.holds()) expect(ms).toBeLessThanOrEqual(60_000);
  });

  it('honours Retry-After in seconds, holding back the shared queue, not only the request refused', async () => {
    const server = await codaServer({
      faults: [{ kind: 'status', status: 429, retryAfter: '1', path: /grid-T4sKs9Lm0\/rows/ }],
    });
    const watched = watchQueue();
    const clock = scaledClock(0);
    const client = testClient(server, { clock });
    const tables = await client.listBaseTables(FIXTURE_DOC_ID);
    await Promise.all(tables.map((table) => allRows(client.rowPages(FIXTURE_DOC_ID, table))));

    expect(clock.sleeps).toEqual([1_000]);
    expect(watched.holds()).toEqual([1_000]);
    expect(watched.queues()).toBe(1);
    const tasksReads = server.requests.filter((request) => request.path.endsWith('grid-T4sKs9Lm0/rows'));
    expect(tasksReads.map((request) => request.status)).toEqual([429, 200]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const server = await codaServer({ rateLimit: { requests: 1, windowMs: 2_500, retryAfter: 'http-date' } });
    const clock = scaledClock(0.01);
    const client = testClient(server, { clock });
    await client.getDoc(FIXTURE_DOC_ID);
    await client.getDoc(FIXTURE_DOC_ID).catch(() => undefined);
    // The server's date is whole seconds, 3 s ahead: 2-3 s from now.
    expect(clock.sleeps[0]).toBeGreaterThan(1_900);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(3_000);
  });

  it('stops after a bounded number of 429s with a message saying what to change', async () => {
    const server = await codaServer({
      faults: [{ kind: 'status', status: 429, path: /^\/docs\//, times: Infinity }],
    });
    await expect(
      testClient(server, { retry: { rateLimitRetries: 2 } }).getDoc(FIXTURE_DOC_ID),
    ).rejects.toThrow(
      /kept answering 429 Too Many Requests for doc hR7tK2mQxZ after 2 retries\. Lower the rate \(--rate-limit or CODA_RATE_LIMIT, now 20\/200ms\)/,
    );
  });
});

describe('when Coda does not answer', () => {
  it('says what it retries and for how long before the first wait begins, not after', async () => {
    // A port nobody listens on: every attempt is refused at once.
    const port = await freePort();
    const events: string[] = [];
    const clock: Clock = {
      now: systemClock.now,
      sleep: (ms) => {
        events.push(`wait ${ms}`);
        return Promise.resolve();
      },
    };
    const client = new CodaClient({
      baseUrl: `http://127.0.0.1:${port}/apis/v1`,
      token: 'no-server-token',
      rateLimit: { requests: 100, intervalMs: 1_000 },
      clock,
      random: () => 0.5,
      retry: { transientRetries: 2 },
      onRetry: (notice) => events.push(formatRetryNotice(notice)),
    });
    await expect(client.listBaseTables(FIXTURE_DOC_ID)).rejects.toThrow(/after 3 attempts/);
    const [first, firstWait] = events;
    expect(first).toBe(
      `Reading doc ${FIXTURE_DOC_ID} failed (the connection was refused (check --base-url or CODA_API_BASE_URL)): trying again in 0.8 s (retry 1 of 2); giving up within 3.0 s if it keeps failing`,
    );
    // The first retry's wait is under 2 s, and the notice comes before it.
    expect(firstWait).toBe('wait 750');
    expect(events).toHaveLength(4);
  });

  it('counts the timeout of every attempt left when Coda answers nothing at all', async () => {
    const server = await codaServer({
      faults: [{ kind: 'slow', delayMs: 1_000, path: /^\/docs\//, times: 1 }],
    });
    const notices: RetryNotice[] = [];
    const client = testClient(server, { timeoutMs: 150, onRetry: (notice) => notices.push(notice) });
    await client.getDoc(FIXTURE_DOC_ID);
    expect(notices).toEqual([
      expect.objectContaining({ retry: 1, retries: 5, problem: 'no answer within 0.15 s' }),
    ]);
    // Waits of at most 1 + 2 + 4 + 8 + 16 s, and five more attempts of 0.15 s each.
    expect(notices[0]!.giveUpWithinMs).toBe(31_000 + 5 * 150);
  });

  it('says a read Coda keeps silent about is still waited for, once, before any answer or retry', async () => {
    const server = await codaServer({
      faults: [{ kind: 'slow', delayMs: 300, path: /^\/docs\//, times: 1 }],
    });
    const events: string[] = [];
    const client = testClient(server, {
      // The silence is timed by a clock whose waits end at once: the notice comes before the answer.
      slowAnswerClock: { sleep: () => Promise.resolve() },
      timeoutMs: 10_000,
      onSlowAnswer: (notice) => events.push(formatSlowAnswerNotice(notice)),
      onRetry: () => events.push('retry'),
    });
    await client.getDoc(FIXTURE_DOC_ID);
    events.push('answered');
    expect(events).toEqual([
      `Coda has not answered doc ${FIXTURE_DOC_ID} for 2.0 s: waiting up to 10 s for this try, then retrying (up to 5 times)`,
      'answered',
    ]);
  });
});
