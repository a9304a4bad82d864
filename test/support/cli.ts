/**
 * The one way tests run the `erp` command line: as a user runs it, a child process with real
 * output and a real exit status.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMPILED_CLI } from '../../bench/cli-process.ts';

/** The compiled CLI, as `erp` runs it; global-setup builds it before any test runs. */
const CLI = COMPILED_CLI;
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  /** null when the process was ended by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment with `env` on top; an undefined value removes the variable. */
export function cliEnvironment(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const childEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  return childEnv;
}

/** Starts `erp`, for commands that run until stopped; `result` settles when it exits. */
export function startErp(
  args: string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcessWithoutNullStreams; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cliEnvironment(env),
    cwd: REPO_ROOT,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result };
}

/** Runs `erp` to its end. */
export function erp(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startErp(args, env).result;
}
