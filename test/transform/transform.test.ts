/**
 * The transform of whole tables, without a database: generated tables whose columns are named
 * unlike the schema (blank, unicode, a schema column's name on another column), multi-value
 * cells, duplicate rows. Reasons are worded by src/report; these tests check which rows are
 * rejected, on which column, and which values are loaded.
 */
import { describe, expect, it } from 'vitest';
import type { CodaRow, PublicApiColumn } from '../../src/extract/index.ts';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import {
  checkMappingAgainstTable,
  transformTable,
  type Reject,
  type TableContext,
  type TargetRow,
  type TransformResult,
} from '../../src/transform/transform.ts';
import { collect } from '../support/collect.ts';
import { mappingErrorWords } from '../support/mapping-errors.ts';

const DOC = 'dT3stD0c1';
const TABLE = 'grid-Aw1kward';
const LINKED_TABLE = 'grid-L1nked';

const column = (id: string, name: string): PublicApiColumn =>
  ({
    id,
    name,
    type: 'column',
    href: '',
    format: { type: 'text', isArray: false },
  }) as unknown as PublicApiColumn;

/** Names unlike the schema: blank, whitespace, unicode, and `title` on a column that is no title. */
const columns = [
  column('c-name', 'Bezeichnung ✎'),
  column('c-title', 'title'),
  column('c-blank', ''),
  column('c-space', '   '),
  column('c-rtl', 'מחיר (₪)'),
  column('c-when', '締切 / due'),
  column('c-who', '👤'),
  column('c-labels', 'Labels, tags & co.'),
  column('c-link', 'Projekt→'),
  column('c-state', 'État'),
  column('c-done', 'Done?'),
  column('c-notes', 'Notes 📝'),
];

const MAPPING = `
coda: { table: ${TABLE}, name: "Awkward" }
target: erp.tasks
columns:
  title: { from: c-name, label: "Old name", as: text, required: true }
  description: { from: c-title, as: text }
  estimated_hours: { from: c-blank, as: number }
  actual_hours: { from: c-space, as: number, default: 0 }
  budget: { from: c-rtl, as: currency, currency: ILS }
  due_date: { from: c-when, as: date }
  assignee_id: { from: c-who, as: person }
  tags: { from: c-labels, as: tags }
  project_id: { from: c-link, as: lookup, table: ${LINKED_TABLE} }
  status: { from: c-state, as: select, default: todo, values: { "À faire": todo, "Fini": done } }
  is_done: { from: c-done, as: checkbox }
  source: { as: constant, value: coda }
skip:
  c-notes: "kept in Coda: private"
`;

const context = (mapping = MAPPING, tableColumns = columns): TableContext => ({
  mapping: parseMappingSpec('mappings/awkward.yaml', mapping),
  docId: DOC,
  table: { id: TABLE, name: 'Awkward ✓', columns: tableColumns },
});

const row = (id: string, values: Record<string, unknown>, name = `Row ${id}`): CodaRow =>
  ({
    id,
    name,
    index: 0,
    href: '',
    browserLink: `https://coda.io/d/_d${DOC}#_r${id}`,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    values,
  }) as unknown as CodaRow;

const person = (name: string, email?: string) => ({ '@type': 'Person', name, ...(email ? { email } : {}) });
const linked = (rowId: string, name: string, tableId = LINKED_TABLE) => ({
  '@type': 'StructuredValue',
  tableId,
  rowId,
  name,
});

async function* stream(rows: CodaRow[]): AsyncGenerator<CodaRow> {
  yield* rows;
}

const transform = (rows: CodaRow[], ctx = context()) => collect(transformTable(ctx, stream(rows)));

function loaded(result: TransformResult | undefined): TargetRow {
  if (!result || !('row' in result)) throw new Error(`expected a loaded row, got ${JSON.stringify(result)}`);
  return result.row;
}

function rejected(result: TransformResult | undefined): Reject {
  if (!result || !('reject' in result)) throw new Error(`expected a reject, got ${JSON.stringify(result)}`);
  return result.reject;
}

