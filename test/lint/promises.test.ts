import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Proves that the lint step of `npm test` fails on unhandled promises, using the project's own
 * configs on small fixture files in a temporary folder. Biome infers types across our own modules;
 * oxlint's type-aware rules (tsgolint, built on the TypeScript 7 compiler) also see the types of
 * libraries such as pg and node:fs, which Biome does not read.
 */
const execute = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const bin = (name: string) => path.join(repo, 'node_modules/.bin', name);

const LIBRARY = `import type pg from 'pg';
export async function saveRow(client: pg.Client, id: number): Promise<number> {
  await client.query('SELECT $1::int', [id]);
  return id;
}
export const inferredSave = async (id: number) => id;
`;

// Each unhandled promise sits on a line of its own, so the findings can be matched by line.
const UNSAFE = `import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { inferredSave, saveRow } from './library.ts';

export async function load(client: pg.Client, ids: number[]): Promise<void> {
  saveRow(client, 1);
  inferredSave(2);
  client.query('SELECT 1');
  readFile('settings.json');
  if (saveRow(client, 3)) await client.end();
  ids.forEach(async (id) => {
    await saveRow(client, id);
  });
}
`;
const LINE = {
  importedFloating: 6,
  inferredFloating: 7,
  libraryMethodFloating: 8,
  libraryFunctionFloating: 9,
  promiseAsCondition: 10,
  asyncCallbackToForEach: 11,
};

const SAFE = `import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { inferredSave, saveRow } from './library.ts';

export async function load(client: pg.Client, ids: number[]): Promise<void> {
  await saveRow(client, 1);
  void inferredSave(2);
  await client.query('SELECT 1');
  await readFile('settings.json').catch(() => undefined);
  if (await saveRow(client, 3)) await client.end();
  for (const id of ids) await saveRow(client, id);
}
`;

interface Finding {
  file: string;
  line: number;
  rule: string;
}

let dir: string;

async function fixture(main: string) {
  await writeFile(path.join(dir, 'library.ts'), LIBRARY);
  await writeFile(path.join(dir, 'main.ts'), main);
}

/** Runs a linter that exits non-zero on findings; returns the exit code and its output. */
async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execute(command, args, { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

async function biome(): Promise<{ code: number; findings: Finding[] }> {
  const { code, output } = await run(bin('biome'), ['lint', '--reporter=github', 'main.ts', 'library.ts']);
  const findings = [...output.matchAll(/::error title=lint\/\w+\/(\w+),file=([^,]+),line=(\d+)/g)].map(
    ([, rule = '', file = '', line = '']) => ({ file: path.basename(file), line: Number(line), rule }),
  );
  return { code, findings };
}

async function oxlint(): Promise<{ code: number; findings: Finding[] }> {
  const { code, output } = await run(bin('oxlint'), [
    '--type-aware',
    '--deny-warnings',
    '--format=unix',
    'main.ts',
    'library.ts',
  ]);
  const findings = [...output.matchAll(/^([^:\n]+):(\d+):\d+: .*\((no-[\w-]+)\)\]$/gm)].map(
    ([, file = '', line = '', rule = '']) => ({ file, line: Number(line), rule }),
  );
  return { code, findings };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'erp-lint-'));
  // The project's own rules, without its file lists (those name the repository's folders).
  const biomeConfig = JSON.parse(await readFile(path.join(repo, 'biome.json'), 'utf8'));
  delete biomeConfig.$schema;
  delete biomeConfig.vcs;
  delete biomeConfig.files;
  await writeFile(path.join(dir, 'biome.json'), JSON.stringify(biomeConfig));
  await cp(path.join(repo, '.oxlintrc.json'), path.join(dir, '.oxlintrc.json'));
  await cp(path.join(repo, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    (await readFile(path.join(dir, 'tsconfig.json'), 'utf8')).replace(
      /"include": \[[^\]]*\]/,
      '"include": ["*.ts"]',
    ),
  );
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ type: 'module', dependencies: { pg: '*' } }),
  );
  // Type information for pg and node comes from the project's installed packages.
  await symlink(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the lint step of npm test', () => {
  it('Biome fails on floating promises, also from imported functions, and on misused promises', async () => {
    await fixture(UNSAFE);
    const { code, findings } = await biome();
    expect(code).not.toBe(0);
    expect(findings).toEqual(
      expect.arrayContaining([
        { file: 'main.ts', line: LINE.importedFloating, rule: 'noFloatingPromises' },
        { file: 'main.ts', line: LINE.inferredFloating, rule: 'noFloatingPromises' },
        { file: 'main.ts', line: LINE.promiseAsCondition, rule: 'noMisusedPromises' },
        { file: 'main.ts', line: LINE.asyncCallbackToForEach, rule: 'noMisusedPromises' },
      ]),
    );
  });

  it('the type-aware oxlint pass also fails on promises returned by libraries (pg, node:fs)', async () => {
    await fixture(UNSAFE);
    const { code, findings } = await oxlint();
    expect(code).not.toBe(0);
    expect(findings).toEqual(
      expect.arrayContaining([
        { file: 'main.ts', line: LINE.importedFloating, rule: 'no-floating-promises' },
        { file: 'main.ts', line: LINE.inferredFloating, rule: 'no-floating-promises' },
        { file: 'main.ts', line: LINE.libraryMethodFloating, rule: 'no-floating-promises' },
        { file: 'main.ts', line: LINE.libraryFunctionFloating, rule: 'no-floating-promises' },
        { file: 'main.ts', line: LINE.promiseAsCondition, rule: 'no-misused-promises' },
        { file: 'main.ts', line: LINE.asyncCallbackToForEach, rule: 'no-misused-promises' },
      ]),
    );
  });

  it('both pass the same code once every promise is awaited, handled or voided', async () => {
    await fixture(SAFE);
    expect(await biome()).toEqual({ code: 0, findings: [] });
    expect(await oxlint()).toEqual({ code: 0, findings: [] });
  });
});
