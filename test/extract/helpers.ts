/** Shared by the extract tests: fake servers that are always stopped, temporary folders, clocks, the CLI. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { CodaClient, systemClock, type Clock, type CodaClientOptions } from '../../src/extract/index.ts';
import { type CliResult, startErp } from '../support/cli.ts';
import { startCodaServer, type CodaServer, type CodaServerOptions } from '../../bench/coda-server/server.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Distinctive, so that finding it anywhere in output is unambiguous. */
export const TOKEN = 'tok_SECRET-do-not-leak-7f3a9c21e5';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A fake Coda on a free port, stopped after the test. */
export async function codaServer(options: Partial<CodaServerOptions> = {}): Promise<CodaServer> {
  const server = await startCodaServer({ token: TOKEN, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** A temporary folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erp-extract-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The real clock with waits shrunk by `scale`; `sleeps` keeps the waits that were asked for. */
export function scaledClock(scale: number): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: systemClock.now,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return systemClock.sleep(ms * scale, signal);
    },
  };
}

/** A client for `server`: a scaled rate (20 per 200 ms), fast waits, deterministic jitter. */
export function testClient(server: CodaServer, options: Partial<CodaClientOptions> = {}): CodaClient {
  return new CodaClient({
    baseUrl: server.baseUrl,
    token: TOKEN,
    rateLimit: { requests: 20, intervalMs: 200 },
    clock: scaledClock(0.01),
    random: () => 0.5,
    timeoutMs: 2_000,
    ...options,
  });
}

/** Starts `erp` as users run it, with only the Coda settings given here in its environment. */
export function startCli(args: string[], env: Record<string, string>): ReturnType<typeof startErp> {
  const inheritedCoda = Object.keys(process.env).filter((name) => name.startsWith('CODA_'));
  const started = startErp(args, {
    ...Object.fromEntries(inheritedCoda.map((name) => [name, undefined])),
    ...env,
  });
  const { child, result } = started;
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await result.catch(() => undefined);
  });
  return started;
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).result;
}

/** Resolves once `condition` holds, checking every few milliseconds (for events in another process). */
export async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every file under `dir`, with its content. */
export async function readTree(dir: string): Promise<{ file: string; content: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
  return Promise.all(files.map(async (file) => ({ file, content: await readFile(file, 'utf8') })));
}
