/**
 * compose.yaml read the way `docker compose` reads it, for rehearsing the runbook without Docker:
 * `.env` next to it, `${VAR:?message}` / `${VAR:-default}` / `$$` interpolation, YAML merge keys,
 * and the `docker compose ...` command lines the docs show, parsed and checked against it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
  volumes?: string[];
  restart?: string;
  secrets?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  /** Each secret's file, as compose.yaml names it (relative to the checkout). */
  secrets: Record<string, { file: string }>;
}

export function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
      .filter((match) => match !== null)
      .map((match) => [match[1]!, match[2]!]),
  );
}

/** Compose's variable syntax; a missing `:?` variable fails as compose fails, with its message. */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:\?|:-)([^}]*))?\}/g,
    (whole, name: string | undefined, operator: string | undefined, argument: string | undefined) => {
      if (whole === '$$') return '$';
      const value = env[name!];
      if (value) return value;
      if (operator === ':?') throw new Error(`required variable ${name} is missing a value: ${argument}`);
      return operator === ':-' ? (argument ?? '') : '';
    },
  );
}

function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env)]));
  return value;
}

/** compose.yaml of a checkout, interpolated with the checkout's .env (as `docker compose` does). */
export function loadCompose(checkout: string): ComposeFile {
  const envFile = path.join(checkout, '.env');
  const env = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : {};
  const raw = parse(readFileSync(path.join(checkout, 'compose.yaml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
  return {
    services: interpolateAll(raw.services, env) as ComposeFile['services'],
    secrets: raw.secrets ?? {},
  };
}

export interface ComposeInvocation {
  profiles: string[];
  subcommand: string;
  options: string[];
  services: string[];
  /** For run and exec: the command after the service name. */
  command: string[];
}

/** Options that take a value, per subcommand: `kill -s SIGUSR1 postgrest-erp`. */
const OPTIONS_WITH_VALUE: Record<string, string[]> = {
  kill: ['-s'],
  logs: ['--tail', '--since'],
  exec: ['-u'],
};

/** Shell words, quotes removed; enough for the docs' command lines. */
export function shellWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

/** `docker compose [--profile P]... SUB [options] [service...] [command...]`, the arguments after `compose`. */
export function parseComposeInvocation(args: string[]): ComposeInvocation {
  const profiles: string[] = [];
  let index = 0;
  while (args[index] === '--profile') {
    profiles.push(args[index + 1]!);
    index += 2;
  }
  const subcommand = args[index++] ?? '';
  const options: string[] = [];
  const services: string[] = [];
  const takesValue = OPTIONS_WITH_VALUE[subcommand] ?? [];
  while (index < args.length && args[index]!.startsWith('-')) {
    const option = args[index++]!;
    options.push(takesValue.includes(option) ? `${option} ${args[index++]}` : option);
  }
  if (subcommand === 'run' || subcommand === 'exec') {
    services.push(args[index++] ?? '');
    return { profiles, subcommand, options, services, command: args.slice(index) };
  }
  services.push(...args.slice(index));
  return { profiles, subcommand, options, services, command: [] };
}

/** What is wrong with a compose command line against the file, in words (empty when nothing). */
export function composeProblems(compose: ComposeFile, invocation: ComposeInvocation): string[] {
  const problems: string[] = [];
  for (const name of invocation.services) {
    const service = compose.services[name];
    if (!service) {
      problems.push(`compose.yaml has no service "${name}"`);
      continue;
    }
    for (const profile of invocation.profiles)
      if (!service.profiles?.includes(profile))
        problems.push(
          `--profile ${profile} does not enable "${name}" (its profiles: ${service.profiles ?? 'none'})`,
        );
    // exec needs a running container: only the long-running services have one.
    if (invocation.subcommand === 'exec' && service.restart !== 'unless-stopped')
      problems.push(`"${name}" is a one-shot job with no running container to exec into; use run`);
  }
  return problems;
}