/** Which target and Coda columns a reject names, without the reasons' wording. */
const problemColumns = (reject: Reject) =>
  reject.problems.map(({ column: target, codaColumn }) => ({ target, codaColumn }));

describe('a table whose columns are named unlike the schema', () => {
  it('loads each cell by column id into the column the mapping names, whatever the Coda names are', async () => {
    const [result] = await transform([
      row('i-1', {
        'c-name': 'Fix the ﬁrst café 🚀',
        'c-title': 'not the title',
        'c-blank': '1,250.5',
        'c-space': '',
        'c-rtl': { '@type': 'MonetaryAmount', currency: 'ILS', amount: 99 },
        'c-when': '2024-02-29T00:00:00.000-08:00',
        'c-who': person('Zoë Ñúñez', 'zoe@example.com'),
        'c-labels': ['urgent', 'клиент', 'urgent', ''],
        'c-link': linked('i-p1', 'Projekt Ä'),
        'c-state': ' fini ',
        'c-done': true,
        'c-notes': 'never read',
      }),
    ]);
    const { values, references, source } = loaded(result);
    expect(values).toEqual({
      title: 'Fix the ﬁrst café 🚀',
      description: 'not the title',
      estimated_hours: '1250.5',
      actual_hours: '0',
      budget: '99',
      due_date: '2024-02-29',
      tags: ['urgent', 'клиент'],
      status: 'done',
      is_done: true,
      source: 'coda',
    });
    expect(references).toEqual([
      {
        kind: 'person',
        ref: { name: 'Zoë Ñúñez', email: 'zoe@example.com' },
        unknown: 'reject',
        column: 'assignee_id',
        label: '👤',
        required: false,
      },
      {
        kind: 'row',
        ref: { tableId: LINKED_TABLE, rowId: 'i-p1', name: 'Projekt Ä' },
        column: 'project_id',
        label: 'Projekt→',
        required: false,
      },
    ]);
    expect(source).toEqual({
      docId: DOC,
      tableId: TABLE,
      tableName: 'Awkward ✓',
      rowId: 'i-1',
      rowName: 'Row i-1',
      browserLink: `https://coda.io/d/_d${DOC}#_r${'i-1'}`,
    });
  });

  it("names a problem by the Coda column's name as the doc has it now, blank names included", async () => {
    const results = await transform([
      row('i-1', { 'c-name': 'ok', 'c-blank': 'twelve' }),
      row('i-2', { 'c-name': 'ok', 'c-space': 'n/a' }),
      row('i-3', { 'c-name': '' }),
    ]);
    expect(results.map(rejected).map(problemColumns)).toEqual([
      [{ target: 'estimated_hours', codaColumn: '' }],
      [{ target: 'actual_hours', codaColumn: '   ' }],
      // Renamed in Coda since the mapping was written: the doc's name, not the mapping's label.
      [{ target: 'title', codaColumn: 'Bezeichnung ✎' }],
    ]);
  });
});

