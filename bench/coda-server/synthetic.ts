/**
 * Synthetic tables and docs of any size for paging tests and benchmarks. Rows are built on demand
 * from their index, so a 100k-row table costs no memory and is the same on every run.
 */
import type { FixtureCellValue, FixtureColumn, FixtureDoc, FixtureTable } from './fixture-types.ts';
import type { CodaPersonValue } from '../../src/extract/index.ts';
import { money, person, rowReference } from './rich-values.ts';

const OWNERS = [
  person('Maya Okafor', 'maya@brightline.consulting'),
  person('Lena Fischer'),
  person('Priya Raman', 'priya@brightline.consulting'),
];
const TAGS = ['client', 'internal', 'research', 'admin'];
const START_MS = Date.parse('2022-01-03T08:00:00.000Z');
const MINUTE_MS = 60_000;

export function syntheticTable(options: { id: string; name: string; rowCount: number }): FixtureTable {
  return generatedTable({
    ...options,
    columns: [
      { key: 'Title', name: 'Title', display: true, format: { type: 'text', isArray: false } },
      { key: 'Seq', name: 'Sequence', format: { type: 'number', isArray: false, precision: 0 } },
      { key: 'Owner', name: 'Owner', format: { type: 'person', isArray: false } },
      { key: 'Amount', name: 'Amount', format: { type: 'currency', isArray: false, currencyCode: 'USD' } },
      { key: 'Due', name: 'Due', format: { type: 'date', isArray: false } },
      { key: 'Tags', name: 'Tags', format: { type: 'select', isArray: true, options: TAGS } },
      { key: 'Note', name: 'Note', format: { type: 'text', isArray: false } },
    ],
    values: (index) => {
      const tags = TAGS.filter((_, bit) => (index >> bit) & 1);
      return {
        Title: `Item ${index + 1}`,
        Seq: index,
        Owner: OWNERS[index % OWNERS.length] ?? '',
        Amount:
          index % 2
            ? money((index * 37) % 10_000)
            : money(((index * 37) % 10_000).toLocaleString('en-US', { minimumFractionDigits: 2 })),
        Due: day(index),
        Tags: tags.length ? tags : '',
        Note: index % 7 === 0 ? '' : `Note ${index}\twith a tab, a "quote" and a \\ backslash`,
      };
    },
  });
}

type GeneratedColumn = Omit<FixtureColumn, 'id'> & { key: string };

/** Ids are derived from the table id and the row index, so a lookup can name a row without building it. */
function generatedRowId(tableId: string, index: number): string {
  return `i-${tableId.replace(/^grid-/, '').slice(0, 6)}${index.toString(36).padStart(6, '0')}`;
}

/**
 * A table whose row `index` holds `values(index)` (keyed by column key), with ids and times
 * derived from the index. `revised` rows were edited after every row was created.
 */
function generatedTable(spec: {
  id: string;
  name: string;
  rowCount: number;
  columns: GeneratedColumn[];
  values: (index: number) => Record<string, FixtureCellValue>;
  revised?: (index: number) => boolean;
}): FixtureTable {
  const columnId = (key: string) => `c-${spec.id.replace(/^grid-/, '').slice(0, 6)}${key}`;
  const columns = spec.columns.map(({ key, ...column }) => ({ ...column, id: columnId(key) }));
  const updatedAt = new Date(START_MS + spec.rowCount * MINUTE_MS).toISOString();
  return {
    id: spec.id,
    name: spec.name,
    tableType: 'table',
    createdAt: new Date(START_MS - MINUTE_MS).toISOString(),
    updatedAt,
    columns,
    rowCount: spec.rowCount,
    rowAt(index) {
      if (!(index >= 0 && index < spec.rowCount)) throw new RangeError(`${spec.name} has no row ${index}`);
      const created = new Date(START_MS + index * MINUTE_MS).toISOString();
      const values = spec.values(index);
      return {
        id: generatedRowId(spec.id, index),
        createdAt: created,
        updatedAt: spec.revised?.(index) ? updatedAt : created,
        values: Object.fromEntries(
          spec.columns.map((column) => [columnId(column.key), values[column.key] ?? '']),
        ),
      };
    },
  };
}

function day(offsetDays: number): string {
  return `${new Date(START_MS + offsetDays * 86_400_000).toISOString().slice(0, 10)}T00:00:00.000-08:00`;
}

const SYNTHETIC_DOC_ID = 'bEnchD0c5yn';

/** Table and column ids of the synthetic doc, as bench/mappings/*.yaml name them. */
const SYNTHETIC_TABLES = {
  people: { id: 'grid-BnchPe0pl', name: 'People' },
  projects: { id: 'grid-BnchPr0js', name: 'Projects' },
  engagements: { id: 'grid-BnchEngmt', name: 'Engagements' },
  tasks: { id: 'grid-BnchT4sks', name: 'Tasks' },
} as const;

