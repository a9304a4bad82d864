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
 * answers 413 to one larger than MAX_REQUEST_BODY_BYTES: PostgREST never sees it.
 */
import http from 'node:http';
import { API_SCHEMAS, MAX_REQUEST_BODY_BYTES, type ApiSchema } from './config.ts';

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

export async function startSchemaProxy({
  target,
  host,
  port,
}: {
  target: string;
  host: string;
  port: number;
}): Promise<RunningProxy> {
  const upstream = new URL(target);
  const forward = (request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) => {
    const route = routeBySchemaPrefix(request.url ?? '/');
    const headers: http.OutgoingHttpHeaders = { ...request.headers, host: upstream.host };
    delete headers['transfer-encoding'];
    if (body.length || request.headers['content-length'] !== undefined)
      headers['content-length'] = body.length;
    if (route) {
      headers['accept-profile'] = route.schema;
      headers['content-profile'] = route.schema;
    }
    const forwarded = http.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: route?.path ?? request.url,
        headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    forwarded.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: `PostgREST is unreachable: ${error.message}` }));
    });
    forwarded.end(body);
  };
  const server = http.createServer((request, response) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
