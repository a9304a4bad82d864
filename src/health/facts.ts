/**
 * What `erp doctor` looks at, gathered without judging it (src/health/checks.ts judges, and
 * src/report/doctor.ts words the verdicts): the database and its migrations, the last cutover and
 * reconcile, expired agent memories, PostgREST's readiness, the newest backup, and free disk
 * space. Each part is gathered on its own, so one that cannot be read does not hide the others.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { withClient } from '../db/client.ts';
import { migrationStatus, newerThanCode } from '../db/migrations.ts';

export interface RunFact {
  outcome: string;
  startedAt: Date;
  finishedAt: Date | null;
}

export type DatabaseFacts =
  | {
      reachable: true;
      sizeBytes: number;
      /** Migrations of this code not applied yet. */
      pending: string[];
      /** Applied files changed since, or applied and gone from the code without a newer release. */
      altered: string[];
      /** Applied by a newer release (an application rollback leaves these). */
      newer: string[];
      lastCutover?: RunFact;
      lastReconcile?: RunFact;
      expiredMemories: { count: number; oldestExpiry?: Date };
    }
  | { reachable: false; error: string };

export type PostgrestFacts =
  | { configured: false }
  | { configured: true; url: string; ready: boolean; status?: number; error?: string };

export interface BackupFact {
  path: string;
  modifiedAt: Date;
  sizeBytes: number;
}

export interface DiskFact {
  path: string;
  /** The file system's device: paths on one disk are judged once. */
  device: number;
  freeBytes: number;
  totalBytes: number;
}

export interface HealthFacts {
  database: DatabaseFacts;
  postgrest: PostgrestFacts;
  backups: { folders: string[]; newest?: BackupFact };
  disks: DiskFact[];
}

/** The last run of a mode; ids may be reused after a restore, so the newest start wins. */
const LAST_RUN = `
  SELECT outcome, started_at, finished_at
    FROM "pipeline"."runs"
   WHERE mode = $1
   ORDER BY started_at DESC, id DESC
   LIMIT 1`;
const EXPIRED_MEMORIES = `
  SELECT count(*)::int AS count, min(expires_at) AS oldest
    FROM "agent"."memory_entries"
   WHERE expires_at <= now()`;
const DATABASE_SIZE = `SELECT pg_database_size(current_database())::float8 AS size`;

async function gatherDatabase(url: string): Promise<DatabaseFacts> {
  try {
    const status = await migrationStatus(url);
    return await withClient(url, async (client) => {
      const lastRun = async (mode: string): Promise<RunFact | undefined> => {
        const { rows } = await client.query<{ outcome: string; started_at: Date; finished_at: Date | null }>(
          LAST_RUN,
          [mode],
        );
        const row = rows[0];
        return row && { outcome: row.outcome, startedAt: row.started_at, finishedAt: row.finished_at };
      };
      // Before the migrations that create them, the tables are simply not there yet.
      const exists = async (table: string) =>
        (await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]))
          .rows[0]!.found;
      const expired = async () => {
        const row = (await client.query<{ count: number; oldest: Date | null }>(EXPIRED_MEMORIES)).rows[0]!;
        return { count: row.count, oldestExpiry: row.oldest ?? undefined };
      };
      const size = (await client.query<{ size: number }>(DATABASE_SIZE)).rows[0]!.size;
      const hasRuns = await exists('pipeline.runs');
      return {
        reachable: true as const,
        sizeBytes: size,
        pending: status.pending.map((file) => file.name),
        altered: status.applied
          .filter(({ state }) => state === 'edited' || state === 'missing-file')
          .map(({ name }) => name),
        newer: newerThanCode(status),
        lastCutover: hasRuns ? await lastRun('cutover') : undefined,
        lastReconcile: hasRuns ? await lastRun('reconcile') : undefined,
        expiredMemories: (await exists('agent.memory_entries')) ? await expired() : { count: 0 },
      };
    });
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  }
}

async function gatherPostgrest(url: string | undefined): Promise<PostgrestFacts> {
  if (!url) return { configured: false };
  try {
    const response = await fetch(new URL('/ready', url), { signal: AbortSignal.timeout(5000) });
    return { configured: true, url, ready: response.ok, status: response.status };
  } catch (error) {
    return {
      configured: true,
      url,
      ready: false,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** `*.dump` files in the folders and one level below them (a cutover keeps its backup in its run folder). */
async function newestBackup(folders: string[]): Promise<BackupFact | undefined> {
  const found: BackupFact[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // a folder that is not there holds no backup
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && depth > 0) await visit(file, depth - 1);
      else if (entry.isFile() && entry.name.endsWith('.dump')) {
        const info = await stat(file);
        found.push({ path: file, modifiedAt: info.mtime, sizeBytes: info.size });
      }
    }
  };
  for (const folder of folders) await visit(folder, 1);
  return found.sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime())[0];
}

async function disk(target: string): Promise<DiskFact | undefined> {
  try {
    const [info, { dev }] = await Promise.all([statfs(target), stat(target)]);
    return {
      path: target,
      device: dev,
      freeBytes: info.bavail * info.bsize,
      totalBytes: info.blocks * info.bsize,
    };
  } catch {
    return undefined; // not there: the backup check already says where nothing was found
  }
}

export interface GatherOptions {
  databaseUrl: string;
  postgrestUrl?: string;
  backupFolders: string[];
  diskPaths: string[];
}

export async function gatherHealthFacts(options: GatherOptions): Promise<HealthFacts> {
  const [database, postgrest, newest, disks] = await Promise.all([
    gatherDatabase(options.databaseUrl),
    gatherPostgrest(options.postgrestUrl),
    newestBackup(options.backupFolders),
    Promise.all(options.diskPaths.map(disk)),
  ]);
  return {
    database,
    postgrest,
    backups: { folders: options.backupFolders, newest },
    disks: disks.filter((fact) => fact !== undefined),
  };
}
