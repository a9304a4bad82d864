/**
 * The local proxy on its own, in front of a stand-in upstream: sockets reused without 502s when
 * the upstream closes them, rate limits per token and per address at production figures (with a
 * held clock), slow clients and the connection cap (with injected short timeouts).
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RATE_LIMITS } from '../../src/api/config.ts';
import { createRateLimiter } from '../../src/api/rate-limit.ts';
import {
  PRODUCTION_PROXY_LIMITS,
  startSchemaProxy,
  type ProxyLimits,
  type RunningProxy,
} from '../../src/api/schema-proxy.ts';
import { freePort } from '../../src/shared/ports.ts';

const HOST = '127.0.0.1';
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const DROP_EVERY = 20;

/**
 * Answers 200 (201 to a POST) with the path it saw, except that every kept-alive socket is
 * dropped without an answer when its 20th request arrives: what PostgREST closing an idle
 * socket looks like to a proxy that reuses it at that moment.
 */
async function droppingUpstream(): Promise<{ url: string; dropped: () => number; received: () => number }> {
  let dropped = 0;
  let received = 0;
  const served = new WeakMap<net.Socket, number>();
  const server = http.createServer((request, response) => {
    received += 1;
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count % DROP_EVERY === 0) {
      dropped += 1;
      request.socket.destroy();
      return;
    }
    request.resume();
    request.on('end', () => {
      response.writeHead(request.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ path: request.url, profile: request.headers['accept-profile'] ?? null }));
    });
  });
  server.keepAliveTimeout = 60_000;
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://${HOST}:${port}`, dropped: () => dropped, received: () => received };
}

async function proxyTo(
  target: string,
  limits: Partial<ProxyLimits> = {},
  clock?: () => number,
): Promise<RunningProxy> {
  const proxy = await startSchemaProxy({
    target,
    host: HOST,
    port: await freePort(),
    limits: { ...PRODUCTION_PROXY_LIMITS, rateLimits: null, ...limits },
    clock,
  });
  stops.push(proxy.stop);
  return proxy;
}

describe('reused sockets', () => {
  it('10,000 sequential and 200 parallel requests get no 502 while the upstream drops every 20th request of a socket', async () => {
    const upstream = await droppingUpstream();
    const proxy = await proxyTo(upstream.url);
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // A kept-alive client of its own, as a script hammering the API would hold (and lighter than fetch).
    const client = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let index = 0; index < 10_000; index += 1)
        count(
          await new Promise<number>((resolve, reject) => {
            http
              .get(`${proxy.url}/erp/people?id=eq.${index}`, { agent: client }, (response) => {
                response.resume();
                response.on('end', () => resolve(response.statusCode ?? 0));
              })
              .on('error', reject);
          }),
        );
    } finally {
      client.destroy();
    }
    const parallel = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        const response = await fetch(`${proxy.url}/agent/plans?id=eq.${index}`, {
          method: index % 2 ? 'GET' : 'POST',
          body: index % 2 ? undefined : '{}',
        });
        return {
          status: response.status,
          body: (await response.json()) as { path: string; profile: string },
        };
      }),
    );
    for (const { status } of parallel) count(status);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 10_100, 201: 100 });
    expect(parallel[7]!.body).toEqual({ path: '/plans?id=eq.7', profile: 'agent' });
    // The race was provoked, hundreds of times, and every dropped request was sent again.
    expect(upstream.dropped()).toBeGreaterThan(400);
  }, 60_000);
});

describe('rate limits, at production figures', () => {
  const { perToken, perAddress } = RATE_LIMITS;

  it('a token bucket lets a burst through, then the average, and tells how long to wait', () => {
    let now = 0;
    const limiter = createRateLimiter(perToken, () => now);
    const granted = Array.from({ length: perToken.burst + 1 }, () => limiter.take('a'));
    expect(granted.filter((wait) => wait === 0)).toHaveLength(perToken.burst);
    expect(granted.at(-1)).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    const second = Array.from({ length: perToken.average + 1 }, () => limiter.take('a'));
    expect(second.filter((wait) => wait === 0)).toHaveLength(perToken.average);
  });

  it('one token past its burst gets 429 with Retry-After; another token from the same address goes on', async () => {
    const upstream = await droppingUpstream();
    let now = 0;
    const proxy = await proxyTo(upstream.url, { rateLimits: RATE_LIMITS }, () => now);
    const send = async (token: string) => {
      const response = await fetch(`${proxy.url}/erp/people?id=eq.1`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.json(),
      };
    };
    const burst: Awaited<ReturnType<typeof send>>[] = [];
    for (let index = 0; index <= perToken.burst; index += 1) burst.push(await send('alice'));
    expect(burst.slice(0, -1).every((response) => response.status === 200)).toBe(true);
    expect(burst.at(-1)).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: {
        message: `Too many requests from this token: at most ${perToken.average} a second, ${perToken.burst} at once`,
      },
    });
    expect((await send('bob')).status).toBe(200);
    now += 1000;
    const after: number[] = [];
    for (let index = 0; index <= perToken.average; index += 1) after.push((await send('alice')).status);
    expect(after).toEqual([...Array(perToken.average).fill(200), 429]);
  });

  it('one address past its burst gets 429 whatever token it sends', async () => {
    const upstream = await droppingUpstream();
    const proxy = await proxyTo(upstream.url, { rateLimits: RATE_LIMITS }, () => 0);
    const statuses: number[] = [];
    // A fresh token every few requests, so only the address limit can refuse.
    for (let index = 0; index <= perAddress.burst; index += 1) {
      const response = await fetch(`${proxy.url}/erp/people`, {
        headers: { authorization: `Bearer token-${Math.floor(index / 4)}` },
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(perAddress.burst);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('slow clients and connections', () => {
  /** Connects, writes `sent`, and resolves with whatever the proxy answers before closing. */
  async function answerTo(proxy: RunningProxy, sent: string): Promise<string> {
    const { port } = new URL(proxy.url);
    const socket = net.connect(Number(port), HOST, () => socket.write(sent));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    // A connection refused for the cap is reset rather than closed: either way it ends unanswered.
    socket.on('error', () => {});
    await new Promise((resolve) => socket.on('close', resolve));
    return answer;
  }

  it('headers not finished in time get 408 and the connection closed', async () => {
    const upstream = await droppingUpstream();
    const proxy = await proxyTo(upstream.url, { headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const answer = await answerTo(proxy, 'GET /erp/people HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a body not finished in time gets 408 and never reaches the upstream', async () => {
    const upstream = await droppingUpstream();
    const proxy = await proxyTo(upstream.url, { headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const answer = await answerTo(
      proxy,
      'POST /erp/people HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{"full',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(upstream.received()).toBe(0);
  });

  it('connections past the cap are closed at once, unanswered', async () => {
    const upstream = await droppingUpstream();
    const proxy = await proxyTo(upstream.url, { maxConnections: 2 });
    const { port } = new URL(proxy.url);
    const held = await Promise.all(
      [1, 2].map(async () => {
        const socket = net.connect(Number(port), HOST);
        await once(socket, 'connect');
        return socket;
      }),
    );
    try {
      expect(await answerTo(proxy, 'GET /erp/people HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
