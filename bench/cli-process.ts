/**
 * Runs the real `erp` CLI as a child process, as an owner would, and records how long it took
 * and its peak resident memory (VmHWM, the kernel's high-water mark of the resident set).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `erp` runs: src/ compiled by `npm run build`. */
export const COMPILED_CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** VmHWM only grows, so polling misses at most what the last interval before exit added. */
const MEMORY_POLL_MS = 20;

export interface CliRun {
  seconds: number;
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

async function readPeakRss(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    // The process has exited between two polls.
    return undefined;
  }
}

/**
 * Compiles src/ into dist/ as `npm run build` does (without npm's own start-up), so the bench and
 * the tests never run JavaScript older than the sources.
 */
export function buildCli(): void {
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
}

/**
 * `node dist/cli/main.js …` directly (as bin/erp.js runs it), so the pid polled is the CLI's own.
 * Fails with the CLI's stderr when it fails.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const run = await runNode([COMPILED_CLI, ...args], env);
  if (run.peakRssBytes === 0) throw new Error(`erp ${args[0]} ended before its memory could be read`);
  return run;
}

/** Any Node process, timed and its memory polled the same way (the CLI's baselines). */
export async function runNode(args: string[], env: Record<string, string>): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  let peakRssBytes = 0;
  let polling = Promise.resolve();
  const poller = setInterval(() => {
    polling = polling.then(async () => {
      peakRssBytes = Math.max(peakRssBytes, (await readPeakRss(pid)) ?? 0);
    });
  }, MEMORY_POLL_MS);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearInterval(poller));
  await polling;
  const seconds = (performance.now() - started) / 1000;
  const run = {
    seconds,
    peakRssBytes,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  if (exitCode !== 0)
    throw new Error(`node ${args.join(' ')} exited with ${exitCode}:\n${run.stderr || run.stdout}`);
  return run;
}
