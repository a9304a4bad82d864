import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of ARCHITECTURE.md, checked on every import in src/ and bench/. A layer names the
 * layers it may import; `types` lists those it may only take types from (`import type`).
 */
type Layer =
  | 'shared'
  | 'db'
  | 'catalog'
  | 'extract'
  | 'transform'
  | 'draft'
  | 'load'
  | 'report'
  | 'health'
  | 'backup'
  | 'api'
  | 'docs'
  | 'cli'
  | 'bench'
  | 'test';

interface Rule {
  imports: Layer[];
  types?: Layer[];
}

const SRC_LAYERS: Layer[] = [
  'shared',
  'db',
  'catalog',
  'extract',
  'transform',
  'draft',
  'load',
  'report',
  'health',
  'backup',
  'api',
  'docs',
  'cli',
];

const LAYERS: Record<Layer, Rule> = {
  shared: { imports: [] },
  db: { imports: ['shared'] },
  catalog: { imports: ['db', 'shared'] },
  extract: { imports: ['shared'] },
  transform: { imports: ['shared'], types: ['extract', 'catalog'] },
  draft: { imports: ['extract', 'catalog', 'transform', 'db', 'shared'] },
  load: { imports: ['transform', 'catalog', 'db', 'extract', 'backup', 'shared'] },
  report: { imports: ['shared'], types: ['load', 'transform', 'extract', 'health', 'backup'] },
  health: { imports: ['db', 'shared'] },
  backup: { imports: ['db', 'shared'] },
  api: { imports: ['db', 'shared'] },
  docs: { imports: ['db', 'api', 'catalog', 'shared'] },
  cli: { imports: SRC_LAYERS.filter((layer) => layer !== 'cli') },
  bench: { imports: SRC_LAYERS },
  test: { imports: [...SRC_LAYERS, 'bench'] },
};

/**
 * Imports known to break the layers, each removed by another branch of the same release. The
 * list only shrinks: an entry that no longer matches an import fails the test, so it is deleted
 * as soon as the fix lands.
 */
const KNOWN_VIOLATIONS: { from: string; to: string; removedBy: string }[] = [];

const repo = path.resolve(import.meta.dirname, '../..');

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** `import … from`, `export … from`, bare `import '…'` and `import('…')`, across line breaks. */
const STATIC_IMPORT = /^\s*(import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string, source: string): Import[] {
  const resolve = (specifier: string) => path.posix.join(path.posix.dirname(file), specifier);
  const found: Import[] = [];
  for (const [, , typeKeyword, clause = '', specifier = ''] of source.matchAll(STATIC_IMPORT)) {
    if (!specifier.startsWith('.')) continue;
    const names = clause.match(/^\{([\s\S]*)\}$/)?.[1];
    const everyNameIsType =
      names !== undefined &&
      names.trim() !== '' &&
      names
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
        .every((name) => name.startsWith('type '));
    found.push({ from: file, to: resolve(specifier), typeOnly: Boolean(typeKeyword) || everyNameIsType });
  }
  for (const [, specifier = ''] of source.matchAll(DYNAMIC_IMPORT)) {
    if (specifier.startsWith('.')) found.push({ from: file, to: resolve(specifier), typeOnly: false });
  }
  return found;
}

/** src/<layer>/… -> layer; bench/… -> bench; test/… -> test; anything else: undefined. */
function layerOf(file: string): string | undefined {
  const [top, folder] = file.split('/');
  if (top === 'bench' || top === 'test') return top;
  if (top === 'src') return folder?.endsWith('.ts') ? `src file ${folder}` : folder;
  return undefined;
}

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(path.join(repo, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) =>
      path.posix.join(path.relative(repo, entry.parentPath).split(path.sep).join('/'), entry.name),
    )
    .sort();
}

