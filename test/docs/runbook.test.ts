/**
 * The runbook rehearsed: every shell command in docs/RUNBOOK.md, docs/MIGRATING_CODA.md and
 * docs/SERVICE_INVENTORY.md is read from the docs (so they cannot drift) and, where it can run
 * here, runs verbatim through /bin/sh, in the docs' order, in a scratch checkout: an empty
 * database of the test cluster plays postgres-erp's `portfolio`, the local Coda server plays the
 * owner's doc, and test/support/runbook/shim.ts plays `docker compose` and `npm` (it runs what
 * the container would run, from compose.yaml and the Dockerfile). Every command must exit 0, and
 * a trailing comment that quotes output ("Applied N migration(s)") must match what it printed.
 *
 * What cannot run here is still checked: every `docker compose` line (also those inline in the
 * text) against compose.yaml, and with `docker-compose config` where Debian's docker-compose is
 * installed; curl against the API's host, scp against where the reports landed. Manual steps are acted out: filling in .env, reviewing drafts
 * (the reviewed files are the repository's), and `git checkout` of a release (the checkout's
 * migrations become that release's: this version's, or the previous one's without the newest). The Undo section is rehearsed by the undo tests.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEST_LOGIN_PASSWORDS } from '../api/harness.ts';
import { FIXTURE_DOC_ID, fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { startCodaServer, type CodaServer } from '../../bench/coda-server/server.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';
import {
  composeProblems,
  loadCompose,
  parseComposeInvocation,
  parseEnvFile,
  shellWords,
} from '../support/runbook/compose.ts';

const run = promisify(execFile);
const DOCS = ['docs/RUNBOOK.md', 'docs/MIGRATING_CODA.md', 'docs/SERVICE_INVENTORY.md'];
/** Sections whose commands other tests rehearse (erp undo; backups: test/backup, test/deploy/rollback.test.ts); here they are checked against compose.yaml. */
const REHEARSED_ELSEWHERE = /undo|off the droplet|off-site copy|data after a migration/i;
const CODA_TOKEN = 'tok_runbook-rehearsal-5e1f';
const SHIM = fileURLToPath(new URL('../support/runbook/shim.ts', import.meta.url));
const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const isRoot = process.getuid?.() === 0;
/** Tools the docs' commands use on the droplet's host or in postgres-erp, installed here or not. */
const missingTools = ['openssl', 'pg_dump', 'pg_restore', 'createdb', 'dropdb'].filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
);
if (missingTools.length)
  console.warn(
    `NOTICE: ${missingTools.join(', ')} not installed (apt-get install openssl postgresql-client-15); the runbook commands using them are skipped.`,
  );
const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
if (!dockerCompose)
  console.warn(
    'NOTICE: docker-compose is not installed (apt-get install docker-compose); the docker-compose config checks are skipped.',
  );

interface DocCommand {
  doc: string;
  section: string;
  command: string;
  comment: string;
}

/** Splits `cmd   # comment` where the # starts a word outside quotes. */
function splitComment(line: string): { command: string; comment: string } {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(line[index - 1]!)))
      return { command: line.slice(0, index).trim(), comment: line.slice(index + 1).trim() };
  }
  return { command: line.trim(), comment: '' };
}

