/**
 * Coverage, on generated tables: what counts as data, what the owner reads as an example, and
 * how each column and table of the doc is sorted into loaded, skipped, left behind or empty.
 */
import { describe, expect, it } from 'vitest';
import type { CodaRow, PublicApiColumn, SnapshotTable } from '../../src/extract/index.ts';
import {
  cellText,
  CoverageCounter,
  EXAMPLES_KEPT,
  holdsData,
  leftBehind,
  leftBehindKey,
} from '../../src/transform/coverage.ts';
import { parseMappingFile, type LoadedMapping, type SkippedTable } from '../../src/transform/mapping-spec.ts';

const column = (id: string, name: string, type = 'text'): PublicApiColumn =>
  ({ id, name, type: 'column', href: '', format: { type, isArray: false } }) as unknown as PublicApiColumn;

const table = (id: string, name: string, columns: PublicApiColumn[], rowCount: number): SnapshotTable => ({
  id,
  name,
  browserLink: `https://coda.io/d/_dX/#${encodeURIComponent(name)}`,
  columns,
  rowCount,
  file: `tables/${id}.jsonl`,
});

const row = (index: number, values: Record<string, unknown>): CodaRow =>
  ({ id: `i-${index}`, name: `row ${index}`, values }) as unknown as CodaRow;

const mapping = (text: string): LoadedMapping => parseMappingFile('m.yaml', text) as LoadedMapping;
const skippedTable = (text: string): SkippedTable => parseMappingFile('s.yaml', text) as SkippedTable;

describe('what holds data', () => {
  it.each([
    [null, false],
    [undefined, false],
    ['', false],
    ['   \n', false],
    ['```\n```', false],
    [[], false],
    [['', null], false],
    [false, false],
    [true, true],
    [0, true],
    ['0', true],
    [['', 'x'], true],
    [{ '@type': 'Person', name: 'Zoë', email: 'z@example.com' }, true],
  ])('%j holds data: %s', (value, expected) => {
    expect(holdsData(value)).toBe(expected);
  });
});

describe('an example as the owner reads it', () => {
  it.each([
    ['plain text', '```Ünïcödé 名前```', 'Ünïcödé 名前'],
    ['a ticked checkbox', true, 'ticked'],
    ['a number', 12.5, '12.5'],
    ['a date (midnight in the doc time zone)', '2024-03-15T00:00:00.000-08:00', '2024-03-15'],
    ['a date and time', '2024-03-15T09:30:00.000-08:00', '2024-03-15T09:30:00.000-08:00'],
    ['a person', { '@type': 'Person', name: 'Tomás Herrera', email: 't@example.com' }, 'Tomás Herrera'],
    ['a person with only an email', { '@type': 'Person', name: '', email: 't@example.com' }, 't@example.com'],
    ['an amount', { '@type': 'MonetaryAmount', currency: 'EUR', amount: 1200 }, '1200 EUR'],
    ['a link', { '@type': 'WebPage', url: 'https://example.com/brief' }, 'https://example.com/brief'],
    [
      'several people, blanks dropped',
      [{ '@type': 'Person', name: 'Ana' }, '', { '@type': 'Person', name: 'Wei' }],
      'Ana, Wei',
    ],
    ['long text, cut', 'word '.repeat(40), `${'word '.repeat(12).slice(0, 59)}…`],
    ['text on several lines', 'one\n\ntwo', 'one two'],
  ])('%s', (_what, value, expected) => {
    expect(cellText(value)).toBe(expected);
  });
});

