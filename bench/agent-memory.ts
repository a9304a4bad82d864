/**
 * The agent memory's figures (migration 009): agent.recall over the memories of one client among
 * many (default 10 clients x 100,000 = 1,000,000 memories), directly and through PostgREST, and
 * agent.remember throughput; then what recall finds, on the labelled set of bench/recall-quality.ts
 * remembered into the first clients (recall@3, MRR and latency). Written to
 * <out>/agent-memory.{md,json}.
 *
 * Memories are synthetic sentences: English stop words between content words drawn from a
 * Zipf-like distribution (rank r with probability ~ 1/r, ranks 150..50,150, as content words
 * follow the ~150 stop words in real text), numbered so none is a repeat. Their words hold digits,
 * so they never enter the vocabulary that misspelt question words are corrected against (018).
 * Questions are phrased
 * the same way, so common words come up in them as often as in the memories. Each figure is paired with a baseline from the
 * same run (a primary-key lookup the same way), since the machine is shared and noisy.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { mintToken } from '../src/api/jwt.ts';
import { startLocalApi } from '../src/api/local-api.ts';
import { setLoginRolePasswords } from '../src/api/role-passwords.ts';
import { withClient } from '../src/db/client.ts';
import { migrate } from '../src/db/migrations.ts';
import { ensureOwnedDatabase } from '../src/db/target.ts';
import {
  measureRecallQuality,
  type RecallQualityFigures,
  recallQualitySet,
  renderRecallQualityMarkdown,
} from './recall-quality.ts';

const DATABASE = 'bench_agent_memory';
const TARGET_DIRECT_P95_MS = 20;
const TARGET_RECALL_AT_3 = 0.9;
const STOP_WORDS = [
  'the',
  'a',
  'to',
  'and',
  'of',
  'in',
  'for',
  'is',
  'on',
  'with',
  'that',
  'it',
  'was',
  'at',
  'by',
];
const FIRST_CONTENT_RANK = 150;
const CONTENT_RANKS = 50_000;

export interface AgentMemoryBenchOptions {
  /** A superuser connection to the cluster to work in (its `postgres` database). */
  adminUrl: string;
  owner: { user: string; password: string };
  clients?: number;
  memoriesPerClient?: number;
  /** Timed recalls per path (direct, PostgREST), after a warm-up of a tenth as many. */
  recalls?: number;
  rememberCalls?: number;
  /** The passwords the login roles already have (a shared cluster); without them, new random ones are set. */
  loginPasswords?: { authenticator: string; memory_gateway: string };
  log: (line: string) => void;
}

export interface LatencyFigure {
  p50Ms: number;
  p95Ms: number;
  /** The same percentiles of a primary-key lookup made the same way, in this run. */
  baselineP50Ms: number;
  baselineP95Ms: number;
}

export interface AgentMemoryResults {
  clients: number;
  memoriesPerClient: number;
  totalMemories: number;
  generateSeconds: number;
  recalls: number;
  averageResults: number;
  averageMatches: number;
  recallDirect: LatencyFigure;
  recallPostgrest: LatencyFigure;
  rememberCalls: number;
  rememberPerSecond: number;
  targetDirectP95Ms: number;
  /** The labelled set (bench/recall-quality.ts), remembered into the first clients and recalled. */
  quality: RecallQualityFigures;
  targetRecallAt3: number;
  machine: { cpus: number; loadAverage: number[]; date: string };
}

/** Word rank r in FIRST_CONTENT_RANK .. +CONTENT_RANKS with probability ~ 1/r. */
function contentWord(random: () => number): string {
  const ratio = (FIRST_CONTENT_RANK + CONTENT_RANKS) / FIRST_CONTENT_RANK;
  return `word${Math.floor(FIRST_CONTENT_RANK * ratio ** random())}`;
}

function question(random: () => number): string {
  return `what do we know about ${contentWord(random)} and ${contentWord(random)} for the ${contentWord(random)}`;
}