/** Rule-breaking imports, as `from -> to (why)`. */
function violations(imports: Import[]): string[] {
  const found: string[] = [];
  for (const { from, to, typeOnly } of imports) {
    const source = layerOf(from);
    const target = layerOf(to);
    if (source === target) continue;
    const rule = LAYERS[source as Layer];
    if (!rule) {
      found.push(`${from}: ${source} is not a layer of ARCHITECTURE.md`);
      continue;
    }
    if (rule.imports.includes(target as Layer)) continue;
    if (typeOnly && rule.types?.includes(target as Layer)) continue;
    const why = rule.types?.includes(target as Layer)
      ? `${source} may only import types from ${target}`
      : `${source} may not import ${target}`;
    found.push(`${from} -> ${to} (${why})`);
  }
  return found;
}

/** Every cycle of folders, type imports included, each as `a -> b -> a`. */
function folderCycles(imports: Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const source = layerOf(from);
    const target = layerOf(to);
    if (!source || !target || source === target) continue;
    edges.set(source, (edges.get(source) ?? new Set()).add(target));
  }
  const cycles = new Set<string>();
  const walk = (node: string, trail: string[]) => {
    const at = trail.indexOf(node);
    if (at >= 0) {
      const loop = trail.slice(at);
      // The same loop found from another starting folder is reported once.
      const start = loop.indexOf([...loop].sort()[0] ?? node);
      cycles.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(' -> '));
      return;
    }
    for (const next of edges.get(node) ?? []) walk(next, [...trail, node]);
  };
  for (const node of edges.keys()) walk(node, []);
  return [...cycles].sort();
}

/**
 * Inside src/load, the folders of ARCHITECTURE.md ("Inside src/load"), each with the folders it
 * may import, types included: `load` is the files directly in src/load (the runs), which use
 * every folder; no folder imports them back.
 */
const LOAD_PARTS: Record<string, string[]> = {
  'load/core': [],
  'load/lifecycle': ['load/core'],
  'load/table': ['load/core'],
  'load/reconcile': ['load/table', 'load/core'],
  'load/undo': ['load/lifecycle', 'load/core'],
  load: ['load/core', 'load/lifecycle', 'load/table', 'load/reconcile', 'load/undo'],
};

/** src/load/x.ts -> load; src/load/table/x.ts -> load/table; outside src/load: undefined. */
function loadPartOf(file: string): string | undefined {
  if (!file.startsWith('src/load/')) return undefined;
  const rest = file.slice('src/load/'.length).split('/');
  return rest.length === 1 ? 'load' : `load/${rest[0]}`;
}

function loadPartViolations(imports: Import[]): string[] {
  return imports.flatMap(({ from, to }) => {
    const source = loadPartOf(from);
    const target = loadPartOf(to);
    if (!source || !target || source === target) return [];
    const rule = LOAD_PARTS[source];
    if (!rule) return [`${from}: ${source} is not a folder of src/load in ARCHITECTURE.md`];
    return rule.includes(target) ? [] : [`${from} -> ${to} (${source} may not import ${target})`];
  });
}

/** Every cycle of files, type imports included, each as `a -> b -> a` from its first file in order. */
function fileCycles(imports: Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports)
    if (from !== to) edges.set(from, (edges.get(from) ?? new Set()).add(to));
  const cycles = new Set<string>();
  const done = new Set<string>();
  const walk = (node: string, trail: string[]) => {
    const at = trail.indexOf(node);
    if (at >= 0) {
      const loop = trail.slice(at);
      const start = loop.indexOf([...loop].sort()[0] ?? node);
      cycles.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(' -> '));
      return;
    }
    if (done.has(node)) return;
    for (const next of edges.get(node) ?? []) walk(next, [...trail, node]);
    done.add(node);
  };
  for (const node of edges.keys()) walk(node, []);
  return [...cycles].sort();
}

async function allImports(): Promise<{ files: string[]; imports: Import[] }> {
  const files = [...(await sourceFiles('src')), ...(await sourceFiles('bench'))];
  const imports = (
    await Promise.all(
      files.map(async (file) => importsOf(file, await readFile(path.join(repo, file), 'utf8'))),
    )
  ).flat();
  return { files, imports };
}

const allowed = (line: string) =>
  KNOWN_VIOLATIONS.some((known) => line.startsWith(`${known.from} -> ${known.to} `));

