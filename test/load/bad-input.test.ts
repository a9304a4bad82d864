/**
 * The bad-input corpus: awkward and wrong values, each either loaded exactly or rejected with a
 * reason a person can act on, and not one row lost: rows read = rows loaded + rows rejected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type RunReport } from '../../src/load/run.ts';
import { reasonText } from '../../src/report/reasons.ts';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import type { FixtureCellValue, FixtureColumn, FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { money, person } from '../../bench/coda-server/rich-values.ts';
import { tableDefiner } from '../../bench/coda-server/table-builder.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const DOC_ID = 'bAdInPuT01';
const defineTable = tableDefiner(DOC_ID);
const col = (
  id: string,
  name: string,
  type: FixtureColumn['format']['type'],
  extra: Partial<FixtureColumn['format']> = {},
  display = false,
): FixtureColumn => ({
  id,
  name,
  format: { type, isArray: false, ...extra },
  ...(display ? { display: true } : {}),
});

const people = defineTable({
  id: 'grid-bPeople01',
  name: 'People',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: { name: col('c-bPname', 'Name', 'text', {}, true), email: col('c-bPmail', 'Email', 'email') },
  rows: [
    { id: 'i-bpAda', values: { name: 'Ada Lovelace', email: 'ada@example.com' } },
    { id: 'i-bpAlan', values: { name: 'Alan Turing' } },
    { id: 'i-bpGrace1', values: { name: 'Grace Hopper', email: 'grace1@example.com' } },
    { id: 'i-bpGrace2', values: { name: 'Grace Hopper', email: 'grace2@example.com' } },
  ],
});

const projects = defineTable({
  id: 'grid-bProjects',
  name: 'Projects',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: col('c-bJname', 'Name', 'text', {}, true),
    status: col('c-bJstat', 'Status', 'select', { options: ['Planned', 'In Progress'] }),
    start: col('c-bJstart', 'Start', 'date'),
    end: col('c-bJend', 'End', 'date'),
    billable: col('c-bJbill', 'Billable', 'checkbox'),
    owner: col('c-bJowner', 'Owner', 'person'),
  },
  rows: [
    {
      id: 'i-bjGood',
      values: {
        name: 'Good project',
        status: 'In Progress',
        start: '2024-01-01',
        end: '2024-03-01',
        billable: true,
      },
    },
    {
      id: 'i-bjBackwards',
      values: { name: 'Ends before it starts', start: '2024-03-01', end: '2024-01-01' },
    },
    {
      id: 'i-bjNewOwner',
      values: { name: 'Owned by a newcomer', owner: person('Katherine Johnson', 'kj@example.com') },
    },
    { id: 'i-bjBadBill', values: { name: 'Bad checkbox', billable: 'yes' } },
  ],
});

const taskColumns = {
  title: col('c-bTtitle', 'Title', 'text', {}, true),
  description: col('c-bTdesc', 'Description', 'text'),
  project: col('c-bTproj', 'Project', 'lookup', { table: 'grid-bProjects' }),
  assignee: col('c-bTwho', 'Assignee', 'person'),
  status: col('c-bTstat', 'Status', 'select', { options: ['To Do', 'In Progress', 'Done'] }),
  priority: col('c-bTprio', 'Priority', 'select', { options: ['Low', 'High'] }),
  due: col('c-bTdue', 'Due', 'date'),
  start: col('c-bTstart', 'Scheduled Start', 'date'),
  end: col('c-bTend', 'Scheduled End', 'date'),
  hours: col('c-bThours', 'Estimated Hours', 'number'),
  tags: {
    ...col('c-bTtags', 'Tags', 'select', { options: ['a', 'b'] }),
    format: { type: 'select' as const, isArray: true, options: ['a', 'b'] },
  },
};
type TaskKey = keyof typeof taskColumns;

interface Case {
  name: string;
  values: Partial<Record<TaskKey, FixtureCellValue>>;
  /** Columns of erp.tasks and the values they must hold, or the reason the row is rejected. */
  expect: Record<string, unknown> | RegExp;
  rowId?: string;
}