/** The same generator in SQL, for a million rows without a million round trips. */
const GENERATE_MEMORIES = `
  INSERT INTO agent.memory_entries (client_id, content, created_at)
  SELECT $1,
         (SELECT string_agg(($6::text[])[1 + floor(random() * cardinality($6::text[]))::int]
                            || ' word' || floor($4::float8 * power(($4::float8 + $5::float8) / $4::float8, random()))::int, ' ')
            FROM generate_series(1, 8) WHERE n > 0) || ' (' || n || ')',
         now() - random() * interval '365 days'
    FROM generate_series($2::int, $3::int) AS n`;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function latencies(count: number, call: (index: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    await call(index);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

function latencyFigure(times: number[], baseline: number[]): LatencyFigure {
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    p50Ms: round(percentile(times, 0.5)),
    p95Ms: round(percentile(times, 0.95)),
    baselineP50Ms: round(percentile(baseline, 0.5)),
    baselineP95Ms: round(percentile(baseline, 0.95)),
  };
}

/** A seeded generator, so two runs ask the same questions. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function databaseUrl(adminUrl: string, database: string, who: { user: string; password: string }): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  url.username = who.user;
  url.password = who.password;
  return url.toString();
}

export async function runAgentMemoryBench({
  adminUrl,
  owner,
  clients = 10,
  memoriesPerClient = 100_000,
  recalls = 500,
  rememberCalls = 2_000,
  loginPasswords,
  log,
}: AgentMemoryBenchOptions): Promise<AgentMemoryResults> {
  await withClient(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DATABASE)}`),
  );
  await ensureOwnedDatabase(adminUrl, {
    database: DATABASE,
    owner: owner.user,
    ownerPassword: owner.password,
  });
  const ownerUrl = databaseUrl(adminUrl, DATABASE, owner);
  await migrate(ownerUrl);
  const passwords = loginPasswords ?? {
    authenticator: randomBytes(18).toString('hex'),
    memory_gateway: randomBytes(18).toString('hex'),
  };
  if (!loginPasswords) await setLoginRolePasswords(ownerUrl, passwords);
  const clientIds = Array.from({ length: clients }, (_, index) => `client_${index}`);
  const measured = clientIds[0]!;

  const generateStarted = performance.now();
  await withClient(ownerUrl, async (client) => {
    for (const [index, clientId] of clientIds.entries()) {
      const first = index * memoriesPerClient + 1;
      await client.query(GENERATE_MEMORIES, [
        clientId,
        first,
        first + memoriesPerClient - 1,
        FIRST_CONTENT_RANK,
        CONTENT_RANKS,
        STOP_WORDS,
      ]);
      log(
        `agent memory: ${(index + 1) * memoriesPerClient} of ${clients * memoriesPerClient} memories written`,
      );
    }
    await client.query('VACUUM ANALYZE agent.memory_entries');
  });
  const generateSeconds = (performance.now() - generateStarted) / 1000;

  const gateway = new pg.Client({
    connectionString: databaseUrl(adminUrl, DATABASE, {
      user: 'memory_gateway',
      password: passwords.memory_gateway,
    }),
  });
  await gateway.connect();
  const api = await startLocalApi(
    { url: ownerUrl, label: DATABASE, close: async () => {} },
    {
      dataDir: '/nonexistent',
      env: { JWT_SECRET: randomBytes(32).toString('hex'), AUTHENTICATOR_PASSWORD: passwords.authenticator },
    },
  );
  try {
    const questions = (() => {
      const random = seededRandom(14);
      return Array.from({ length: recalls }, () => question(random));
    })();
    const warmUp = Math.max(1, Math.floor(recalls / 10));
    const ids = (
      await gateway.query<{ id: string }>(
        `SELECT id FROM agent.memory_entries WHERE client_id = $1 ORDER BY random() LIMIT $2`,
        [measured, recalls],
      )
    ).rows.map((row) => row.id);

    // Direct: the memory gateway's own connection.
    let results = 0;
    const recallDirectly = (index: number) =>
      gateway.query('SELECT id, score FROM agent.recall($1, $2, 10)', [measured, questions[index]]);
    for (let index = 0; index < warmUp; index += 1) await recallDirectly(index);
    const direct = await latencies(recalls, async (index) => {
      results += (await recallDirectly(index)).rowCount ?? 0;
    });
    const directBaseline = await latencies(recalls, async (index) => {
      await gateway.query('SELECT id, content FROM agent.memory_entries WHERE id = $1', [
        ids[index % ids.length],
      ]);
    });
    // The query builders are the owner's (schema agent_private, no grant to the gateway).
    const matches = await withClient(ownerUrl, (owner) =>
      owner.query<{ average: number }>(
        `SELECT avg((SELECT count(*) FROM agent.memory_entries m
                      WHERE m.client_id = $1 AND m.search_document @@ terms))::float8 AS average
           FROM (SELECT agent_private.memory_any_word(agent_private.memory_search_words(q, '{}')) AS terms
                   FROM unnest($2::text[]) AS q OFFSET 0) AS questions`,
        [measured, questions.slice(0, 50)],
      ),
    );

    // Through PostgREST: an agent_service token scoped to the client, as a per-client agent holds.
    const { token } = mintToken({
      ...api.signingKey,
      role: 'agent_service',
      expiresInSeconds: 3600,
      clientId: measured,
    });
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-profile': 'agent',
      'accept-profile': 'agent',
    };
    const recallOverHttp = async (index: number) => {
      const response = await fetch(`${api.postgrest.url}/rpc/recall`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ client_id: measured, query: questions[index], max_results: 10 }),
      });
      if (!response.ok) throw new Error(`recall over PostgREST: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    };
    for (let index = 0; index < warmUp; index += 1) await recallOverHttp(index);
    const overHttp = await latencies(recalls, recallOverHttp);
    const httpBaseline = await latencies(recalls, async (index) => {
      const response = await fetch(
        `${api.postgrest.url}/memory_entries?id=eq.${ids[index % ids.length]}&select=id,content`,
        { headers },
      );
      await response.arrayBuffer();
    });

    // Remember: one connection, one call after the other; every tenth content is a repeat.
    const random = seededRandom(41);
    const rememberStarted = performance.now();
    for (let index = 0; index < rememberCalls; index += 1) {
      const content =
        index % 10 === 9 ? `remembered ${index - 9}` : `remembered ${index} ${question(random)}`;
      await gateway.query('SELECT id FROM agent.remember($1, $2)', [measured, content]);
    }
    const rememberPerSecond = rememberCalls / ((performance.now() - rememberStarted) / 1000);

    // What recall finds, among the generated memories of the first clients.
    const quality = await measureRecallQuality(gateway, recallQualitySet(clientIds, seededRandom(27)));

    return {
      clients,
      memoriesPerClient,
      totalMemories: clients * memoriesPerClient,
      generateSeconds: Math.round(generateSeconds),
      recalls,
      averageResults: results / recalls,
      averageMatches: Math.round(matches.rows[0]!.average),
      recallDirect: latencyFigure(direct, directBaseline),
      recallPostgrest: latencyFigure(overHttp, httpBaseline),
      rememberCalls,
      rememberPerSecond: Math.round(rememberPerSecond),
      targetDirectP95Ms: TARGET_DIRECT_P95_MS,
      quality,
      targetRecallAt3: TARGET_RECALL_AT_3,
      machine: {
        cpus: os.cpus().length,
        loadAverage: os.loadavg().map((load) => Math.round(load * 10) / 10),
        date: new Date().toISOString(),
      },
    };
  } finally {
    await api.stop();
    await gateway.end();
    await withClient(adminUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DATABASE)} WITH (FORCE)`),
    );
  }
}

export function renderAgentMemoryMarkdown(results: AgentMemoryResults): string {
  const met = results.recallDirect.p95Ms < results.targetDirectP95Ms;
  const row = (label: string, figure: LatencyFigure, baseline: string) =>
    `| ${label} | ${figure.p50Ms} | ${figure.p95Ms} | ${baseline}: ${figure.baselineP50Ms} / ${figure.baselineP95Ms} |`;
  return `# Agent memory benchmark

${results.totalMemories.toLocaleString('en')} memories of ${results.clients} clients (${results.memoriesPerClient.toLocaleString('en')} each), written in ${results.generateSeconds} s. Recall of the first client, ${results.recalls} questions per path after a warm-up, one after the other; on average ${results.averageMatches} of its memories share a word with a question, ${results.averageResults.toFixed(1)} are returned.

| agent.recall, 10 results | p50 ms | p95 ms | baseline p50 / p95 ms |
|---|---|---|---|
${row('directly (memory_gateway connection)', results.recallDirect, 'primary-key SELECT')}
${row('through PostgREST (client-scoped agent_service token)', results.recallPostgrest, 'GET one row by id')}

agent.remember: ${results.rememberPerSecond} calls/s (${results.rememberCalls} calls on one connection, one in ten a repeat).

Target: p95 of recall directly under ${results.targetDirectP95Ms} ms: **${met ? 'met' : 'missed'}** (${results.recallDirect.p95Ms} ms).

${renderRecallQualityMarkdown(results.quality, results.targetRecallAt3)}
Machine: ${results.machine.cpus} CPUs, load average ${results.machine.loadAverage.join(' / ')} (1 / 5 / 15 min) at the end, ${results.machine.date}.
`;
}

export async function writeAgentMemoryResults(results: AgentMemoryResults, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const markdown = path.join(dir, 'agent-memory.md');
  await writeFile(markdown, renderAgentMemoryMarkdown(results));
  await writeFile(path.join(dir, 'agent-memory.json'), `${JSON.stringify(results, null, 2)}\n`);
  return markdown;
}