describe('one-way layers (ARCHITECTURE.md)', () => {
  it('every import in src/ and bench/ follows the layers, apart from the listed known ones', async () => {
    const files = [...(await sourceFiles('src')), ...(await sourceFiles('bench'))];
    const imports = (
      await Promise.all(
        files.map(async (file) => importsOf(file, await readFile(path.join(repo, file), 'utf8'))),
      )
    ).flat();
    expect(imports.length).toBeGreaterThan(files.length);

    const found = violations(imports);
    expect(found.filter((line) => !allowed(line))).toEqual([]);
    // An entry nothing matches any more is stale: delete it.
    expect(
      KNOWN_VIOLATIONS.filter(
        (known) => !found.some((line) => line.startsWith(`${known.from} -> ${known.to} `)),
      ),
    ).toEqual([]);
    expect(folderCycles(imports)).toEqual([]);
  });

  it('inside src/load, folders import one way and no file imports itself back, types included', async () => {
    const { imports } = await allImports();
    expect(loadPartViolations(imports)).toEqual([]);
    expect(fileCycles(imports)).toEqual([]);
    const folders = (await readdir(path.join(repo, 'src/load'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => `load/${entry.name}`);
    expect(folders.filter((folder) => !(folder in LOAD_PARTS))).toEqual([]);
    const architecture = await readFile(path.join(repo, 'ARCHITECTURE.md'), 'utf8');
    expect(folders.filter((folder) => !architecture.includes(`| \`src/${folder}/\` |`))).toEqual([]);
  });

  it('catches an import back up inside src/load and a cycle of files through a type import', () => {
    const imports = [
      ...importsOf('src/load/table/stage.ts', "import type { RunReport } from '../run.ts';"),
      ...importsOf('src/load/table/conflicts.ts', "import type { LoadContext } from './load-table.ts';"),
      ...importsOf('src/load/table/load-table.ts', "import { settleConflicts } from './conflicts.ts';"),
    ];
    expect(loadPartViolations(imports)).toEqual([
      'src/load/table/stage.ts -> src/load/run.ts (load/table may not import load)',
    ]);
    expect(fileCycles(imports)).toEqual([
      'src/load/table/conflicts.ts -> src/load/table/load-table.ts -> src/load/table/conflicts.ts',
    ]);
  });

  it('every folder of src/ is a layer of ARCHITECTURE.md', async () => {
    const folders = (await readdir(path.join(repo, 'src'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !SRC_LAYERS.includes(folder as Layer))).toEqual([]);
    const architecture = await readFile(path.join(repo, 'ARCHITECTURE.md'), 'utf8');
    expect(SRC_LAYERS.filter((layer) => !architecture.includes(`| \`src/${layer}\` |`))).toEqual([]);
  });

  it('catches a forbidden import, a value import where only types are allowed, and a folder cycle', () => {
    const imports = [
      ...importsOf('src/extract/client.ts', "import { withClient } from '../db/client.ts';"),
      ...importsOf('src/transform/convert.ts', "import { snapshotTable } from '../extract/index.ts';"),
      ...importsOf(
        'src/transform/spec.ts',
        "import {\n  type TargetTable,\n  type TargetColumn,\n} from '../catalog/x.ts';",
      ),
      ...importsOf('src/report/html.ts', "import type { RunReport } from '../load/run.ts';"),
      ...importsOf('bench/main.ts', "export { codaServer } from '../test/support/server.ts';"),
      ...importsOf('src/api/jwt.ts', "const { sign } = await import('../cli/main.ts');"),
    ];
    expect(violations(imports)).toEqual([
      'src/extract/client.ts -> src/db/client.ts (extract may not import db)',
      'src/transform/convert.ts -> src/extract/index.ts (transform may only import types from extract)',
      'bench/main.ts -> test/support/server.ts (bench may not import test)',
      'src/api/jwt.ts -> src/cli/main.ts (api may not import cli)',
    ]);
    const cycle = [
      ...importsOf('src/load/run.ts', "import type { Row } from '../transform/transform.ts';"),
      ...importsOf('src/transform/draft.ts', "import { readTargetTable } from '../load/catalog.ts';"),
    ];
    expect(folderCycles(cycle)).toEqual(['load -> transform -> load']);
  });
});
