/**
 * Nothing left behind in silence: on a generated doc whose mappings leave columns and a table
 * holding data unloaded, `mappings check`, plan, cutover and reconcile name them by Coda table and
 * column label, with counts and examples; a cutover refuses until told to accept them, and then
 * reconcile lists them as accepted. Skipped columns and tables are listed with their reason and
 * block nothing.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import type { FixtureColumn, FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { money, person } from '../../bench/coda-server/rich-values.ts';
import { tableDefiner } from '../../bench/coda-server/table-builder.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const DOC_ID = 'cOvErAgE01';
const defineTable = tableDefiner(DOC_ID);
const col = (
  id: string,
  name: string,
  type: FixtureColumn['format']['type'],
  isArray = false,
  display = false,
) => ({
  id,
  name,
  format: { type, isArray },
  ...(display ? { display: true } : {}),
});

const people = defineTable({
  id: 'grid-cvPeople',
  name: 'Équipe',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: col('c-cvPname', 'Nom complet', 'text', false, true),
    // A column with no name, empty in every row: not left behind.
    blank: col('c-cvPblank', ' ', 'text'),
  },
  rows: [
    { id: 'i-cvAna', values: { name: 'Ana Lima' } },
    { id: 'i-cvWei', values: { name: 'Wei Zhang' } },
  ],
});

const projects = defineTable({
  id: 'grid-cvProjects',
  name: 'Projets 🚀',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: col('c-cvJname', 'Intitulé', 'text', false, true),
    budget: col('c-cvJbudget', 'Budget (€)', 'currency'),
    team: col('c-cvJteam', 'Team', 'person', true),
    notes: col('c-cvJnotes', 'Notes', 'text'),
  },
  rows: [
    {
      id: 'i-cvOne',
      values: {
        name: 'Harbour',
        budget: money(1200, 'EUR'),
        team: [person('Ana Lima'), person('Wei Zhang')],
      },
    },
    { id: 'i-cvTwo', values: { name: 'Pricing', budget: money(800, 'EUR'), notes: 'private' } },
    { id: 'i-cvThree', values: { name: 'Onboarding' } },
  ],
});

const leads = defineTable({
  id: 'grid-cvLeads',
  name: 'Leads & Prospects',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: { name: col('c-cvLname', 'Name', 'text', false, true) },
  rows: [
    { id: 'i-cvL1', values: { name: 'Acme' } },
    { id: 'i-cvL2', values: { name: 'Globex' } },
    { id: 'i-cvL3', values: { name: 'Initech' } },
  ],
});

const archive = defineTable({
  id: 'grid-cvArchive',
  name: 'Archive',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: { name: col('c-cvAname', 'Name', 'text', false, true) },
  rows: [
    { id: 'i-cvA1', values: { name: 'old' } },
    { id: 'i-cvA2', values: { name: 'older' } },
  ],
});

const doc: FixtureDoc = {
  id: DOC_ID,
  name: 'Coverage doc',
  owner: 'ana@example.com',
  ownerName: 'Ana Lima',
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  tables: [people, projects, leads, archive],
};

const MAPPINGS = {
  'people.yaml': `
coda: { table: grid-cvPeople, name: Équipe }
target: erp.people
columns:
  full_name: { from: c-cvPname, as: text, required: true }
`,
  'projects.yaml': `
coda: { table: grid-cvProjects, name: Projets }
target: erp.projects
columns:
  name: { from: c-cvJname, as: text, required: true }
  status: { from: c-cvJname, as: constant, value: planned }
skip:
  c-cvJnotes: "kept in Coda: private notes"
`.replace('from: c-cvJname, as: constant', 'as: constant'),
  'archive.yaml': `
coda: { table: grid-cvArchive, name: Archive }
skip: "old rows, kept in Coda"
`,
};

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: string;
let runCount = 0;

const run = async (args: string[], source: Snapshot = snapshot) => {
  runCount += 1;
  const runs = path.join(workDir, `runs-${runCount}`);
  const result = await erp([...args, '--snapshot', source.dir, '--mappings', mappings, '--runs', runs], {
    DATABASE_URL: db.url,
  });
  return { ...result, output: result.stdout + result.stderr, runs };
};

const reportOf = async (runs: string) => {
  const [folder] = await readdir(runs);
  return JSON.parse(await readFile(path.join(runs, folder!, 'report.json'), 'utf8')) as {
    outcome: string;
    differences: { kind: string; rowKey: string; acceptedByRun: string | null }[];
  };
};

const projectsLoaded = async () =>
  Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM erp.projects')).rows[0]!.n);

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-coverage-'));
  snapshot = await snapshotOf(doc, workDir);
  mappings = path.join(workDir, 'mappings');
  await mkdir(mappings);
  for (const [file, text] of Object.entries(MAPPINGS)) await writeFile(path.join(mappings, file), text);
}, 120_000);
afterAll(async () => {
  await db?.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('Coda data no mapping loads', { timeout: 120_000 }, () => {
  it('is a problem for mappings check: each column with its cells and examples, each table with its rows', async () => {
    const checked = await erp(['mappings', 'check', '--snapshot', snapshot.dir, '--mappings', mappings], {
      DATABASE_URL: db.url,
    });
    expect(checked.code, checked.stderr).toBe(1);
    expect(checked.stdout).toMatch(
      /Coda column "Budget \(€\)" \(c-cvJbudget\) holds data in 2 row\(s\), e\.g\. "1200 EUR", "800 EUR"/,
    );
    expect(checked.stdout).toMatch(
      /Coda column "Team" \(c-cvJteam\) holds data in 1 row\(s\), e\.g\. "Ana Lima, Wei Zhang"/,
    );
    expect(checked.stdout).toMatch(
      /Coda table "Leads & Prospects" \(grid-cvLeads\) has 3 row\(s\), but no mapping names it/,
    );
    // Declared skipped, or empty: not a problem.
    expect(checked.stdout).not.toMatch(/Notes|Archive|c-cvPblank/);
    expect(checked.stdout).toMatch(/3 problem\(s\)/);
  });

  it('is listed by a plan, which says a cutover would refuse and how to accept', async () => {
    const planned = await run(['plan']);
    expect(planned.code, planned.output).toBe(0);
    expect(planned.stdout).toContain('Coda data left behind (no mapping loads it) (3):');
    expect(planned.stdout).toContain(
      'Projets 🚀: Budget (€): 2 cells hold data that no mapping loads; for example "1200 EUR", "800 EUR"',
    );
    expect(planned.stdout).toContain(
      'Projets 🚀: Team: 1 cell holds data that no mapping loads; for example "Ana Lima, Wei Zhang"',
    );
    expect(planned.stdout).toContain('Leads & Prospects (the whole table): 3 rows that no mapping loads');
    const link = snapshot.manifest().tables.find((table) => table.id === projects.id)!.browserLink;
    expect(link).toMatch(/^https:/);
    expect(planned.stdout).toContain(`    ${link}`);
    expect(planned.stdout).toMatch(
      /A cutover would refuse while 3 Coda columns or tables with data are left behind/,
    );
    expect(planned.stdout).toContain('Projets 🚀: Notes: 1 cell holds data (kept in Coda: private notes)');
    expect(planned.stdout).toContain('Archive (the whole table): 2 rows (old rows, kept in Coda)');
    expect(planned.stdout).toContain('Not loaded, but empty in Coda: Équipe: (a column with no name).');
    expect(planned.stdout).toContain(
      `To leave that Coda data behind on purpose: npm run erp -- cutover --snapshot ${snapshot.dir} --mappings ${mappings} --runs ${planned.runs} --accept-unmapped`,
    );
    const markdown = await readFile(
      path.join(planned.runs, (await readdir(planned.runs))[0]!, 'report.md'),
      'utf8',
    );
    expect(markdown).toContain('## Coda data left behind (no mapping loads it) (3)');
    expect(markdown).toContain('Budget (€)');
  });

  it('makes a cutover refuse before its backup, changing nothing', async () => {
    const refused = await run(['cutover']);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.stdout).toMatch(/Why: 3 Coda column\(s\) or table\(s\) hold data that no mapping loads/);
    expect(refused.stdout).toContain('The cutover refused to leave them behind; nothing was written');
    expect(refused.stdout).toContain('--accept-unmapped');
    const [folder] = await readdir(refused.runs);
    expect(await readdir(path.join(refused.runs, folder!))).not.toContain('backup.dump');
    expect((await reportOf(refused.runs)).outcome).toBe('rolled_back');
    expect(await projectsLoaded()).toBe(0);
  });

  it('keeps reconcile from saying Postgres matches', async () => {
    const reconciled = await run(['reconcile']);
    expect(reconciled.code, reconciled.output).toBe(1);
    expect(reconciled.stdout).not.toMatch(/matches/);
    expect(reconciled.stdout).toContain('no cutover accepted leaving them behind');
  });

  it('is accepted by a cutover told to, and then listed by reconcile as accepted (exit 0)', async () => {
    const accepted = await run(['cutover', '--accept-unmapped']);
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.stdout).toContain(
      'Accepted with it: 2 Coda columns left behind, 1 Coda table left behind.',
    );
    expect(await projectsLoaded()).toBe(3);
    const { differences } = await reportOf(accepted.runs);
    const behind = differences.filter((item) => item.kind.endsWith('_left_behind'));
    expect(behind.map((item) => item.rowKey).sort()).toEqual([
      'grid-cvLeads',
      'grid-cvProjects/c-cvJbudget',
      'grid-cvProjects/c-cvJteam',
    ]);
    expect(behind.every((item) => item.acceptedByRun !== null)).toBe(true);

    const reconciled = await run(['reconcile']);
    expect(reconciled.code, reconciled.output).toBe(0);
    expect(reconciled.stdout).toMatch(/Postgres matches Coda, apart from 3 differences accepted at cutover/);
    expect(reconciled.stdout).toMatch(
      /Projets 🚀: Budget \(€\): 2 cells hold data .* \(accepted by cutover run \d+\)/,
    );

    const planned = await run(['plan']);
    expect(planned.stdout).not.toMatch(/would refuse|To leave that Coda data behind/);
    // Every row is unchanged since the cutover, so the plan skips loading them; their cells still count.
    expect(planned.stdout).toMatch(/0 row\(s\), change 0, leave 5 unchanged/);
    expect(planned.stdout).toMatch(
      /Projets 🚀: Budget \(€\): 2 cells hold data .* \(accepted by cutover run \d+\)/,
    );
    expect(planned.stdout).toContain('Projets 🚀: Notes: 1 cell holds data (kept in Coda: private notes)');
  });

  it('finds a column that holds data since the last cutover, and reconcile exits 1 again', async () => {
    const edited = await snapshotOf(doc, workDir, (server) =>
      server.editRow(people.id, 'i-cvAna', { [people.columnIds.blank]: 'now filled' }),
    );
    const reconciled = await run(['reconcile'], edited);
    expect(reconciled.code, reconciled.output).toBe(1);
    expect(reconciled.stdout).not.toMatch(/matches/);
    expect(reconciled.stdout).toContain(
      'Équipe: (a column with no name): 1 cell holds data that no mapping loads; for example "now filled"',
    );
  });
});