describe('the coverage of a doc', () => {
  // Column names unlike any schema: blank, unicode, punctuation.
  const tasks = table(
    'grid-T',
    'Tâches ✓',
    [
      column('c-title', 'Titre'),
      column('c-due', 'Due (h) / est.'),
      column('c-owners', 'Owners', 'person'),
      column('c-blank', ' '),
      column('c-done', 'Done?', 'checkbox'),
      column('c-code', 'Price'),
      column('c-notes', 'Notes 📝'),
    ],
    5,
  );
  const clients = table('grid-C', 'Clients & Partners', [column('c-cn', 'Name')], 7);
  const archive = table('grid-A', 'Archive', [column('c-an', 'Name')], 40);
  const empty = table('grid-E', 'Scratch', [column('c-en', 'Name')], 0);
  const tasksMapping = mapping(`
coda: { table: grid-T, name: Tâches }
target: erp.tasks
columns:
  title: { from: c-title, as: text }
  currency: { from: c-code, as: currency, part: code }
skip:
  c-notes: "kept in Coda: private notes"
`);
  const folder = {
    mappings: [tasksMapping],
    skippedTables: [skippedTable('coda: { table: grid-A, name: Archive }\nskip: "old rows, kept in Coda"\n')],
  };
  const rows = [
    row(1, {
      'c-title': 'a',
      'c-due': '2024-01-02T00:00:00.000Z',
      'c-owners': [
        { '@type': 'Person', name: 'Ana' },
        { '@type': 'Person', name: 'Wei' },
      ],
      'c-blank': '',
      'c-done': false,
      'c-notes': 'secret',
    }),
    row(2, { 'c-title': 'b', 'c-due': '', 'c-owners': [], 'c-blank': '  ', 'c-done': true, 'c-notes': '' }),
    row(3, { 'c-title': 'c', 'c-due': 'soon', 'c-owners': '', 'c-done': false }),
    row(4, { 'c-title': 'd', 'c-due': 'later', 'c-done': true }),
    row(5, { 'c-title': 'e', 'c-due': 'soon', 'c-done': true }),
  ];
  const counted = () => {
    const counter = new CoverageCounter([tasks, clients, archive, empty], folder);
    const countRow = counter.rowCounter('grid-T')!;
    for (const item of rows) countRow(item);
    return counter;
  };

  it('lists each column holding data that is neither loaded nor skipped, with its cells and first distinct examples', () => {
    const [entry] = counted().result().mapped;
    expect(entry?.leftBehind).toEqual([
      { id: 'c-due', label: 'Due (h) / est.', cells: 4, examples: ['2024-01-02', 'soon', 'later'] },
      { id: 'c-owners', label: 'Owners', cells: 1, examples: ['Ana, Wei'] },
      { id: 'c-done', label: 'Done?', cells: 3, examples: ['ticked'] },
    ]);
    expect(entry?.leftBehind[0]?.examples.length).toBeLessThanOrEqual(EXAMPLES_KEPT);
  });

  it('counts a currency column loaded only for its code as loaded', () => {
    const [entry] = counted().result().mapped;
    const named = [...entry!.leftBehind, ...entry!.empty, ...entry!.skipped].map((item) => item.id);
    expect(named).not.toContain('c-code');
    expect(named).not.toContain('c-title');
  });

  it('names a column empty in every row only as empty, and a skipped one with its reason and cells', () => {
    const [entry] = counted().result().mapped;
    expect(entry?.empty.map((item) => item.label)).toEqual([' ']);
    expect(entry?.skipped).toEqual([
      {
        id: 'c-notes',
        label: 'Notes 📝',
        cells: 1,
        examples: ['secret'],
        reason: 'kept in Coda: private notes',
      },
    ]);
  });

  it('lists tables no file names by their row count, and skipped tables with their reason', () => {
    const result = counted().result();
    expect(result.unmapped.map((item) => [item.table.name, item.rows])).toEqual([
      ['Clients & Partners', 7],
      ['Scratch', 0],
    ]);
    expect(result.skipped).toEqual([
      {
        table: { id: 'grid-A', name: 'Archive', browserLink: archive.browserLink },
        rows: 40,
        reason: 'old rows, kept in Coda',
      },
    ]);
  });

  it('leaves behind only what holds data: columns first, then tables with rows', () => {
    const items = leftBehind(counted().result());
    expect(items.map(leftBehindKey)).toEqual(['grid-T/c-due', 'grid-T/c-owners', 'grid-T/c-done', 'grid-C']);
  });

  it('counts a table once, whoever reads it first', () => {
    const counter = counted();
    expect(counter.rowCounter('grid-T')).toBeNull();
    expect(counter.result().mapped[0]?.leftBehind[0]?.cells).toBe(4);
  });

  it('reads ahead only the tables with a column neither loaded nor skipped', () => {
    const declared = mapping(`
coda: { table: grid-T, name: Tâches }
target: erp.tasks
columns:
  title: { from: c-title, as: text }
skip:
  c-due: a
  c-owners: b
  c-blank: c
  c-done: d
  c-code: e
  c-notes: f
`);
    const counter = new CoverageCounter([tasks, clients], { mappings: [declared], skippedTables: [] });
    expect(counter.tablesWithUndeclaredColumns()).toEqual([]);
    expect(new CoverageCounter([tasks], folder).tablesWithUndeclaredColumns()).toEqual(['grid-T']);
  });

  it('leaves a mapped table out until its rows are counted, and keeps a fully loaded one without reading it', () => {
    const counter = new CoverageCounter([tasks, clients], folder);
    expect(counter.result().mapped).toEqual([]);
    const loadedAll = mapping(`
coda: { table: grid-C, name: Clients }
target: erp.organizations
columns:
  name: { from: c-cn, as: text }
`);
    const full = new CoverageCounter([clients], { mappings: [loadedAll], skippedTables: [] });
    expect(full.rowCounter('grid-C')).toBeNull();
    expect(full.result().mapped).toEqual([
      expect.objectContaining({ target: 'erp.organizations', leftBehind: [], empty: [], skipped: [] }),
    ]);
  });
});