describe('a rejected row', () => {
  it('lists every column that failed, keeps the cells that converted and the names its links give', async () => {
    const bad = {
      'c-name': 'Row with three problems',
      'c-blank': 'about ten',
      'c-when': '2023-02-30',
      'c-who': [person('Ana'), person('Wei')],
      'c-labels': 'a, b',
      'c-link': linked('i-p9', 'Nine'),
      'c-state': 'Unknown choice',
      'c-done': 'yes',
    };
    const [result] = await transform([row('i-1', bad)]);
    const reject = rejected(result);
    expect(problemColumns(reject)).toEqual([
      { target: 'estimated_hours', codaColumn: '' },
      { target: 'due_date', codaColumn: '締切 / due' },
      { target: 'assignee_id', codaColumn: '👤' },
      { target: 'status', codaColumn: 'État' },
      { target: 'is_done', codaColumn: 'Done?' },
    ]);
    // The cell as Coda sent it, for the report to show.
    expect(reject.problems.map((problem) => problem.value)).toEqual([
      bad['c-blank'],
      bad['c-when'],
      bad['c-who'],
      bad['c-state'],
      bad['c-done'],
    ]);
    expect(reject.values).toMatchObject({
      title: 'Row with three problems',
      tags: ['a', 'b'],
      source: 'coda',
    });
    expect(reject.values).not.toHaveProperty('due_date');
    expect(reject.links).toEqual({ project_id: 'Nine' });
    for (const problem of reject.problems) expect(problem.reason).not.toBe('');
  });

  it('is rejected for an empty required cell, while an empty optional one takes its default or nothing', async () => {
    const results = await transform([
      row('i-1', { 'c-name': '   ' }),
      row('i-2', { 'c-name': '```\n```' }),
      row('i-3', { 'c-name': 'ok' }),
    ]);
    expect(problemColumns(rejected(results[0]))).toEqual([{ target: 'title', codaColumn: 'Bezeichnung ✎' }]);
    expect(problemColumns(rejected(results[1]))).toEqual([{ target: 'title', codaColumn: 'Bezeichnung ✎' }]);
    expect(loaded(results[2]).values).toEqual({
      title: 'ok',
      description: null,
      estimated_hours: null,
      actual_hours: '0',
      budget: null,
      due_date: null,
      // An empty link or person cell loads no link.
      assignee_id: null,
      tags: [],
      project_id: null,
      status: 'todo',
      is_done: false,
      source: 'coda',
    });
    expect(loaded(results[2]).references).toEqual([]);
  });

  it('is rejected for a NUL character hidden anywhere in a cell, which Postgres cannot store', async () => {
    const results = await transform([
      row('i-1', { 'c-name': 'a\u0000b' }),
      row('i-2', { 'c-name': 'ok', 'c-labels': ['fine', 'bad\u0000'] }),
      row('i-3', { 'c-name': 'ok', 'c-who': person('Nul\u0000l') }),
    ]);
    expect(results.map(rejected).map(problemColumns)).toEqual([
      [{ target: 'title', codaColumn: 'Bezeichnung ✎' }],
      [{ target: 'tags', codaColumn: 'Labels, tags & co.' }],
      [{ target: 'assignee_id', codaColumn: '👤' }],
    ]);
  });

  it('is rejected for a link to a row of a table other than the one the mapping expects', async () => {
    const [result] = await transform([
      row('i-1', { 'c-name': 'ok', 'c-link': linked('i-x', 'Elsewhere', 'grid-0ther') }),
    ]);
    expect(problemColumns(rejected(result))).toEqual([{ target: 'project_id', codaColumn: 'Projekt→' }]);
  });
});

