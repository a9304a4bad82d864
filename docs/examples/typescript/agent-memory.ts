/**
 * Agent memory from a TypeScript service with node-postgres (`pg`), as the memory gateway login.
 *
 *   DATABASE_URL=postgresql://memory_gateway:...@postgres-erp:5432/portfolio \
 *     node --import tsx docs/examples/typescript/agent-memory.ts recall telegram:12345 "invoice preferences"
 *
 * Commands: remember CLIENT_ID CONTENT [TTL_MINUTES] | recall CLIENT_ID QUERY |
 * forget CLIENT_ID MEMORY_ID | set-fact CLIENT_ID FACT_KEY FACT_VALUE |
 * facts-as-of CLIENT_ID VALID_AT [KNOWN_AT]. Each prints JSON.
 * test/docs/agent-memory-examples.test.ts runs these functions against a test database.
 *
 * The work happens in SQL functions of schema agent (migration 009): the service passes the
 * client's id and never builds search or ranking itself. Call them with named arguments, so an
 * optional one can be left out.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export function createPool(databaseUrl: string): pg.Pool {
  // A small pool: the database allows each service role only a few connections.
  return new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'agent-memory-example' });
}

export interface Memory {
  id: string;
  content: string;
  repeat_count: number;
  expires_at: Date | null;
}

/** The same content again (case, spacing, punctuation and hyphens ignored) returns the same memory, counted. */
export async function remember(
  pool: pg.Pool,
  clientId: string,
  content: string,
  ttlMinutes: number | null = null,
): Promise<Memory> {
  const { rows } = await pool.query<Memory>(
    `SELECT id, content, repeat_count, expires_at
       FROM agent.remember(client_id => $1, content => $2, ttl_minutes => $3)`,
    [clientId, content, ttlMinutes],
  );
  return rows[0]!;
}

export interface Recalled {
  id: string;
  content: string;
  score: number;
}

/** Best first; pass an embedding (1536 numbers) to let vector similarity join the ranking. */
export async function recall(
  pool: pg.Pool,
  clientId: string,
  query: string,
  { maxResults = 5, embedding }: { maxResults?: number; embedding?: number[] } = {},
): Promise<Recalled[]> {
  const { rows } = await pool.query<Recalled>(
    `SELECT id, content, score
       FROM agent.recall(client_id => $1, query => $2, max_results => $3, query_embedding => $4::real[])`,
    [clientId, query, maxResults, embedding ?? null],
  );
  return rows;
}

/** 1 when the memory was removed, 0 when the client has no such memory. */
export async function forget(pool: pg.Pool, clientId: string, memoryId: string): Promise<number> {
  const { rows } = await pool.query<{ removed: number }>(
    `SELECT agent.forget(client_id => $1, memory_id => $2) AS removed`,
    [clientId, memoryId],
  );
  return rows[0]!.removed;
}

/** Facts are append-only: a new value is a new version; the old one stays for as-of questions. */
export async function setFact(pool: pg.Pool, clientId: string, factKey: string, factValue: string): Promise<void> {
  await pool.query(`INSERT INTO agent.memory_facts (client_id, fact_key, fact_value) VALUES ($1, $2, $3)`, [
    clientId,
    factKey,
    factValue,
  ]);
}

/** What we believed at knownAt (default: now) about the client's facts at validAt. */
export async function factsAsOf(
  pool: pg.Pool,
  clientId: string,
  validAt: Date,
  knownAt: Date = new Date(),
): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ fact_key: string; fact_value: string }>(
    `SELECT fact_key, fact_value FROM agent.memory_facts_as_of($1, $2, $3)`,
    [clientId, validAt, knownAt],
  );
  return Object.fromEntries(rows.map((fact) => [fact.fact_key, fact.fact_value]));
}

async function main([command, clientId, ...rest]: string[]): Promise<unknown> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Set DATABASE_URL');
  if (!clientId) throw new Error('Give a command and a client id');
  const pool = createPool(databaseUrl);
  try {
    switch (command) {
      case 'remember':
        return await remember(pool, clientId, rest[0] ?? '', rest[1] ? Number(rest[1]) : null);
      case 'recall':
        return await recall(pool, clientId, rest[0] ?? '');
      case 'forget':
        return await forget(pool, clientId, rest[0] ?? '');
      case 'set-fact':
        return await setFact(pool, clientId, rest[0] ?? '', rest[1] ?? '');
      case 'facts-as-of':
        return await factsAsOf(pool, clientId, new Date(rest[0] ?? ''), rest[1] ? new Date(rest[1]) : undefined);
      default:
        throw new Error(`Unknown command ${command}`);
    }
  } finally {
    await pool.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result ?? null)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
