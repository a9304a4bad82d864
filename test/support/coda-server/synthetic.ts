/**
 * Synthetic tables of any size for paging tests and benchmarks. Rows are built on demand from
 * their index, so a 100k-row table costs no memory and is the same on every run.
 */
import type { FixtureColumn, FixtureRow, FixtureTable } from './fixture-types.ts';
import { money, person } from './rich-values.ts';

const OWNERS = [person('Maya Okafor', 'maya@brightline.consulting'), person('Lena Fischer'), person('Priya Raman', 'priya@brightline.consulting')];
const TAGS = ['client', 'internal', 'research', 'admin'];
const START_MS = Date.parse('2022-01-03T08:00:00.000Z');
const MINUTE_MS = 60_000;

export function syntheticTable(options: { id: string; name: string; rowCount: number }): FixtureTable {
  const key = options.id.replace(/^grid-/, '').slice(0, 6);
  const columnId = (name: string) => `c-${key}${name}`;
  const columns: FixtureColumn[] = [
    { id: columnId('Title'), name: 'Title', display: true, format: { type: 'text', isArray: false } },
    { id: columnId('Seq'), name: 'Sequence', format: { type: 'number', isArray: false, precision: 0 } },
    { id: columnId('Owner'), name: 'Owner', format: { type: 'person', isArray: false } },
    { id: columnId('Amount'), name: 'Amount', format: { type: 'currency', isArray: false, currencyCode: 'USD' } },
    { id: columnId('Due'), name: 'Due', format: { type: 'date', isArray: false } },
    { id: columnId('Tags'), name: 'Tags', format: { type: 'select', isArray: true, options: TAGS } },
    { id: columnId('Note'), name: 'Note', format: { type: 'text', isArray: false } },
  ];
  const rowAt = (index: number): FixtureRow => {
    if (!(index >= 0 && index < options.rowCount)) throw new RangeError(`${options.name} has no row ${index}`);
    const tags = TAGS.filter((_, bit) => (index >> bit) & 1);
    const created = new Date(START_MS + index * MINUTE_MS).toISOString();
    return {
      id: `i-${key}${index.toString(36).padStart(6, '0')}`,
      createdAt: created,
      updatedAt: created,
      values: {
        [columnId('Title')]: `Item ${index + 1}`,
        [columnId('Seq')]: index,
        [columnId('Owner')]: OWNERS[index % OWNERS.length] ?? '',
        [columnId('Amount')]: index % 2 ? money((index * 37) % 10_000) : money(((index * 37) % 10_000).toLocaleString('en-US', { minimumFractionDigits: 2 })),
        [columnId('Due')]: `${new Date(START_MS + index * 86_400_000).toISOString().slice(0, 10)}T00:00:00.000-08:00`,
        [columnId('Tags')]: tags.length ? tags : '',
        [columnId('Note')]: index % 7 === 0 ? '' : `Note ${index}\twith a tab, a "quote" and a \\ backslash`,
      },
    };
  };
  return {
    id: options.id,
    name: options.name,
    tableType: 'table',
    createdAt: new Date(START_MS - MINUTE_MS).toISOString(),
    updatedAt: new Date(START_MS + options.rowCount * MINUTE_MS).toISOString(),
    columns,
    rowCount: options.rowCount,
    rowAt,
  };
}