const PEOPLE_COUNT = 30;
const FIRST_NAMES = ['Maya', 'Lena', 'Priya', 'Tomás', 'Aiko', 'Jonas', 'Fatima', 'Oliver', 'Zoë', 'Kwame'];
const LAST_NAMES = ['Okafor', 'Fischer', 'Raman'];
const PROJECT_STATUSES = ['Planned', 'In Progress', 'On Hold', 'Done'];
const ENGAGEMENT_STATUSES = ['Prospect', 'Proposed', 'Active', 'Completed'];
const TASK_STATUSES = ['To Do', 'In Progress', 'Blocked', 'Done'];
const PRIORITIES = ['Low', 'Medium', 'High', 'Urgent'];
const TASK_TAGS = ['client', 'internal', 'research', 'admin', 'billing', 'ops'];
const SENTENCES = [
  "Kick-off with the client's operations lead; agree on scope, owners and the first milestone.",
  'Collect the current process maps and "as is" metrics from the shared drive.',
  'Draft the recommendations deck:\n- quick wins\n- structural changes\n- open questions',
  'Review with finance: budget lines, invoicing cadence and the C:\\exports folder layout.',
  'Note: the vendor contract renews in Q3, so timing matters.\tFollow up with legal.',
  'Schedule a retrospective and archive the working documents once the client signs off.',
];

function personAt(index: number): CodaPersonValue {
  const first = FIRST_NAMES[index % FIRST_NAMES.length] ?? '';
  const last = LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length] ?? '';
  // Every fifth person is not a workspace member: Coda leaves their email out, so they match by name.
  return index % 5 === 4
    ? person(`${first} ${last}`)
    : person(
        `${first} ${last}`,
        `${first
          .toLowerCase()
          .normalize('NFD')
          .replace(/[^a-z]/g, '')}.${last.toLowerCase()}@example.com`,
      );
}

/** Long text of a few hundred characters, with the newlines, tabs, quotes and backslashes real notes have. */
function longText(index: number, sentences: number): string {
  return Array.from(
    { length: sentences },
    (_, offset) => SENTENCES[(index + offset) % SENTENCES.length],
  ).join('\n\n');
}

function tagsAt(index: number, tags: readonly string[]): FixtureCellValue {
  const chosen = tags.filter((_, bit) => ((index * 7) >> bit) & 1);
  return chosen.length ? chosen : '';
}

/**
 * A consulting business's doc at scale: People, Projects (1 per 20 tasks), Engagements (1 per 10
 * tasks) and `taskRows` Tasks, with lookups, people, currency, selects, multi-selects and long
 * text. `revised`: every tenth project, engagement and task was edited since (the 10%-changed doc).
 */
