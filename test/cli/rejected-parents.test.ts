/**
 * A doc the tests never saw, through the CLI against the local Coda server: a project whose name
 * is blank is rejected, and its tasks with it. The reports name the parent as the owner finds it
 * in Coda and group its children under it, with what to do once. And a mapping that does not fit
 * the doc is refused from the doc's list of columns, before a row is read or a backup taken.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureColumn, FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { startCodaServer, type CodaServer } from '../../bench/coda-server/server.ts';
import { tableDefiner } from '../../bench/coda-server/table-builder.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const DOC_ID = 'pArEnTsD0c';
const TOKEN = 'tok_parents-41c9';
const defineTable = tableDefiner(DOC_ID);
const text = (id: string, name: string, display = false): FixtureColumn => ({
  id,
  name,
  format: { type: 'text', isArray: false },
  ...(display ? { display: true } : {}),
});

const BLANK = '   ';
const projects = defineTable({
  id: 'grid-pRojects1',
  name: 'Client Work',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: { name: text('c-pWname', 'Engagement', true), brief: text('c-pWbrief', 'Brief ✎') },
  rows: [
    { id: 'i-pwBlank', values: { name: BLANK, brief: 'nobody named it' } },
    { id: 'i-pwKept', values: { name: 'Kept', brief: '' } },
  ],
});
const CHILDREN = ['Ünïcode step', 'Second step', 'Third step', 'Fourth step', 'Fifth step', 'Sixth step'];
const tasks = defineTable({
  id: 'grid-tOdos001',
  name: 'To-dos',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    title: text('c-tDtitle', 'What', true),
    engagement: {
      id: 'c-tDeng',
      name: 'For engagement',
      format: { type: 'lookup', isArray: false, table: 'grid-pRojects1' },
    },
  },
  rows: [
    ...CHILDREN.map((title, index) => ({
      id: `i-tdChild${index}`,
      values: { title, engagement: projects.ref('i-pwBlank') },
    })),
    { id: 'i-tdKept', values: { title: 'Linked to a kept project', engagement: projects.ref('i-pwKept') } },
  ],
});
const doc: FixtureDoc = {
  id: DOC_ID,
  name: 'Parents',
  owner: 'owner@example.com',
  ownerName: 'Owner',
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  tables: [projects, tasks],
};

const PROJECTS_YAML = `coda: { table: grid-pRojects1, name: "Client Work" }
target: erp.projects
columns:
  name: { from: c-pWname, label: "Engagement", as: text, required: true }
  description: { from: c-pWbrief, label: "Brief ✎", as: text }
`;
const tasksYaml = (links = '') => `coda: { table: grid-tOdos001, name: "To-dos" }
target: erp.tasks
${links}columns:
  title: { from: c-tDtitle, label: "What", as: text, required: true }
  project_id: { from: c-tDeng, label: "For engagement", as: lookup, table: grid-pRojects1 }
`;

let server: CodaServer;
let db: TestDatabase;
let workDir: string;
let folders = 0;

/** A mapping folder of its own, and a runs folder beside it. */
async function mappingFolder(files: Record<string, string>): Promise<{ mappings: string; runs: string }> {
  const dir = path.join(workDir, `case-${++folders}`);
  const mappings = path.join(dir, 'mappings');
  await mkdir(mappings, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(mappings, name), content);
  return { mappings, runs: path.join(dir, 'runs') };
}

const live = () => [
  '--doc',
  DOC_ID,
  '--base-url',
  server.baseUrl,
  '--out',
  path.join(workDir, `snapshot-${++folders}`),
];
const run = (args: string[]) => erp(args, { CODA_API_TOKEN: TOKEN, DATABASE_URL: db.url });

async function reportsOf(runs: string): Promise<Record<string, string>> {
  const [folder] = await readdir(runs);
  const files = ['report.md', 'report.html', 'report.json'];
  return Object.fromEntries(
    await Promise.all(
      files.map(async (file) => [file, await readFile(path.join(runs, folder!, file), 'utf8')]),
    ),
  );
}