/** The commands of a doc's ```sh blocks, continuation lines joined, with the section they are in. */
function fencedCommands(doc: string): DocCommand[] {
  const commands: DocCommand[] = [];
  let fence: 'shell' | 'other' | undefined;
  let chapter = '';
  let section = '';
  let pending = '';
  for (const raw of readFileSync(doc, 'utf8').split('\n')) {
    const opening = /^\s*```(\w*)\s*$/.exec(raw);
    if (opening) {
      fence = fence ? undefined : ['sh', 'bash', 'shell'].includes(opening[1]!) ? 'shell' : 'other';
      continue;
    }
    if (!fence) {
      const heading = /^(##|###) (.+)$/.exec(raw);
      if (heading?.[1] === '##') chapter = section = heading[2]!;
      else if (heading) section = `${chapter} / ${heading[2]}`;
      continue;
    }
    if (fence !== 'shell') continue;
    const line = `${pending} ${raw.trim()}`.trim();
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1).trim();
      continue;
    }
    pending = '';
    if (!line || line.startsWith('#')) continue;
    commands.push({ doc, section, ...splitComment(line) });
  }
  return commands;
}

/** `docker compose ...` written inline in the text, outside code blocks. */
function inlineComposeCommands(doc: string): string[] {
  const text = readFileSync(doc, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/`(docker compose [^`]+)`/g)].map((match) => match[1]!);
}

/** Each `docker compose ...` of a command line, up to the next pipe, redirection, && or closing ). */
function composeSegments(command: string): { words: string[]; captured: boolean }[] {
  return [...command.matchAll(/docker compose ((?:[^|&;<>)'"]|'[^']*'|"[^"]*")*)/g)].map((match) => ({
    words: shellWords(match[1]!).filter((word) => !/^<[^>]*>$/.test(word) && word !== '...'),
    // Output read by the shell (a pipe, a redirection, $(...)) needs -T: no terminal in between.
    captured: /[|<>]/.test(command.replace(/<[a-z-]+>/g, '')) || command.includes('$('),
  }));
}

const all = DOCS.flatMap(fencedCommands);

describe('the commands in the docs', () => {
  it('are found in every doc that has code blocks', () => {
    expect(all.filter((command) => command.doc === 'docs/RUNBOOK.md').length).toBeGreaterThan(30);
    expect(all.filter((command) => command.doc === 'docs/MIGRATING_CODA.md').length).toBeGreaterThan(10);
    expect(DOCS.flatMap(inlineComposeCommands).length).toBeGreaterThan(5);
  });

  it("README's Migrating Coda block works pasted on a fresh machine: the database first, nothing the shell misreads", () => {
    const block = fencedCommands('README.md').filter((entry) => entry.section === 'Migrating Coda');
    const erpCommand = (entry: DocCommand) => /npm run erp -- (.*)$/.exec(entry.command)?.[1] ?? '';
    const first = (pattern: RegExp) => block.findIndex((entry) => pattern.test(erpCommand(entry)));
    const needsDatabase = first(/^(mappings check|plan|cutover|reconcile|undo)\b/);
    expect(needsDatabase).toBeGreaterThan(0);
    expect(first(/^(up|migrate)\b/)).toBeGreaterThan(-1);
    expect(first(/^(up|migrate)\b/)).toBeLessThan(needsDatabase);
    // Unquoted, a placeholder such as <docId> is a redirection from a file named docId.
    for (const { command } of block) expect(command.replace(/"[^"]*"|'[^']*'/g, '')).not.toMatch(/[<>]/);
  });

  it('name only services, profiles and options that compose.yaml has', async () => {
    const checkout = await mkdtemp(path.join(os.tmpdir(), 'erp-runbook-compose-'));
    try {
      await cp('compose.yaml', path.join(checkout, 'compose.yaml'));
      await cp('.env.example', path.join(checkout, '.env'));
      const compose = loadCompose(checkout);
      const lines = [...all.map(({ command }) => command), ...DOCS.flatMap(inlineComposeCommands)];
      const problems = lines.flatMap((line) =>
        composeSegments(line).flatMap(({ words, captured }) => {
          const invocation = parseComposeInvocation(words);
          const needsT = captured && ['run', 'exec'].includes(invocation.subcommand);
          return [
            ...composeProblems(compose, invocation),
            ...(needsT && !invocation.options.includes('-T')
              ? ['its output is read by the shell: add -T']
              : []),
          ].map((problem) => `${line}: ${problem}`);
        }),
      );
      expect(problems).toEqual([]);
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!dockerCompose)('docker-compose config (compose-only steps)', () => {
  let checkout: string;
  const compose = (...args: string[]) =>
    spawnSync('docker-compose', args, { cwd: checkout, encoding: 'utf8', env: { PATH: process.env.PATH } });
  beforeAll(async () => {
    checkout = await mkdtemp(path.join(os.tmpdir(), 'erp-runbook-compose-'));
    // docker-compose 1.29 predates the top-level `name:` (the compose plugin on the droplet reads
    // it; test/deploy/compose.test.ts checks it), so it is left out here.
    const text = await readFile('compose.yaml', 'utf8');
    await writeFile(path.join(checkout, 'compose.yaml'), text.replace(/^name: .*\n/m, ''));
    // The secret files compose.yaml names must exist for it to parse.
    await mkdir(path.join(checkout, 'secrets'));
    for (const secret of Object.keys((parse(text) as { secrets: object }).secrets))
      await writeFile(path.join(checkout, 'secrets', secret), 'rehearsal');
  });
  afterAll(async () => {
    await rm(checkout, { recursive: true, force: true });
  });

  it("refuses to start without .env, with compose.yaml's message naming the variable", () => {
    const refused = compose('config', '-q');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/set (POSTGRES_PASSWORD|JWT_SECRET|[A-Z_]+) in \.env/);
  });

  it('accepts compose.yaml with .env copied from .env.example, and has every service the docs name', async () => {
    await cp('.env.example', path.join(checkout, '.env'));
    expect(compose('config', '-q').stderr).toBe('');
    const known = new Map<string, string[]>();
    const services = (...profiles: string[]) => {
      const key = profiles.join(' ');
      if (!known.has(key))
        known.set(
          key,
          compose(...profiles.flatMap((profile) => ['--profile', profile]), 'config', '--services')
            .stdout.split('\n')
            .filter(Boolean),
        );
      return known.get(key)!;
    };
    const lines = [...all.map(({ command }) => command), ...DOCS.flatMap(inlineComposeCommands)];
    for (const line of lines)
      for (const { words } of composeSegments(line)) {
        const { profiles, services: named } = parseComposeInvocation(words);
        for (const name of named) expect(services(...profiles), line).toContain(name);
      }
  });
});

describe('the rehearsal', () => {
  let server: CodaServer;
  let db: TestDatabase;
  let checkout: string;
  let bin: string;
  const transcript: string[] = [];

  /**
   * The checkout's migrations: this version's, or those of the release before it, played by this
   * code without its newest migration (the runner that finds a database ahead is this one).
   */
  async function checkOutMigrations(release: 'current' | 'previous' = 'current'): Promise<void> {
    const target = path.join(checkout, 'migrations');
    await rm(target, { recursive: true, force: true });
    if (release === 'current') return symlink(path.join(REPO_ROOT, 'migrations'), target);
    const files = readdirSync(path.join(REPO_ROOT, 'migrations'));
    const newest = files
      .filter((file) => /^\d+_.*\.sql$/.test(file))
      .sort()
      .at(-1);
    await mkdir(target);
    for (const file of files.filter((name) => name !== newest))
      await cp(path.join(REPO_ROOT, 'migrations', file), path.join(target, file), { recursive: true });
  }

  /** What the owner does by hand between the commands. */
  async function actOut(command: string): Promise<void> {
    if (command.startsWith('cp .env.example .env')) {
      expect(statSync(path.join(checkout, '.env')).mode & 0o777).toBe(0o600);
      const example = parseEnvFile(await readFile('.env.example', 'utf8'));
      const values: Record<string, string> = {
        ...example,
        CODA_API_TOKEN: CODA_TOKEN,
        CODA_DOC_ID: FIXTURE_DOC_ID,
      };
      const env = Object.entries(values).map(([key, value]) => `${key}=${value}\n`);
      await writeFile(path.join(checkout, '.env'), env.join(''), { mode: 0o600 });
      // No secret files yet: the database refuses to start without its password.
      const refused = await sh('docker compose up -d');
      expect(refused.code).toBe(1);
      expect(refused.output).toMatch(/secrets\/postgres_password is missing, empty or a placeholder/);
    }
    // The script made random secrets; the test cluster's roles have these passwords.
    if (command.startsWith('deploy/make-secrets.sh')) {
      const secrets: Record<string, string> = {
        postgres_password: decodeURIComponent(new URL(db.url).password),
        jwt_secret: 'runbook0rehearsal0jwt0secret0of0forty0chars',
        authenticator_password: TEST_LOGIN_PASSWORDS.authenticator,
        planner_api_password: TEST_LOGIN_PASSWORDS.planner_api,
        memory_gateway_password: TEST_LOGIN_PASSWORDS.memory_gateway,
      };
      for (const [secret, value] of Object.entries(secrets)) {
        expect(existsSync(path.join(checkout, 'secrets', secret)), secret).toBe(true);
        await writeFile(path.join(checkout, 'secrets', secret), value);
      }
    }
    // Review: the drafts become the reviewed files, which for this doc are the repository's (every
    // table mapped or skipped, each column loaded or skipped with its reason).
    if (/^npm run erp -- mappings draft /.test(command))
      for (const folder of ['mappings', `mappings-${FIXTURE_DOC_ID}`])
        await cp(path.join(REPO_ROOT, 'mappings'), path.join(checkout, folder), { recursive: true });
    if (command === 'git checkout <previous-tag>') await checkOutMigrations('previous');
    if (command === 'git pull' || command === 'git checkout <tag>') await checkOutMigrations('current');
  }

  /** The placeholders the docs leave to the reader, filled in as the reader would. */
  function fillIn(command: string): string {
    const newest = (folder: string, pattern: RegExp) =>
      readdirSync(path.join(checkout, folder))
        .map((name) => pattern.exec(name)?.[1])
        .filter((name) => name !== undefined)
        .sort()
        .at(-1) ?? '<none yet>';
    return command
      .replaceAll('<checkout>', checkout)
      .replaceAll('<docId>', FIXTURE_DOC_ID)
      .replaceAll('<run>', () => newest('coda/runs', /^(.+)$/))
      .replaceAll('<stamp>', () => newest('backups', /^portfolio-(.+)\.dump$/));
  }

  function sh(command: string): Promise<{ code: number; output: string }> {
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      // The developer's shell, as MIGRATING_CODA.md has them export it.
      CODA_API_TOKEN: CODA_TOKEN,
      CODA_DOC_ID: FIXTURE_DOC_ID,
      // The local Coda has no rate limit: pacing reads to Coda's would only make the rehearsal wait.
      CODA_RATE_LIMIT: '1000/1s',
      RUNBOOK_CHECKOUT: checkout,
      RUNBOOK_DB_URL: db.url,
      RUNBOOK_DB_SUPERUSER_URL: db.superuserUrl,
      RUNBOOK_CODA_API_BASE_URL: server.baseUrl,
    };
    return new Promise((resolve) => {
      execFile(
        '/bin/sh',
        ['-c', command],
        { cwd: checkout, env, maxBuffer: 50_000_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
  }

  /** Checks a command that needs the droplet, the network or a person; true when it is not run here. */
  function checkWithoutRunning({ command, section }: DocCommand): boolean {
    if (REHEARSED_ELSEWHERE.test(section)) return true;
    if (command.includes('\\password')) return true; // interactive: typed by a person
    const word = command.split(' ')[0];
    if (word === 'curl') {
      const host = /https:\/\/([^/'"\s]+)/.exec(command)?.[1];
      const labels = readFileSync('compose.yaml', 'utf8');
      expect(labels, command).toContain(`Host(\`${host}\`)`);
      return true;
    }
    if (word === 'scp') {
      const source = /^scp droplet:(\S+) \.$/.exec(fillIn(command))?.[1];
      expect(source && existsSync(source), `${command}: ${source} was not written`).toBe(true);
      return true;
    }
    // Version control acts on the real repository: acted out (actOut), never run.
    return word === 'git';
  }

  beforeAll(async () => {
    server = await startCodaServer({ token: CODA_TOKEN, doc: fixtureDoc });
    db = await createEmptyDatabase();
    checkout = await mkdtemp(path.join(os.tmpdir(), 'erp-runbook-checkout-'));
    for (const shared of [
      'src',
      'dist',
      'docs',
      'deploy',
      'package.json',
      'package-lock.json',
      'node_modules',
      'Dockerfile',
    ])
      await symlink(path.join(REPO_ROOT, shared), path.join(checkout, shared));
    await checkOutMigrations();
    for (const copied of ['compose.yaml', '.env.example', 'mappings'])
      await cp(path.join(REPO_ROOT, copied), path.join(checkout, copied), { recursive: true });
    bin = path.join(checkout, '.rehearsal-bin');
    await mkdir(bin);
    // The shim runs for every docker and npm command (about sixty): compiled once here, it starts
    // in a third of the time it takes through a TypeScript loader. Inside the checkout, so that
    // its imports find the checkout's node_modules.
    const compiled = path.join(bin, 'shim');
    await run(process.execPath, [
      TSC,
      '--ignoreConfig',
      '--outDir',
      compiled,
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--rewriteRelativeImportExtensions',
      '--skipLibCheck',
      '--types',
      'node',
      SHIM,
    ]);
    for (const tool of ['docker', 'npm']) {
      const wrapper = path.join(bin, tool);
      await writeFile(
        wrapper,
        `#!/bin/sh\nexec "${process.execPath}" "${path.join(compiled, 'shim.js')}" ${tool} "$@"\n`,
      );
      await chmod(wrapper, 0o755);
    }
    if (!isRoot)
      await writeFile(path.join(bin, 'chown'), '#!/bin/sh\necho "chown skipped: not root" >&2\n', {
        mode: 0o755,
      });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    // The trial restore's database, should a failure have left it behind.
    const admin = new pg.Client({ connectionString: db.superuserUrl.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(`${db.name}_check`)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await db?.drop();
    await rm(checkout, { recursive: true, force: true });
  });

  it.each(DOCS)(
    'runs every command of %s that can run here, in order, and each succeeds',
    async (doc) => {
      await checkOutMigrations(); // each doc starts from the current code
      let ran = 0;
      for (const entry of all.filter((command) => command.doc === doc)) {
        const needs = missingTools.find((tool) => new RegExp(`(^|\\s)${tool}\\s`).test(entry.command));
        if (needs || checkWithoutRunning(entry)) {
          await actOut(entry.command);
          continue;
        }
        const command = fillIn(entry.command);
        expect(command, `${doc}: a placeholder the rehearsal cannot fill`).not.toMatch(/<[A-Za-z-]+>/);
        const { code, output } = await sh(command);
        transcript.push(`$ ${command}\n${output}`);
        expect(code, `${doc}, ${entry.section}:\n$ ${command}\n${output}`).toBe(0);
        // A comment that quotes output: "Applied N migration(s)", "... is ahead ...".
        if (entry.comment.startsWith('"'))
          for (const [, quoted] of entry.comment.matchAll(/"([^"]+)"/g)) {
            const pattern = quoted!
              .split('...')
              .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\bN\b/g, '\\d+'))
              .join('.*');
            expect(output, `${command}: ${quoted}`).toMatch(new RegExp(pattern));
          }
        await actOut(entry.command);
        ran += 1;
      }
      // SERVICE_INVENTORY.md names its commands inline; the compose checks below read those.
      if (doc === 'docs/SERVICE_INVENTORY.md') expect(ran).toBe(0);
      else expect(ran).toBeGreaterThan(5);
    },
    900_000,
  );

  it('leaves the reports where the runbook says, and the database cut over, validated and reconciled', async () => {
    const runs = readdirSync(path.join(checkout, 'coda', 'runs'));
    expect(runs.some((name) => name.endsWith('-cutover'))).toBe(true);
    for (const run of runs.filter((name) => /-(plan|cutover)$/.test(name)))
      for (const file of ['summary.txt', 'report.md', 'report.html', 'report.json'])
        expect(existsSync(path.join(checkout, 'coda', 'runs', run, file)), `${run}/${file}`).toBe(true);
    const { rows } = await db.query<{ projects: number }>(
      `SELECT count(*)::int AS projects FROM erp.projects`,
    );
    expect(rows[0]?.projects).toBeGreaterThan(0);
    expect(transcript.join('\n')).not.toContain(CODA_TOKEN);
  });
});