export function syntheticDoc(options: { taskRows: number; revised?: boolean }): FixtureDoc {
  const projectCount = Math.max(5, Math.ceil(options.taskRows / 20));
  const engagementCount = Math.max(5, Math.ceil(options.taskRows / 10));
  const revised = (index: number) => options.revised === true && index % 10 === 0;
  const suffix = (index: number) => (revised(index) ? ' (revised)' : '');
  const projectName = (index: number) =>
    `Project ${index + 1}: ${['Harbour analytics', 'Pricing review', 'Onboarding redesign', 'Vendor audit'][index % 4]}${suffix(index)}`;
  const projectRef = (index: number) => {
    const project = index % projectCount;
    return rowReference(
      SYNTHETIC_DOC_ID,
      SYNTHETIC_TABLES.projects,
      generatedRowId(SYNTHETIC_TABLES.projects.id, project),
      projectName(project),
    );
  };

  const people = generatedTable({
    ...SYNTHETIC_TABLES.people,
    rowCount: PEOPLE_COUNT,
    columns: [
      { key: 'Name', name: 'Full Name', display: true, format: { type: 'text', isArray: false } },
      { key: 'Email', name: 'Email', format: { type: 'email', isArray: false } },
      { key: 'Role', name: 'Role', format: { type: 'text', isArray: false } },
      { key: 'Active', name: 'Active', format: { type: 'checkbox', isArray: false, displayType: 'check' } },
    ],
    values: (index) => {
      const who = personAt(index);
      return {
        Name: who.name ?? '',
        Email: who.email ?? '',
        Role: ['Consultant', 'Analyst', 'Partner'][index % 3] ?? '',
        Active: index % 7 !== 6,
      };
    },
  });
  const projects = generatedTable({
    ...SYNTHETIC_TABLES.projects,
    rowCount: projectCount,
    revised,
    columns: [
      { key: 'Name', name: 'Name', display: true, format: { type: 'text', isArray: false } },
      { key: 'Brief', name: 'Brief', format: { type: 'text', isArray: false } },
      { key: 'Owner', name: 'Owner', format: { type: 'person', isArray: false } },
      {
        key: 'Status',
        name: 'Status',
        format: { type: 'select', isArray: false, options: PROJECT_STATUSES },
      },
      { key: 'Start', name: 'Start Date', format: { type: 'date', isArray: false } },
      { key: 'End', name: 'End Date', format: { type: 'date', isArray: false } },
      {
        key: 'Billable',
        name: 'Billable',
        format: { type: 'checkbox', isArray: false, displayType: 'toggle' },
      },
      { key: 'Tags', name: 'Tags', format: { type: 'select', isArray: true, options: TASK_TAGS } },
    ],
    values: (index) => ({
      Name: projectName(index),
      Brief: longText(index, 4),
      Owner: personAt(index % PEOPLE_COUNT),
      Status: PROJECT_STATUSES[index % PROJECT_STATUSES.length] ?? '',
      Start: day(index % 700),
      End: index % 3 === 0 ? '' : day((index % 700) + 30 + (index % 90)),
      Billable: index % 4 !== 0,
      Tags: tagsAt(index, TASK_TAGS),
    }),
  });
  const engagements = generatedTable({
    ...SYNTHETIC_TABLES.engagements,
    rowCount: engagementCount,
    revised,
    columns: [
      { key: 'Name', name: 'Engagement', display: true, format: { type: 'text', isArray: false } },
      {
        key: 'Project',
        name: 'Project',
        format: { type: 'lookup', isArray: false, table: SYNTHETIC_TABLES.projects.id },
      },
      { key: 'Contact', name: 'Primary Contact', format: { type: 'person', isArray: false } },
      {
        key: 'Value',
        name: 'Value',
        format: { type: 'currency', isArray: false, currencyCode: 'USD', precision: 2 },
      },
      {
        key: 'Status',
        name: 'Status',
        format: { type: 'select', isArray: false, options: ENGAGEMENT_STATUSES },
      },
      { key: 'Start', name: 'Start Date', format: { type: 'date', isArray: false } },
      { key: 'Notes', name: 'Notes', format: { type: 'text', isArray: false } },
    ],
    values: (index) => ({
      Name: `Engagement ${index + 1}${suffix(index)}`,
      Project: projectRef(index),
      Contact: index % 6 === 5 ? '' : personAt((index * 7) % PEOPLE_COUNT),
      // Coda sends amounts as numbers or as formatted strings, depending on the doc.
      Value:
        index % 2
          ? money(((index * 977) % 250_000) + 0.5)
          : money((((index * 977) % 250_000) + 0.5).toLocaleString('en-US', { minimumFractionDigits: 2 })),
      Status: ENGAGEMENT_STATUSES[index % ENGAGEMENT_STATUSES.length] ?? '',
      Start: day(index % 700),
      Notes: index % 3 === 0 ? longText(index, 2) : '',
    }),
  });
  const tasks = generatedTable({
    ...SYNTHETIC_TABLES.tasks,
    rowCount: options.taskRows,
    revised,
    columns: [
      { key: 'Title', name: 'Title', display: true, format: { type: 'text', isArray: false } },
      { key: 'Details', name: 'Details', format: { type: 'text', isArray: false } },
      {
        key: 'Project',
        name: 'Project',
        format: { type: 'lookup', isArray: false, table: SYNTHETIC_TABLES.projects.id },
      },
      { key: 'Assignee', name: 'Assignee', format: { type: 'person', isArray: false } },
      { key: 'Status', name: 'Status', format: { type: 'select', isArray: false, options: TASK_STATUSES } },
      { key: 'Priority', name: 'Priority', format: { type: 'select', isArray: false, options: PRIORITIES } },
      { key: 'Due', name: 'Due Date', format: { type: 'date', isArray: false } },
      { key: 'Estimate', name: 'Estimated Hours', format: { type: 'number', isArray: false, precision: 1 } },
      { key: 'Tags', name: 'Tags', format: { type: 'select', isArray: true, options: TASK_TAGS } },
    ],
    values: (index) => ({
      Title: `Task ${index + 1}: ${['Prepare workshop', 'Interview stakeholders', 'Write summary', 'Update model'][index % 4]}${suffix(index)}`,
      Details:
        index % 4 === 0 ? longText(index, 3) : index % 4 === 1 ? `See the brief, section ${index % 12}.` : '',
      Project: projectRef(index),
      Assignee: index % 9 === 8 ? '' : personAt(index % PEOPLE_COUNT),
      Status: TASK_STATUSES[index % TASK_STATUSES.length] ?? '',
      Priority: PRIORITIES[(index >> 2) % PRIORITIES.length] ?? '',
      Due: index % 5 === 0 ? '' : day(index % 900),
      Estimate: ((index % 16) + 1) / 2 + (revised(index) ? 1 : 0),
      Tags: tagsAt(index, TASK_TAGS),
    }),
  });
  return {
    id: SYNTHETIC_DOC_ID,
    name: `Benchmark consulting doc (${options.taskRows.toLocaleString('en-US')} tasks${options.revised ? ', 10% revised' : ''})`,
    owner: 'maya@example.com',
    ownerName: 'Maya Okafor',
    createdAt: new Date(START_MS - MINUTE_MS).toISOString(),
    updatedAt: new Date(START_MS + options.taskRows * MINUTE_MS).toISOString(),
    tables: [people, projects, engagements, tasks],
  };
}
