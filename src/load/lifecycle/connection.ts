/**
 * The connections a run works on: the load's own (its transaction, its lock) and a second one
 * for the run's record, which stays on record when the load's transaction rolls back or dies.
 */
import type pg from 'pg';
import { openClient } from '../../db/client.ts';

/**
 * The load's session keeps a chunk's staging tables in memory: temp_buffers (8 MB by default,
 * 4 MB in deploy/postgresql.conf) holds less than one chunk's stage, which then goes through the
 * file system at every step. 32 MB fits the 300 MB database container. Only a session's first
 * temporary table fixes it, hence at connection.
 */
const LOAD_SESSION_OPTIONS = '-c temp_buffers=32MB';

export async function connect(url: string, purpose: string, { loading = false } = {}): Promise<pg.Client> {
  const client = await openClient(url, {
    application_name: `erp ${purpose}`,
    ...(loading ? { options: LOAD_SESSION_OPTIONS } : {}),
  });
  // A connection lost between queries is reported by the next query, which fails the run and
  // rolls it back; as an event it would only crash the process.
  client.on('error', () => lostConnections.add(client));
  return client;
}

const lostConnections = new WeakSet<pg.Client>();

/** The server ended the session (57P0x) or the connection broke. */
export function isConnectionLoss(error: unknown, client: pg.Client): boolean {
  return lostConnections.has(client) || /^57P0/.test((error as { code?: string }).code ?? '');
}

/**
 * The row history triggers (migration 007) record what this transaction writes under `runId`;
 * without it (null) they record nothing, which is how edits made in Postgres stay apart. Only
 * what is committed needs a history: plans and reconciliation passes, always rolled back, skip it.
 */
export async function recordRowHistoryAs(client: pg.ClientBase, runId: string | null): Promise<void> {
  await client.query(`SELECT set_config('pipeline.run_id', $1, true)`, [runId ?? '']);
}