describe('multi-value cells', () => {
  const keepFirst = MAPPING.replace(
    'assignee_id: { from: c-who, as: person }',
    'assignee_id: { from: c-who, as: person, multiple: first, unknown: create }',
  );

  it('reject a row naming several people or rows for a column that keeps one', async () => {
    const results = await transform([
      row('i-1', { 'c-name': 'ok', 'c-who': [person('Ana'), person('Wei')] }),
      row('i-2', { 'c-name': 'ok', 'c-link': [linked('i-a', 'A'), linked('i-b', 'B')] }),
      row('i-3', { 'c-name': ['one', 'two'] }),
    ]);
    expect(results.map(rejected).map(problemColumns)).toEqual([
      [{ target: 'assignee_id', codaColumn: '👤' }],
      [{ target: 'project_id', codaColumn: 'Projekt→' }],
      [{ target: 'title', codaColumn: 'Bezeichnung ✎' }],
    ]);
  });

  it('load one value where blanks around it leave only one', async () => {
    const [result] = await transform([
      row('i-1', {
        'c-name': ['', 'only', ''],
        'c-who': ['', person('Ana')],
        'c-link': [linked('i-a', 'A')],
      }),
    ]);
    const { values, references } = loaded(result);
    expect(values.title).toBe('only');
    expect(references.map((reference) => [reference.column, reference.ref.name])).toEqual([
      ['assignee_id', 'Ana'],
      ['project_id', 'A'],
    ]);
  });

  it('load the first person and note the others when the mapping says multiple: first', async () => {
    const cell = [person('Ana', 'ana@example.com'), person('Wei'), person('Łukasz')];
    const [result] = await transform([row('i-1', { 'c-name': 'ok', 'c-who': cell })], context(keepFirst));
    const { references, notes } = loaded(result);
    expect(references).toEqual([
      expect.objectContaining({
        kind: 'person',
        ref: { name: 'Ana', email: 'ana@example.com' },
        unknown: 'create',
      }),
    ]);
    expect(references[0]).not.toHaveProperty('leftOut');
    expect(notes).toEqual([
      {
        code: 'people_left_out',
        column: expect.objectContaining({ column: 'assignee_id' }),
        kept: { name: 'Ana', email: 'ana@example.com' },
        leftOut: [expect.objectContaining({ name: 'Wei' }), expect.objectContaining({ name: 'Łukasz' })],
      },
    ]);
  });

  it('load tags and lists as lists, duplicates dropped, in Coda order', async () => {
    const [result] = await transform([row('i-1', { 'c-name': 'ok', 'c-labels': ['β', 'α', 'β', ['γ']] })]);
    expect(loaded(result).values.tags).toEqual(['β', 'α', 'γ']);
  });
});

describe('duplicates and order', () => {
  it('loads the first copy of a row id and rejects the later ones, every row coming out once, in order', async () => {
    const results = await transform([
      row('i-1', { 'c-name': 'first' }),
      row('i-2', { 'c-name': 'other' }),
      row('i-1', { 'c-name': 'second copy' }),
      row('i-1', { 'c-name': 'third copy' }),
    ]);
    expect(results.map((result) => ('row' in result ? 'row' : 'reject'))).toEqual([
      'row',
      'row',
      'reject',
      'reject',
    ]);
    expect(loaded(results[0]).values.title).toBe('first');
    const copies = results.slice(2).map(rejected);
    expect(copies.map((reject) => reject.source.rowId)).toEqual(['i-1', 'i-1']);
    expect(copies.map((reject) => reject.problems.map((problem) => problem.value))).toEqual([
      ['i-1'],
      ['i-1'],
    ]);
  });

  it('loads two rows with the same display name as two rows', async () => {
    const results = await transform([
      row('i-1', { 'c-name': 'same' }, 'Same name'),
      row('i-2', { 'c-name': 'same' }, 'Same name'),
    ]);
    expect(results.map((result) => loaded(result).source.rowId)).toEqual(['i-1', 'i-2']);
    expect(loaded(results[0]).contentHash).toBe(loaded(results[1]).contentHash);
  });
});

describe('the content hash', () => {
  const base = { 'c-name': 'ok', 'c-who': person('Ana'), 'c-link': linked('i-a', 'A'), 'c-notes': 'x' };
  const hashOf = async (values: Record<string, unknown>, name?: string) =>
    loaded((await transform([row('i-1', values, name)]))[0]).contentHash;

  it('changes with a loaded value or a reference, and not with what is not loaded', async () => {
    const original = await hashOf(base);
    expect(await hashOf({ ...base, 'c-name': 'changed' })).not.toBe(original);
    expect(await hashOf({ ...base, 'c-who': person('Wei') })).not.toBe(original);
    expect(await hashOf({ ...base, 'c-link': linked('i-b', 'A') })).not.toBe(original);
    // A skipped column, a cell no mapping reads and the row's display name are not loaded.
    expect(await hashOf({ ...base, 'c-notes': 'y', 'c-unmapped': 1 }, 'Renamed row')).toBe(original);
    // Cells that convert to the same value load the same thing.
    expect(await hashOf({ ...base, 'c-name': '```ok```' })).toBe(original);
  });
});