beforeAll(async () => {
  server = await startCodaServer({ token: TOKEN, doc });
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-parents-'));
});
afterAll(async () => {
  await server.close();
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

const PARENT_LINK = projects.ref('i-pwBlank').url;

describe('a project with a blank name, and its tasks', () => {
  it('groups the tasks under the project, named by its link, with what to do once', async () => {
    const { mappings, runs } = await mappingFolder({
      'projects.yaml': PROJECTS_YAML,
      'tasks.yaml': tasksYaml(),
    });
    const planned = await run(['plan', ...live(), '--mappings', mappings, '--runs', runs]);
    expect(planned.code, planned.stderr).toBe(0);
    const tasksFile = path.join(mappings, 'tasks.yaml');
    const headline = `6 To-dos rows rejected because For engagement links to a Client Work row with no name, which was rejected: Engagement is empty, but a value is required`;
    const advice = `To load them, fix that Client Work row in Coda, or set \`links.rejected_parent: load_without_link\` in ${tasksFile} to load them with For engagement left empty.`;
    expect(planned.stdout).toContain(`\n  ${headline}\n    ${PARENT_LINK}\n    ${advice}`);
    expect(planned.stdout).toContain(
      '    The rows: Ünïcode step, Second step, Third step, Fourth step, Fifth step and 1 more',
    );
    expect(planned.stdout).toContain('Rows rejected (not loaded), with the reason (7):');
    expect(planned.stdout).not.toContain(`"${BLANK}"`);

    const reports = await reportsOf(runs);
    const json = JSON.parse(reports['report.json']!);
    const taskReport = json.tables.find((table: { target: string }) => table.target === 'erp.tasks');
    expect(taskReport.rejectedParents).toEqual([
      expect.objectContaining({
        parent: expect.objectContaining({
          rowId: 'i-pwBlank',
          table: 'Client Work',
          browserLink: PARENT_LINK,
        }),
        column: 'For engagement',
        children: CHILDREN.map((_, index) => expect.objectContaining({ rowId: `i-tdChild${index}` })),
        why: headline,
        whatToDo: advice,
      }),
    ]);
    // Each child's own reason names the parent the same way, with its link, wherever it is quoted.
    expect(taskReport.rejects[0].problems[0].text).toBe(
      `For engagement links to a Client Work row with no name (${PARENT_LINK}), which was rejected in this run (Engagement is empty, but a value is required)`,
    );
    const markdown = reports['report.md']!;
    expect(markdown).toContain('## Rows rejected (not loaded), with the reason (7)');
    // What to do is said once for the six rows.
    expect(markdown.split('load\\_without\\_link')).toHaveLength(2);
    expect(markdown).toContain(`[(no name)](<${PARENT_LINK}>): Engagement is empty`);
    for (const child of CHILDREN) expect(markdown).toContain(`  - [${child}]`);
    const html = reports['report.html']!;
    expect(html).toContain('<details class="rows"><summary>the 6 rows</summary>');
    expect(html).toContain(`<a href="${PARENT_LINK}">open it in Coda</a>`);
    expect(html).not.toMatch(/>\s+<\/a>/);
  });

  it('loads the tasks with the link empty when the mapping says load_without_link', async () => {
    const { mappings, runs } = await mappingFolder({
      'projects.yaml': PROJECTS_YAML,
      'tasks.yaml': tasksYaml('links: { rejected_parent: load_without_link }\n'),
    });
    const cut = await run([
      'cutover',
      ...live(),
      '--mappings',
      mappings,
      '--runs',
      runs,
      '--max-rejects',
      '1',
    ]);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    const loaded = await db.query<{ title: string; project: string | null }>(
      `SELECT t.title, p.name AS project FROM erp.tasks t LEFT JOIN erp.projects p ON p.id = t.project_id ORDER BY t.title`,
    );
    expect(loaded.rows).toEqual(
      [
        ...CHILDREN.map((title) => ({ title, project: null })),
        { title: 'Linked to a kept project', project: 'Kept' },
      ].sort((a, b) => (a.title < b.title ? -1 : 1)),
    );
  });
});

describe('a mapping that does not fit the doc', () => {
  const rowRequests = () => server.requests.filter((request) => /\/rows/.test(request.path)).length;

  it('is refused by a cutover from the doc’s columns: no row read, no backup', async () => {
    const { mappings, runs } = await mappingFolder({
      'projects.yaml': PROJECTS_YAML,
      'tasks.yaml': tasksYaml().replace('from: c-tDtitle, label: "What"', 'from: c-tDgone, label: "what?"'),
    });
    const before = rowRequests();
    const cut = await run(['cutover', ...live(), '--mappings', mappings, '--runs', runs]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /tasks\.yaml does not match the Coda doc:\n {2}columns\.title\.from: Coda table "To-dos" \(grid-tOdos001\) has no column c-tDgone \("what\?"\); did you mean "What"\? the table's columns are/,
    );
    expect(cut.stderr).toContain('No row was read and nothing was written');
    expect(rowRequests()).toBe(before);
    expect(existsSync(runs)).toBe(false);
  });

  it('is refused by mappings check from the doc’s columns, a missing table with the closest names', async () => {
    const { mappings } = await mappingFolder({
      'projects.yaml': PROJECTS_YAML.replace(
        'grid-pRojects1, name: "Client Work"',
        'grid-pRojectsX, name: "client work"',
      ),
      'tasks.yaml': tasksYaml(),
    });
    const before = rowRequests();
    const checked = await run(['mappings', 'check', ...live(), '--mappings', mappings]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(
      /projects\.yaml does not match the Coda doc:\n {2}coda\.table: doc pArEnTsD0c has no table grid-pRojectsX \("client work"\); did you mean "Client Work"\? its tables are/,
    );
    expect(checked.stdout).toContain('No row was read, so the choices in the doc are not checked yet');
    expect(rowRequests()).toBe(before);
  });

  it('draft refuses a table name the doc lacks before reading its rows, offering the closest', async () => {
    const before = rowRequests();
    const out = path.join(workDir, 'drafts');
    const drafted = await run(['mappings', 'draft', ...live(), '--table', 'To-do', '--mappings', out]);
    expect(drafted.code).toBe(1);
    expect(drafted.stderr).toContain(
      'the doc has no base table "To-do"; did you mean "To-dos"? its tables are "Client Work", "To-dos"',
    );
    expect(rowRequests()).toBe(before);
    expect(existsSync(out)).toBe(false);
  });

  it('draft refuses a table whose erp table it cannot tell, and a target that does not exist, before reading rows', async () => {
    const before = rowRequests();
    const out = path.join(workDir, 'drafts-untargeted');
    const drafted = await run([
      'mappings',
      'draft',
      ...live(),
      '--table',
      'Client Work=erp.projets',
      'To-dos',
      '--mappings',
      out,
    ]);
    expect(drafted.code).toBe(1);
    expect(drafted.stderr).toContain(
      '"Client Work": there is no table erp.projets; did you mean "erp.projects"?',
    );
    expect(rowRequests()).toBe(before);
    expect(existsSync(out)).toBe(false);
  });

  it('a plan with a mappings folder that does not exist says how to make one', async () => {
    const missing = path.join(workDir, 'no-such-mappings');
    const planned = await run(['plan', ...live(), '--mappings', missing]);
    expect(planned.code).toBe(1);
    expect(planned.stderr).toContain(`there is no mappings folder ${missing}; write drafts into it with`);
    expect(planned.stderr).not.toMatch(/ENOENT|scandir/);
  });
});
