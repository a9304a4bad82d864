/**
 * The local stand-in for the Traefik routers in compose.yaml: `/erp/people` and
 * `/agent/sessions` reach PostgREST as `/people` and `/sessions` with the schema chosen by
 * Accept-Profile and Content-Profile. PostgREST has no schema-in-path feature, so both
 * production and development add it in front.
 *
 * The profile headers are overwritten, never passed through, so a client cannot switch schema
 * behind a prefix. Requests without a prefix pass unchanged (header-based access).
 *
 * Like Traefik's buffering middleware, it reads a request body whole before passing it on and
 * answers 413 to one larger than MAX_REQUEST_BODY_BYTES: PostgREST never sees it. Like its
 * ratelimit middlewares, it answers 429 to a token or an address past RATE_LIMITS. A client
 * slower than CLIENT_TIMEOUTS_MS gets 408, and past MAX_PROXY_CONNECTIONS a connection is closed.
 */
import http from 'node:http';
import {
  API_SCHEMAS,
  CLIENT_TIMEOUTS_MS,
  MAX_PROXY_CONNECTIONS,
  MAX_REQUEST_BODY_BYTES,
  RATE_LIMITS,
  type ApiSchema,
  type RateLimit,
} from './config.ts';
import { createRateLimiter, type Clock, type RateLimiter } from './rate-limit.ts';

export interface RunningProxy {
  url: string;
  stop(): Promise<void>;
}

/** The schema a path is prefixed with, and the path PostgREST should see. */
export function routeBySchemaPrefix(pathWithQuery: string): { schema: ApiSchema; path: string } | undefined {
  const [, first = '', rest = ''] = /^\/([^/?]*)(.*)$/s.exec(pathWithQuery) ?? [];
  const schema = API_SCHEMAS.find((name) => name === first);
  if (!schema) return undefined;
  return { schema, path: rest.startsWith('/') ? rest : `/${rest}` };
}

const bodyTooLarge = {
  message: `Request body larger than ${MAX_REQUEST_BODY_BYTES / 1024 / 1024} MiB`,
  hint: 'Send fewer rows per request.',
};

export interface ProxyLimits {
  /** null: no rate limit (tests that send thousands of requests on purpose). */
  rateLimits: { perToken: RateLimit; perAddress: RateLimit } | null;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

export const PRODUCTION_PROXY_LIMITS: ProxyLimits = {
  rateLimits: RATE_LIMITS,
  headersTimeoutMs: CLIENT_TIMEOUTS_MS.headers,
  requestTimeoutMs: CLIENT_TIMEOUTS_MS.request,
  maxConnections: MAX_PROXY_CONNECTIONS,
};

/**
 * Safe to send again: a socket kept alive may have been closed by PostgREST just as it was
 * reused, and such a request never reached it. Other methods get a fresh socket each time, so
 * they never meet a closed one.
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

function tooManyRequests(response: http.ServerResponse, who: string, limit: RateLimit, waitSeconds: number) {
  response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(waitSeconds) });
  response.end(
    JSON.stringify({
      message: `Too many requests from this ${who}: at most ${limit.average} a second, ${limit.burst} at once`,
      hint: `Wait ${waitSeconds} s (Retry-After) and send fewer requests at a time.`,
    }),
  );
}

export async function startSchemaProxy({
  target,
  host,
  port,
  limits = PRODUCTION_PROXY_LIMITS,
  clock,
}: {
  target: string;
  host: string;
  port: number;
  limits?: ProxyLimits;
  /** The rate limits' time source; a test holds it still. */
  clock?: Clock;
}): Promise<RunningProxy> {
  const upstream = new URL(target);
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 8 });
  const limiters: {
    who: string;
    limit: RateLimit;
    limiter: RateLimiter;
    key: (r: http.IncomingMessage) => string;
  }[] = limits.rateLimits
    ? [
        // Address first, as Traefik's chain: a request refused for its token still counts for its address.
        {
          who: 'address',
          limit: limits.rateLimits.perAddress,
          limiter: createRateLimiter(limits.rateLimits.perAddress, clock),
          key: (request) => request.socket.remoteAddress ?? '',
        },
        {
          who: 'token',
          limit: limits.rateLimits.perToken,
          limiter: createRateLimiter(limits.rateLimits.perToken, clock),
          key: (request) => request.headers.authorization ?? '',
        },
      ]
    : [];

  const forward = (request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) => {
    const route = routeBySchemaPrefix(request.url ?? '/');
    const headers: http.OutgoingHttpHeaders = { ...request.headers, host: upstream.host };
    delete headers['transfer-encoding'];
    delete headers.connection;
    if (body.length || request.headers['content-length'] !== undefined)
      headers['content-length'] = body.length;
    if (route) {
      headers['accept-profile'] = route.schema;
      headers['content-profile'] = route.schema;
    }
    const idempotent = IDEMPOTENT_METHODS.has(request.method ?? 'GET');
    const send = (retry: boolean) => {
      const forwarded = http.request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: route?.path ?? request.url,
          headers,
          agent: idempotent && !retry ? keepAlive : false,
        },
        (reply) => {
          response.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(response);
        },
      );
      forwarded.on('error', (error: NodeJS.ErrnoException) => {
        if (
          !retry &&
          forwarded.reusedSocket &&
          !response.headersSent &&
          ['ECONNRESET', 'EPIPE'].includes(error.code ?? '')
        )
          return send(true);
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `PostgREST is unreachable: ${error.message}` }));
      });
      forwarded.end(body);
    };
    send(false);
  };
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts at this interval (30 s by default, longer than the timeouts).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs / 4),
    },
    (request, response) => {
      for (const { who, limit, limiter, key } of limiters) {
        const waitSeconds = limiter.take(key(request));
        if (waitSeconds) {
          request.resume();
          return tooManyRequests(response, who, limit, waitSeconds);
        }
      }
      const chunks: Buffer[] = [];
      let received = 0;
      const tooLarge = () => {
        // The rest of the body is read and dropped, so the client gets to read the answer.
        request.removeAllListeners('data');
        request.resume();
        response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        response.end(JSON.stringify(bodyTooLarge));
      };
      if (Number(request.headers['content-length'] ?? 0) > MAX_REQUEST_BODY_BYTES) return tooLarge();
      request.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_REQUEST_BODY_BYTES) tooLarge();
        else chunks.push(chunk);
      });
      request.on('end', () => {
        if (received <= MAX_REQUEST_BODY_BYTES) forward(request, response, Buffer.concat(chunks));
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        keepAlive.destroy();
        server.close(() => resolve());
      }),
  };
}