describe('a mapping that does not match the table', () => {
  it('refuses before any row is read, naming the file', async () => {
    const reads: string[] = [];
    async function* rows(): AsyncGenerator<CodaRow> {
      reads.push('read');
      yield* stream([row('i-1', { 'c-name': 'ok' })]);
    }
    const ctx = context(
      MAPPING,
      columns.filter((candidate) => candidate.id !== 'c-when'),
    );
    expect(await mappingErrorWords(() => checkMappingAgainstTable(ctx))).toMatch(
      /^mappings\/awkward\.yaml does not match the Coda doc:\n {2}columns\.\w+\.from: Coda table .* has no column c-when/,
    );
    await expect(collect(transformTable(ctx, rows()))).rejects.toThrow(/mappings\/awkward\.yaml/);
    expect(reads).toEqual([]);
  });

  it('accepts a table with columns the mapping neither reads nor skips', () => {
    const ctx = context(MAPPING, [...columns, column('c-new', 'Neu ✓')]);
    expect(() => checkMappingAgainstTable(ctx)).not.toThrow();
  });
});

describe('generated tables', () => {
  /** A small deterministic generator (mulberry32): the same seed, the same table. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }
  const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

  /** Per column: cells that load, and cells that do not. */
  const cells: Record<string, { good: unknown[]; bad: unknown[] }> = {
    'c-name': {
      good: ['ok', 'Ünïcödé 名前', '```fenced```', 42],
      bad: ['', ['a', 'b'], { '@type': 'Thing' }],
    },
    'c-blank': { good: ['', 3, '1,000', '-0.5', '1e3'], bad: ['3,5', 'ten', Number.NaN] },
    'c-when': { good: ['', '2024-03-01', '2024-03-01T09:00:00.000-08:00'], bad: ['2024-13-01', 'tomorrow'] },
    'c-who': { good: ['', person('Ana'), 'Wei', [person('Ana')]], bad: [[person('A'), person('B')], 7] },
    'c-labels': { good: ['', 'a, b', ['x', 'y'], []], bad: [[{ '@type': 'ImageObject' }]] },
    'c-state': { good: ['', 'À faire', 'fini'], bad: ['Later'] },
    'c-done': { good: ['', true, false, 'TRUE'], bad: ['yes', 1] },
  };

  const mapped = Object.entries(context().mapping.spec.columns);
  const targetOf = (columnId: string) =>
    mapped.find(([, spec]) => spec.as !== 'constant' && spec.from === columnId)![0];

  it.each([1, 2, 3, 4, 5])(
    'seed %i: every row comes out once, rejected exactly when one of its cells cannot load',
    async (seed) => {
      const next = random(seed);
      const expectedBad = new Map<string, string[]>();
      const rows = Array.from({ length: 200 }, (_, index) => {
        const id = `i-${seed}-${index}`;
        const values: Record<string, unknown> = {};
        const bad: string[] = [];
        for (const [columnId, { good, bad: wrong }] of Object.entries(cells)) {
          const broken = next() < 0.08;
          values[columnId] = pick(next, broken ? wrong : good);
          if (broken) bad.push(columnId);
        }
        expectedBad.set(id, bad);
        return row(id, values, pick(next, ['', 'Row', 'Ряд', '行']));
      });
      const results = await transform(rows);

      expect(results.map((result) => ('row' in result ? result.row : result.reject).source.rowId)).toEqual(
        rows.map((item) => item.id),
      );
      for (const result of results) {
        const id = ('row' in result ? result.row : result.reject).source.rowId;
        const wanted = expectedBad.get(id)!.map(targetOf);
        if ('row' in result) expect(wanted, id).toEqual([]);
        else
          expect(
            result.reject.problems.map((problem) => problem.column),
            id,
          ).toEqual(wanted);
      }
      expect(results.some((result) => 'row' in result)).toBe(true);
      expect(results.some((result) => 'reject' in result)).toBe(true);
    },
  );
});
