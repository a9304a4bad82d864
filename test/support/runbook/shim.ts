/**
 * Stands in for `docker` and `npm` while test/docs/runbook.test.ts runs the docs' commands
 * verbatim through /bin/sh, in a scratch checkout (RUNBOOK_CHECKOUT) whose code, migrations and
 * Dockerfile link to this repository's (the test swaps its migrations to act out a rollback).
 * Node runs with symlinks preserved, so the CLI finds migrations/ and docs/ where the checkout
 * or the image layout puts them, as it would in a real checkout or container.
 *
 * `docker compose` is read from the checkout's compose.yaml and .env as compose reads them, and
 * each command runs what the container would run, here: `run` starts the service's entrypoint
 * and command in a folder laid out like the image's /app (the Dockerfile's COPY lines) with the
 * service's volumes linked in; `exec` into postgres-erp runs the Postgres tool against the test
 * database; `up` runs postgres-erp's entrypoint check and the one-shot `migrate`. Only the
 * network location changes: postgres-erp:5432/portfolio becomes the test database (RUNBOOK_DB_URL).
 * `build` checks the tool image's tag against the checkout's version, as the Dockerfile does;
 * the other lifecycle commands (ps, restart, stop, kill, down) are checked against compose.yaml
 * only. A service's /run/secrets/NAME is the checkout's file of that secret (secrets/NAME).
 * `npm run erp -- ...` runs package.json's erp script as a developer would, against the test database.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
  composeProblems,
  loadCompose,
  parseComposeInvocation,
  type ComposeFile,
  type ComposeInvocation,
  type ComposeService,
} from './compose.ts';

const setting = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the shim runs only inside test/docs/runbook.test.ts`);
  return value;
};
const CHECKOUT = setting('RUNBOOK_CHECKOUT');
const TEST_DATABASE = new URL(setting('RUNBOOK_DB_URL'));
/** In the image POSTGRES_USER (erp_admin) is the cluster's superuser; on the test cluster that is another role. */
const TEST_SUPERUSER = new URL(setting('RUNBOOK_DB_SUPERUSER_URL'));
/** How the Postgres tools reach the test cluster as that superuser (-U, where given, names it too). */
const SUPERUSER_ENVIRONMENT = {
  PATH: process.env.PATH,
  PGHOST: TEST_SUPERUSER.hostname,
  PGPORT: TEST_SUPERUSER.port,
  PGUSER: decodeURIComponent(TEST_SUPERUSER.username),
  PGPASSWORD: decodeURIComponent(TEST_SUPERUSER.password),
};
const CODA_API_BASE_URL = setting('RUNBOOK_CODA_API_BASE_URL');
const SCRATCH = path.join(CHECKOUT, '.rehearsal');
const PRESERVE_SYMLINKS = '--preserve-symlinks --preserve-symlinks-main';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** A connection string of compose's network pointed at the test database instead. */
function toTestDatabase(url: string): string {
  const parsed = new URL(url);
  parsed.host = TEST_DATABASE.host;
  parsed.pathname = TEST_DATABASE.pathname;
  return parsed.toString();
}

/**
 * The service's environment with each /run/secrets/NAME it names pointed at the checkout's file
 * of that secret; a secret the service does not list is not mounted, so it stays unreadable.
 */
function withSecretFiles(compose: ComposeFile, service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => {
      const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
      const file = secret && service.secrets?.includes(secret) ? compose.secrets[secret]?.file : undefined;
      return [key, file ? path.resolve(CHECKOUT, file) : value];
    }),
  );
}

function containerEnvironment(compose: ComposeFile, service: ComposeService): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    NODE_OPTIONS: PRESERVE_SYMLINKS,
    ...withSecretFiles(compose, service),
  };
  if (env.DATABASE_URL) env.DATABASE_URL = toTestDatabase(env.DATABASE_URL);
  // compose leaves the Coda API at its real address; the rehearsal's doc is served locally, with
  // the developer shell's rate limit (the local server has none to respect).
  if ('CODA_API_TOKEN' in env) {
    env.CODA_API_BASE_URL = CODA_API_BASE_URL;
    if (process.env.CODA_RATE_LIMIT) env.CODA_RATE_LIMIT = process.env.CODA_RATE_LIMIT;
  }
  return env;
}

/** The image's ENTRYPOINT and what its COPY lines put into /app, from the Dockerfile. */
function image(): { entrypoint: string[]; copied: string[] } {
  const dockerfile = readFileSync(path.join(CHECKOUT, 'Dockerfile'), 'utf8');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
  const copied = [...dockerfile.matchAll(/^COPY (.+)$/gm)].flatMap((match) => {
    const parts = match[1]!.split(/\s+/);
    // Built in an earlier stage (COPY --from=build /app/dist ./dist): the checkout's own build.
    if (parts[0]!.startsWith('--from=')) return [path.basename(parts.at(-1)!)];
    return parts.slice(0, -1);
  });
  return { entrypoint, copied };
}