const projectRef = (rowId: string) => projects.ref(rowId);
const LONG_TEXT = 'Lorem ipsum dolor sit amet. '.repeat(4_000);
const CASES: Case[] = [
  { name: 'tab in text', values: { title: 'a\tb' }, expect: { title: 'a\tb' } },
  {
    name: 'newlines in text',
    values: { title: 'nl', description: 'line 1\nline 2\r\nline 3' },
    expect: { description: 'line 1\nline 2\r\nline 3' },
  },
  {
    name: 'backslashes',
    values: { title: 'C:\\temp\\new', description: '\\N is not NULL' },
    expect: { title: 'C:\\temp\\new', description: '\\N is not NULL' },
  },
  {
    name: 'emoji and other scripts',
    values: { title: '🚀 Ünïcödé 日本語 עברית' },
    expect: { title: '🚀 Ünïcödé 日本語 עברית' },
  },
  {
    name: 'very long text',
    values: { title: 'long', description: LONG_TEXT },
    expect: { description: LONG_TEXT },
  },
  { name: 'Unicode line separator', values: { title: 'sep\u2028here' }, expect: { title: 'sep\u2028here' } },
  {
    name: 'text in a code fence',
    values: { title: '```fenced title```' },
    expect: { title: 'fenced title' },
  },
  {
    name: 'NUL in text',
    values: { title: 'nul\u0000here' },
    expect: /Title contains an invisible NUL character/,
  },
  {
    name: 'NUL in a person',
    values: { title: 'nul person', assignee: person('Ada\u0000', 'ada@example.com') },
    expect: /Assignee contains an invisible NUL/,
  },
  { name: 'empty required text', values: { title: '' }, expect: /Title is empty, but a value is required/ },
  { name: 'blank required text', values: { title: '   ' }, expect: /Title is empty/ },
  { name: 'select mapped', values: { title: 'sel', status: 'In Progress' }, expect: { status: 'active' } },
  {
    name: 'select in another case',
    values: { title: 'sel case', status: 'in progress' },
    expect: { status: 'active' },
  },
  {
    name: 'unknown select value',
    values: { title: 'sel unknown', status: 'Paused' },
    expect: /Status "Paused" is not one of the known choices/,
  },
  {
    name: 'empty select takes the default',
    values: { title: 'sel default' },
    expect: { status: 'todo', priority: 'medium' },
  },
  {
    name: 'select value the database refuses',
    values: { title: 'sel refused', priority: 'High' },
    expect: /Priority is highest, which breaks the rule "A task's priority is low, medium, high or urgent\."/,
  },
  {
    name: 'impossible date',
    values: { title: 'date', due: '2023-02-30' },
    expect: /Due is "2023-02-30", a day that does not exist/,
  },
  {
    name: 'not a date',
    values: { title: 'date text', due: 'next Tuesday' },
    expect: /Due is "next Tuesday", not a date/,
  },
  {
    name: 'date with time zone',
    values: { title: 'date tz', due: '2024-05-01T00:00:00.000-08:00' },
    expect: { due_date: '2024-05-01' },
  },
  {
    name: 'end before start',
    values: { title: 'sched', start: '2024-05-02', end: '2024-05-01' },
    // Dates read as dates, the rule in words.
    expect:
      /Scheduled Start is 2024-05-02, Scheduled End is 2024-05-01, which breaks the rule "A task cannot be scheduled to end before it starts\."/,
  },
  {
    name: 'number as text',
    values: { title: 'num', hours: 'twelve' },
    expect: /Estimated Hours is "twelve", not a number/,
  },
  {
    name: 'number with separators',
    values: { title: 'num sep', hours: '1,234.5' },
    expect: { estimated_hours: '1234.5' },
  },
  {
    name: 'negative hours',
    values: { title: 'num neg', hours: -3 },
    expect: /Estimated Hours is -3, which breaks the rule "Estimated hours cannot be negative\."/,
  },
  {
    name: 'two rules broken at once, both told',
    values: { title: 'two rules', hours: -1, start: '2024-06-02', end: '2024-06-01' },
    expect:
      /Scheduled Start is 2024-06-02, Scheduled End is 2024-06-01, which breaks the rule "A task cannot be scheduled to end before it starts\."[\s\S]*Estimated Hours is -1, which breaks|Estimated Hours is -1, which breaks the rule "Estimated hours cannot be negative\."[\s\S]*Scheduled Start is 2024-06-02/,
  },
  {
    name: 'a person where text belongs',
    values: { title: person('Ada Lovelace', 'ada@example.com') },
    expect: /Title is a person \("Ada Lovelace"\), not text/,
  },
  {
    name: 'link to a loaded row',
    values: { title: 'link', project: projectRef('i-bjGood') },
    expect: { project_id: 'linked' },
  },
  {
    name: 'dangling link',
    values: {
      title: 'dangling',
      project: { ...projectRef('i-bjGood'), rowId: 'i-bjDeleted', name: 'Deleted project' },
    },
    expect: { project_id: null },
  },
  {
    name: 'link to a rejected row',
    values: { title: 'to rejected', project: projectRef('i-bjBackwards') },
    // The parent is named with the reason it was rejected: the child is not loaded without its link.
    expect:
      /Project links to "Ends before it starts" \(https:\/\/coda\.io\/\S+\), which was rejected in this run \(.*A project cannot end before it starts\./,
  },
  {
    name: 'link to another table',
    values: { title: 'wrong table', project: people.ref('i-bpAda') },
    expect: /links to a row of table grid-bPeople01/,
  },
  {
    name: 'two links where one fits',
    values: { title: 'two links', project: [projectRef('i-bjGood'), projectRef('i-bjNewOwner')] },
    expect: /holds 2 values/,
  },
  {
    name: 'person by email, other case',
    values: { title: 'by email', assignee: person('Ada L.', 'ADA@example.com') },
    expect: { assignee_id: 'Ada Lovelace' },
  },
  {
    name: 'person by name, no email',
    values: { title: 'by name', assignee: person('Alan Turing') },
    expect: { assignee_id: 'Alan Turing' },
  },
  {
    name: 'unknown person, mapping rejects',
    values: { title: 'unknown', assignee: person('Nobody Known', 'nobody@example.com') },
    expect: /names Nobody Known <nobody@example.com>, who is not among the people in Postgres/,
  },
  {
    name: 'ambiguous name',
    values: { title: 'ambiguous', assignee: person('Grace Hopper') },
    expect: /names Grace Hopper, who is not among the people in Postgres \(or shares the name/,
  },
  { name: 'tags', values: { title: 'tags', tags: ['a', 'b', 'a'] }, expect: { tags: ['a', 'b'] } },
  {
    name: 'unknown tag',
    values: { title: 'tag unknown', tags: ['a', 'z'] },
    expect: /"z" is not one of the known tags/,
  },
  {
    name: 'first copy of a duplicated row id',
    rowId: 'i-btDup',
    values: { title: 'dup first' },
    expect: { title: 'dup first' },
  },
  {
    name: 'second copy of a duplicated row id',
    rowId: 'i-btDup',
    values: { title: 'dup second' },
    expect: /appears more than once/,
  },
];

const tasks = defineTable({
  id: 'grid-bTasks001',
  name: 'Tasks',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: taskColumns,
  rows: CASES.map((testCase, index) => ({
    id: testCase.rowId ?? `i-bt${String(index).padStart(3, '0')}`,
    values: testCase.values,
  })),
});

const offers = defineTable({
  id: 'grid-bOffers01',
  name: 'Offers',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: col('c-bOname', 'Name', 'text', {}, true),
    price: col('c-bOprice', 'Price', 'currency', { currencyCode: 'USD' }),
  },
  rows: [
    { id: 'i-boNum', values: { name: 'number', price: money(1500) } },
    { id: 'i-boStr', values: { name: 'string amount', price: money('1,500.00') } },
    { id: 'i-boText', values: { name: 'symbol text', price: '$2,750.50' } },
    { id: 'i-boEur', values: { name: 'other currency', price: money(20, 'EUR') } },
    { id: 'i-boJunk', values: { name: 'not money', price: 'a dozen apples' } },
    { id: 'i-boNone', values: { name: 'no price', price: '' } },
  ],
});

const doc: FixtureDoc = {
  id: DOC_ID,
  name: 'Bad input corpus',
  owner: 'ada@example.com',
  ownerName: 'Ada Lovelace',
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  tables: [people, projects, tasks, offers],
};

const MAPPINGS = {
  'people.yaml': `
coda: { table: grid-bPeople01, name: People }
target: erp.people
columns:
  full_name: { from: c-bPname, as: text, required: true }
  email: { from: c-bPmail, as: text }
`,
  'projects.yaml': `
coda: { table: grid-bProjects, name: Projects }
target: erp.projects
people: { unknown: create }
columns:
  name: { from: c-bJname, as: text, required: true }
  status: { from: c-bJstat, as: select, default: planned, values: { Planned: planned, "In Progress": active } }
  start_date: { from: c-bJstart, as: date }
  end_date: { from: c-bJend, as: date }
  billable: { from: c-bJbill, as: checkbox }
  owner_person_id: { from: c-bJowner, as: person }
`,
  'tasks.yaml': `
coda: { table: grid-bTasks001, name: Tasks }
target: erp.tasks
columns:
  title: { from: c-bTtitle, as: text, required: true }
  description: { from: c-bTdesc, as: text }
  project_id: { from: c-bTproj, as: lookup, table: grid-bProjects }
  assignee_id: { from: c-bTwho, as: person }
  status: { from: c-bTstat, as: select, default: todo, values: { "To Do": todo, "In Progress": active, Done: done } }
  priority: { from: c-bTprio, as: select, default: medium, values: { Low: low, High: highest } }
  due_date: { from: c-bTdue, as: date }
  scheduled_start_date: { from: c-bTstart, as: date }
  scheduled_end_date: { from: c-bTend, as: date }
  estimated_hours: { from: c-bThours, as: number }
  tags: { from: c-bTtags, as: tags, values: { a: a, b: b } }
`,
  'offers.yaml': `
coda: { table: grid-bOffers01, name: Offers }
target: erp.offers
columns:
  name: { from: c-bOname, as: text, required: true }
  list_price: { from: c-bOprice, as: currency, currency: USD }
`,
};

let db: TestDatabase;
let workDir: string;
let report: RunReport;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-bad-input-'));
  const snapshot = await snapshotOf(doc, workDir);
  const mappings = Object.entries(MAPPINGS).map(([file, text]) => parseMappingSpec(`mappings/${file}`, text));
  report = await runLoad({
    databaseUrl: db.url,
    source: snapshot,
    mappings,
    mode: 'cutover',
    maxRejects: 1_000,
    runDir: workDir,
  });
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

const tableReport = (target: string) => report.tables.find((table) => table.target === target)!;

describe('the bad-input corpus', () => {
  it('loses no row', () => {
    expect(report.outcome).toBe('committed');
    for (const table of report.tables) {
      expect(
        table.inserted.length + table.updated.length + table.unchanged + table.rejects.length,
        table.target,
      ).toBe(table.read);
    }
    expect(tableReport('erp.tasks').read).toBe(CASES.length);
  });

  it.each(CASES.map((testCase, index) => [testCase.name, index] as const))('%s', async (_name, index) => {
    const testCase = CASES[index]!;
    const rowId = testCase.rowId ?? `i-bt${String(index).padStart(3, '0')}`;
    // Two cases share a row id on purpose; the row's display value (its title) tells them apart.
    const rejects = tableReport('erp.tasks').rejects.filter(
      (reject) =>
        reject.source.rowId === rowId && (!testCase.rowId || reject.source.rowName === testCase.values.title),
    );
    const isSecondCopy =
      testCase.rowId !== undefined && CASES.findIndex((other) => other.rowId === testCase.rowId) !== index;
    if (testCase.expect instanceof RegExp) {
      expect(
        rejects.flatMap((reject) => reject.problems.map((problem) => reasonText(problem.reason))).join('\n'),
      ).toMatch(testCase.expect);
      if (!isSecondCopy) {
        const loaded = await db.query(`SELECT 1 FROM pipeline.coda_lineage WHERE coda_row_id = $1`, [rowId]);
        expect(loaded.rowCount).toBe(0);
      }
      return;
    }
    expect(rejects).toEqual([]);
    const { rows } = await db.query(
      `SELECT t.*, p.name AS project_name, a.full_name AS assignee_name
         FROM pipeline.coda_lineage l JOIN erp.tasks t ON t.id = l.target_id
         LEFT JOIN erp.projects p ON p.id = t.project_id LEFT JOIN erp.people a ON a.id = t.assignee_id
        WHERE l.coda_table_id = 'grid-bTasks001' AND l.coda_row_id = $1`,
      [rowId],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    for (const [column, value] of Object.entries(testCase.expect)) {
      if (column === 'project_id' && value === 'linked') expect(row.project_name).toBe('Good project');
      else if (column === 'assignee_id') expect(row.assignee_name).toBe(value);
      else if (column === 'due_date') expect(row.due_date.toISOString().slice(0, 10)).toBe(value);
      else expect(row[column], column).toEqual(value);
    }
  });

  it('lists the optional links it could not resolve', () => {
    const unresolved = tableReport('erp.tasks').unresolved.map((reference) => reasonText(reference.reason));
    expect(unresolved).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/links to "Deleted project", which is not in the database/),
      ]),
    );
    expect(unresolved).toHaveLength(1);
  });

  it('converts money given as numbers, strings and symbols, and refuses other currencies and junk', async () => {
    const { rows } = await db.query(`SELECT name, list_price FROM erp.offers ORDER BY name`);
    expect(rows).toEqual([
      { name: 'no price', list_price: null },
      { name: 'number', list_price: '1500' },
      { name: 'string amount', list_price: '1500.00' },
      { name: 'symbol text', list_price: '2750.50' },
    ]);
    const reasons = tableReport('erp.offers').rejects.flatMap((reject) =>
      reject.problems.map((problem) => reasonText(problem.reason)),
    );
    expect(reasons).toEqual([
      expect.stringMatching(/is in EUR, but this column holds USD/),
      expect.stringMatching(/not an amount of money/),
    ]);
  });

  it('rejects project rows the schema refuses and creates unknown owners when the mapping says so', async () => {
    const reasons = tableReport('erp.projects').rejects.map((reject) => [
      reject.source.rowId,
      reasonText(reject.problems[0]!.reason),
    ]);
    expect(reasons).toEqual([
      ['i-bjBackwards', expect.stringMatching(/breaks the rule "A project cannot end before it starts\."/)],
      ['i-bjBadBill', expect.stringMatching(/Billable is "yes", not a checkbox/)],
    ]);
    expect(tableReport('erp.projects').peopleCreated).toBe(1);
    const { rows } = await db.query(
      `SELECT p.full_name, p.email FROM erp.projects j JOIN erp.people p ON p.id = j.owner_person_id`,
    );
    expect(rows).toEqual([{ full_name: 'Katherine Johnson', email: 'kj@example.com' }]);
  });

  it('keeps every reject of the run, with its reason as code and data and its Coda link, in pipeline.rejects', async () => {
    const { rows } = await db.query(
      `SELECT count(DISTINCT (coda_table_id, coda_row_id))::int AS rows, bool_and(reason::jsonb ->> 'code' <> '') AS reasons, bool_and(browser_link LIKE 'https://coda.io/%') AS links FROM pipeline.rejects WHERE run_id = $1`,
      [report.runId],
    );
    expect(rows[0]).toEqual({
      rows: report.tables.reduce((sum, table) => sum + table.rejects.length, 0),
      reasons: true,
      links: true,
    });
  });
});
