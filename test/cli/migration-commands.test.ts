/**
 * The migration commands as the owner runs them, against the local Coda server: the mapping
 * bootstrap, and a cutover straight from the (fake) live doc.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/load/run.ts';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import { FIXTURE_DOC_ID, fixtureDoc, tasksTable } from '../../bench/coda-server/fixture-doc.ts';
import { startCodaServer, type CodaServer } from '../../bench/coda-server/server.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const TOKEN = 'tok_cli-migration-7c1d0e';

let server: CodaServer;
let db: TestDatabase;
let workDir: string;

const erpWithCoda = (args: string[]) =>
  erp(args, { CODA_API_BASE_URL: server.baseUrl, CODA_API_TOKEN: TOKEN, DATABASE_URL: db.url });

beforeAll(async () => {
  server = await startCodaServer({ token: TOKEN, doc: fixtureDoc });
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-cli-migration-'));
});
afterAll(async () => {
  await server.close();
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('erp mappings', () => {
  it('lists every base table and column with its id, format, formula flag and link target', async () => {
    const listed = await erpWithCoda(['mappings', 'list', '--doc', FIXTURE_DOC_ID]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^Projects \(grid-Pr0j3ctS7\)$/m);
    expect(listed.stdout).toMatch(/c-Jv3nT3rE3c {2}Venture {2}lookup -> Ventures \(grid-V3ntUr5s3\)/);
    expect(listed.stdout).toMatch(/c-Jm1lE4sT4n {2}Milestones {2}text list formula/);
    expect(listed.stdout).not.toMatch(/Active Projects/);
  });

  // A draft migrates a scratch database of its own.
  it('drafts mapping files keyed by column id, with suggested erp columns, that load as they are', {
    timeout: 120_000,
  }, async () => {
    const dir = path.join(workDir, 'drafts');
    const drafted = await erpWithCoda([
      'mappings',
      'draft',
      '--doc',
      FIXTURE_DOC_ID,
      '--table',
      'Projects',
      'grid-T4sKs9Lm0',
      '--mappings',
      dir,
    ]);
    expect(drafted.code, drafted.stderr).toBe(0);
    expect(drafted.stdout).toMatch(/wrote .*projects\.yaml \(-> erp\.projects\)/);
    const projects = parseMappingSpec(
      'projects.yaml',
      await readFile(path.join(dir, 'projects.yaml'), 'utf8'),
    ).spec;
    expect(projects.target).toBe('erp.projects');
    expect(projects.columns.name).toMatchObject({ from: 'c-Jn4mE1pR1a', label: 'Name', as: 'text' });
    expect(projects.columns.venture_id).toMatchObject({
      from: 'c-Jv3nT3rE3c',
      as: 'lookup',
      table: 'grid-V3ntUr5s3',
    });
    expect(projects.columns.owner_person_id).toMatchObject({ from: 'c-Jo2wN6eR6f', as: 'person' });
    // Choices map where the words agree with an allowed value, or a workflow word means one.
    expect(projects.columns.status).toMatchObject({
      as: 'select',
      values: { Planned: 'planned', 'On Hold': 'on_hold', 'In Progress': 'active', Done: 'completed' },
    });
    expect(drafted.stdout).not.toMatch(/review status/);
    expect(projects.columns.tags).toMatchObject({ as: 'tags' });
    const text = await readFile(path.join(dir, 'projects.yaml'), 'utf8');
    // What the draft cannot load is skipped, by id, with the reason the reports repeat.
    expect(projects.skip['c-Jb7dG3eT3m']).toMatchObject({
      label: 'Budget',
      reason: expect.stringMatching(/\S/),
    });
    expect(text).not.toMatch(/# Not mapped/);
    const tasks = parseMappingSpec('tasks.yaml', await readFile(path.join(dir, 'tasks.yaml'), 'utf8')).spec;
    expect(tasks.columns.scheduled_start_date).toMatchObject({ from: 'c-Ks5cH8kS8h', as: 'date' });
    expect(tasks.columns.assignee_id).toMatchObject({ as: 'person' });

    const again = await erpWithCoda([
      'mappings',
      'draft',
      '--doc',
      FIXTURE_DOC_ID,
      '--table',
      'Projects',
      '--mappings',
      dir,
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(
      /projects\.yaml exists; draft into a new folder \(--mappings DIR\), or pass --force/,
    );
  });
});

describe('erp cutover from the live doc', () => {
  let report: RunReport;
  let output: string;

  beforeAll(async () => {
    const result = await erpWithCoda([
      'cutover',
      '--doc',
      FIXTURE_DOC_ID,
      '--out',
      path.join(workDir, 'snapshot'),
      '--runs',
      path.join(workDir, 'runs'),
    ]);
    output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    const [runDir] = await readdir(path.join(workDir, 'runs'));
    report = JSON.parse(
      await readFile(path.join(workDir, 'runs', runDir!, 'report.json'), 'utf8'),
    ) as RunReport;
  });

  it('extracts, loads and commits the fixture doc with every link resolved', async () => {
    expect(output).toMatch(/Cutover committed\./);
    expect(output).toMatch(/Tasks \(erp\.tasks\) +\| +24 \| +24 \|/);
    expect(report.outcome).toBe('committed');
    expect(report.tables.flatMap((table) => [...table.rejects, ...table.unresolved])).toEqual([]);
    const linkedInCoda = tasksTable.rows.filter(
      (row) => row.values[tasksTable.columnIds.project] !== '',
    ).length;
    const { rows } = await db.query(`SELECT count(project_id)::int AS linked FROM erp.tasks`);
    expect(rows[0]?.linked).toBe(linkedInCoda);
  });

  it('keeps the Coda token out of its output and of every file it wrote', async () => {
    expect(output).not.toContain(TOKEN);
    const files = await readdir(workDir, { recursive: true, withFileTypes: true });
    for (const file of files.filter((entry) => entry.isFile())) {
      const content = await readFile(path.join(file.parentPath, file.name));
      expect(content.includes(TOKEN), file.name).toBe(false);
    }
  });
});