/** A folder laid out like the container's /app: the image's files, then the service's volumes over them. */
function containerRoot(name: string, service: ComposeService): string {
  mkdirSync(SCRATCH, { recursive: true });
  const root = mkdtempSync(path.join(SCRATCH, `${name}-`));
  // A file copied by both build stages of the Dockerfile is linked once.
  for (const source of new Set([...image().copied, 'node_modules']))
    symlinkSync(path.join(CHECKOUT, source), path.join(root, path.basename(source)));
  for (const folder of ['runs', 'snapshots']) mkdirSync(path.join(root, folder));
  for (const volume of service.volumes ?? []) {
    const interpolated = volume.replace(
      /\$\{(\w+):-([^}]*)\}/g,
      (_, name: string, fallback: string) => process.env[name] || fallback,
    );
    const [host, container] = interpolated.split(':') as [string, string];
    if (!container.startsWith('/app/') || !/^\.{0,2}\//.test(host)) continue;
    const target = path.join(root, container.slice('/app/'.length));
    rmSync(target, { recursive: true, force: true });
    symlinkSync(path.resolve(CHECKOUT, host), target);
  }
  return root;
}

const program = (command: string) => (command === 'node' ? process.execPath : command);

function spawn(command: string, args: string[], options: SpawnSyncOptions): number {
  const result = spawnSync(program(command), args, { stdio: 'inherit', ...options });
  if (result.error) fail(`${command}: ${result.error.message}`);
  return result.status ?? 1;
}

/** Runs a one-shot service as `docker compose run` would, keeping its output for `docker compose logs`. */
function runService(compose: ComposeFile, name: string, command: string[]): number {
  const service = compose.services[name] ?? fail(`no service ${name}`);
  const [entrypoint, ...args] = [
    ...(service.entrypoint ?? image().entrypoint),
    ...(command.length ? command : (service.command ?? [])),
  ];
  const result = spawnSync(program(entrypoint!), args, {
    cwd: containerRoot(name, service),
    env: containerEnvironment(compose, service),
    encoding: 'utf8',
    maxBuffer: 50_000_000,
  });
  if (result.error) fail(`${entrypoint}: ${result.error.message}`);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  appendFileSync(path.join(SCRATCH, `${name}.log`), `${result.stdout}${result.stderr}`);
  return result.status ?? 1;
}

function service(compose: ComposeFile, name: string): ComposeService {
  return compose.services[name] ?? fail(`no service ${name}`);
}

/** `up`: postgres-erp's entrypoint check (with a stand-in for the image's own entrypoint), then migrate. */
function up(compose: ComposeFile, services: string[]): number {
  const postgres = service(compose, 'postgres-erp');
  const [shell = fail('postgres-erp has no entrypoint to check'), ...rest] = postgres.entrypoint ?? [];
  mkdirSync(SCRATCH, { recursive: true });
  const fakeImage = mkdtempSync(path.join(SCRATCH, 'postgres-image-'));
  writeFileSync(path.join(fakeImage, 'docker-entrypoint.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const started = spawn(shell, [...rest, ...(postgres.command ?? [])], {
    env: { ...withSecretFiles(compose, postgres), PATH: `${fakeImage}:${process.env.PATH}` },
  });
  if (started !== 0) fail('postgres-erp exited; nothing else was started');
  // migrate runs with a plain `up`, and before postgrest-erp, which depends on it.
  if (services.length && !services.some((name) => ['migrate', 'postgrest-erp'].includes(name))) return 0;
  rmSync(path.join(SCRATCH, 'migrate.log'), { force: true }); // a new container, a new log
  const migrated = runService(compose, 'migrate', []);
  if (migrated !== 0) fail('migrate failed; postgrest-erp was not started');
  process.stderr.write('postgrest-erp: started by compose on the droplet; not part of this rehearsal\n');
  return 0;
}

function exec(compose: ComposeFile, invocation: ComposeInvocation): number {
  const name = invocation.services[0]!;
  const { POSTGRES_DB: database, POSTGRES_USER: owner } = service(compose, name).environment ?? {};
  const [tool, ...args] = invocation.command;
  if (!tool || !database) fail(`exec into ${name}: the rehearsal runs Postgres tools in postgres-erp only`);
  const testDatabase = decodeURIComponent(TEST_DATABASE.pathname.slice(1));
  if (tool === 'wget') {
    // PostgREST's admin server, reached over the compose network: its port is checked, not called.
    const url = new URL(args.at(-1)!);
    const adminPort = service(compose, url.hostname).environment?.PGRST_ADMIN_SERVER_PORT;
    if (url.port !== adminPort) fail(`${url} is not ${url.hostname}'s admin port ${adminPort}`);
    return 0;
  }
  const userIndex = args.indexOf('-U');
  // Without -U the tools would connect as the container's user, root, which is no role.
  if (tool !== 'pg_restore' || !args.includes('--list'))
    if (userIndex < 0 || args[userIndex + 1] !== owner) fail(`${tool} needs -U ${owner} inside postgres-erp`);
  const superuser = decodeURIComponent(TEST_SUPERUSER.username);
  const rewritten = args.map((arg, index) =>
    index === userIndex + 1 && userIndex >= 0
      ? superuser
      : arg === database || arg.startsWith(`${database}_`)
        ? `${testDatabase}${arg.slice(database.length)}`
        : arg,
  );
  // A database the image's erp_admin creates is erp_admin's; here the superuser creates it for the owner.
  if (tool === 'createdb') rewritten.unshift(`--owner=${decodeURIComponent(TEST_DATABASE.username)}`);
  return spawn(tool, rewritten, {
    env: SUPERUSER_ENVIRONMENT,
  });
}

