/** The `erp` command line run as a user runs it: a child process, real output, real exit status. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { COMPILED_CLI } from '../../bench/cli-process.ts';

const run = promisify(execFile);
/** The compiled CLI, as `erp` runs it; global-setup builds it before any test runs. */
export const CLI = COMPILED_CLI;
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment with `env` on top; an undefined value removes the variable. */
export function cliEnvironment(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const childEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  return childEnv;
}

export async function erp(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: cliEnvironment(env),
      cwd: REPO_ROOT,
      maxBuffer: 50_000_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