/** `build`: what the Dockerfile refuses, an image tagged with a version its code is not. */
function build(compose: ComposeFile): number {
  const { version } = JSON.parse(readFileSync(path.join(CHECKOUT, 'package.json'), 'utf8')) as {
    version: string;
  };
  for (const [name, { build: context, image }] of Object.entries(compose.services))
    if (context && image !== `postgres-erp-tools:${version}`)
      fail(`${name}: the image ${image} is not this checkout's version ${version}; set ERP_VERSION in .env`);
  return 0;
}

/** `down -v` deletes the data volume: the next start creates an empty database (roles are the cluster's). */
function emptyDatabase(compose: ComposeFile): number {
  const owner = decodeURIComponent(TEST_DATABASE.username);
  const name = decodeURIComponent(TEST_DATABASE.pathname.slice(1));
  const volumes = service(compose, 'postgres-erp').volumes ?? [];
  if (!volumes.some((volume) => volume.endsWith(':/var/lib/postgresql/data')))
    fail('postgres-erp keeps no data volume');
  if (spawn('dropdb', ['--force', name], { env: SUPERUSER_ENVIRONMENT }) !== 0) return 1;
  return spawn('createdb', [`--owner=${owner}`, name], { env: SUPERUSER_ENVIRONMENT });
}

function docker(args: string[]): number {
  if (args[0] !== 'compose') fail(`docker ${args[0]}: the runbook uses only docker compose`);
  const invocation = parseComposeInvocation(args.slice(1));
  let compose: ComposeFile;
  try {
    compose = loadCompose(CHECKOUT);
  } catch (error) {
    fail(`compose.yaml: ${(error as Error).message}`);
  }
  const problems = composeProblems(compose, invocation);
  if (problems.length) fail(problems.join('\n'));
  switch (invocation.subcommand) {
    case 'up':
      return up(compose, invocation.services);
    case 'down':
      if (invocation.options.includes('-v')) return emptyDatabase(compose);
      return 0;
    case 'run':
      return runService(compose, invocation.services[0]!, invocation.command);
    case 'exec':
      return exec(compose, invocation);
    case 'logs':
      for (const name of invocation.services) {
        const log = path.join(SCRATCH, `${name}.log`);
        if (existsSync(log)) process.stdout.write(readFileSync(log, 'utf8'));
      }
      return 0;
    case 'build':
      return build(compose);
    case 'ps':
    case 'restart':
    case 'stop':
    case 'kill':
      return 0;
    default:
      fail(`docker compose ${invocation.subcommand}: not known to the rehearsal`);
  }
}

/**
 * `npm run erp -- ARGS` on the developer's computer: the checkout's `erp` script from
 * package.json (the CLI compiled into dist/, which the test run builds first), on the test database.
 */
function npm(args: string[]): number {
  const [verb, script, separator, ...rest] = args;
  if (verb !== 'run' || script !== 'erp') fail(`npm ${args.join(' ')}: the docs use only npm run erp`);
  const erpArgs = separator === '--' ? rest : [separator!, ...rest].filter(Boolean);
  const { scripts } = JSON.parse(readFileSync(path.join(CHECKOUT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [command, ...scriptArgs] = (scripts.erp ?? fail('package.json has no erp script')).split(' ');
  if (!command || scriptArgs.some((word) => /['"$\\]/.test(word)))
    fail(`the erp script "${scripts.erp}" is not a plain command the rehearsal can run`);
  return spawn(command, [...scriptArgs, ...erpArgs], {
    cwd: CHECKOUT,
    env: {
      ...process.env,
      NODE_OPTIONS: PRESERVE_SYMLINKS,
      DATABASE_URL: TEST_DATABASE.toString(),
      CODA_API_BASE_URL,
    },
  });
}

const [tool, ...args] = process.argv.slice(2);
process.exitCode =
  tool === 'docker' ? docker(args) : tool === 'npm' ? npm(args) : fail(`unknown tool ${tool}`);
