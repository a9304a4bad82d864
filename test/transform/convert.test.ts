/**
 * Conversion tables: every Coda value type, as the rich format sends it, and what it becomes.
 */
import { describe, expect, it } from 'vitest';
import {
  stripCodeFence,
  toCheckbox,
  toCurrency,
  toDate,
  toDateTime,
  toList,
  toNumber,
  toPeople,
  toPercent,
  toPerson,
  toRowRef,
  toSelect,
  toTags,
  toText,
  type Converted,
} from '../../src/transform/convert.ts';
import { reasonText } from '../../src/report/reasons.ts';

type Case = [input: unknown, expected: unknown];

function table<T>(
  name: string,
  convert: (value: unknown) => Converted<T>,
  good: Case[],
  bad: [input: unknown, reason: RegExp][],
) {
  describe(name, () => {
    it.each(good)('%j becomes %j', (input, expected) => {
      expect(convert(input)).toEqual({ ok: true, value: expected });
    });
    if (bad.length) {
      it.each(bad)('%j is refused: %s', (input, reason) => {
        const result = convert(input);
        expect(result.ok).toBe(false);
        // Worded as every report words it, for a column the owner calls "Cell".
        if (!result.ok)
          expect(reasonText({ ...result.reason, column: { column: 'cell', label: 'Cell' } })).toMatch(reason);
      });
    }
  });
}

const person = {
  '@context': 'http://schema.org/',
  '@type': 'Person',
  name: 'Maya Okafor',
  email: 'maya@brightline.consulting',
};
const rowRef = {
  '@context': 'http://schema.org/',
  '@type': 'StructuredValue',
  additionalType: 'row',
  name: 'Website relaunch',
  url: 'https://coda.io/d/_dX#_rui-p1',
  tableId: 'grid-P',
  rowId: 'i-p1',
  tableUrl: 'https://coda.io/d/_dX#_tugrid-P',
};

table(
  'text',
  toText,
  [
    ['plain', 'plain'],
    ['```wrapped in a fence```', 'wrapped in a fence'],
    ['```\nfenced block\n```', 'fenced block'],
    ['**bold** Markdown stays', '**bold** Markdown stays'],
    ['tab\there, newline\nthere, back\\slash', 'tab\there, newline\nthere, back\\slash'],
    ['emoji 🚀 and ünïcödé', 'emoji 🚀 and ünïcödé'],
    ['', null],
    ['   ', null],
    [42, '42'],
    [['only one'], 'only one'],
    [{ '@type': 'WebPage', name: 'site', url: 'https://example.com' }, 'https://example.com'],
  ],
  [
    [['two', 'values'], /holds 2 values/],
    [person, /is a person/],
  ],
);

table(
  'number',
  toNumber,
  [
    [3, '3'],
    [2.5, '2.5'],
    ['7.25', '7.25'],
    ['1,234.5', '1234.5'],
    ['', null],
    [-4, '-4'],
  ],
  [
    ['twelve', /not a number/],
    ['1.234,5', /not a number/],
    [true, /not a number/],
  ],
);

table(
  'currency',
  (value) => toCurrency(value, { kind: 'fixed', code: 'USD' }),
  [
    [{ '@type': 'MonetaryAmount', currency: 'USD', amount: 1500 }, '1500'],
    [{ '@type': 'MonetaryAmount', currency: 'USD', amount: '1,500.00' }, '1500.00'],
    ['$2,750.50', '2750.50'],
    ['USD 900', '900'],
    [1200, '1200'],
    ['', null],
  ],
  [
    [{ '@type': 'MonetaryAmount', currency: 'EUR', amount: 10 }, /in EUR, but this column holds USD/],
    ['€10', /in EUR/],
    ['a lot', /not an amount of money/],
  ],
);

table(
  'currency recorded per cell (a code column beside it)',
  (value) => toCurrency(value, { kind: 'per-cell' }),
  [
    [{ '@type': 'MonetaryAmount', currency: 'EUR', amount: '1,250.50' }, '1250.50'],
    [{ '@type': 'MonetaryAmount', currency: 'USD', amount: 9 }, '9'],
  ],
  [],
);

table(
  'currency nothing records: never relabelled',
  (value) => toCurrency(value, { kind: 'unrecorded' }),
  [[1200, '1200']],
  [
    [
      { '@type': 'MonetaryAmount', currency: 'EUR', amount: '1,250.50' },
      /in EUR, but the mapping records no currency/,
    ],
    ['$5', /in USD, but the mapping records no currency/],
  ],
);

table(
  'percent as a fraction',
  (value) => toPercent(value, 'fraction'),
  [
    [0.25, '0.25'],
    ['25%', '0.25'],
    ['', null],
  ],
  [['high', /not a percentage/]],
);

table(
  'percent as a percentage',
  (value) => toPercent(value, 'percent'),
  [
    [0.07, '7'],
    ['12.5%', '12.5'],
  ],
  [],
);

table(
  'date',
  toDate,
  [
    ['2024-03-01T00:00:00.000-08:00', '2024-03-01'],
    ['2024-02-29', '2024-02-29'],
    ['', null],
  ],
  [
    ['2023-02-29', /does not exist/],
    ['2024-13-01T00:00:00.000-08:00', /does not exist/],
    ['March 1st', /not a date/],
  ],
);

table(
  'date and time',
  toDateTime,
  [
    ['2024-03-01T09:30:00.000-08:00', '2024-03-01T17:30:00.000Z'],
    ['2024-03-01T09:30:00Z', '2024-03-01T09:30:00.000Z'],
    ['', null],
  ],
  [
    ['2024-03-01T09:30:00', /with a time zone/],
    ['2024-02-30T09:30:00Z', /does not exist/],
  ],
);

table(
  'checkbox',
  toCheckbox,
  [
    [true, true],
    [false, false],
    ['true', true],
    ['', false],
  ],
  [['yes', /not a checkbox/]],
);

const statuses = { 'Not Started': 'planned', 'In Progress': 'active', Done: 'completed' };
table(
  'select',
  (value) => toSelect(value, statuses),
  [
    ['In Progress', 'active'],
    ['in progress ', 'active'],
    ['Done', 'completed'],
    ['', null],
  ],
  [['Paused', /"Paused" is not one of the known choices \("Not Started", "In Progress", "Done"\)/]],
);

table(
  'tags',
  (value) => toTags(value),
  [
    [
      ['consulting', 'product'],
      ['consulting', 'product'],
    ],
    ['consulting, product', ['consulting', 'product']],
    [['a', 'a', ''], ['a']],
    ['', []],
  ],
  [[[person], /is a person/]],
);

table(
  'list (steps, checklists)',
  toList,
  [
    [
      ['Kick-off', 'Workshop'],
      ['Kick-off', 'Workshop'],
    ],
    ['1. Kick-off\n2. Workshop\n- Report', ['Kick-off', 'Workshop', 'Report']],
    ['', []],
  ],
  [],
);

table(
  'person',
  toPerson,
  [
    [person, { name: 'Maya Okafor', email: 'maya@brightline.consulting' }],
    [
      { '@type': 'Person', name: 'Lena Fischer' },
      { name: 'Lena Fischer', email: null },
    ],
    [[person], { name: 'Maya Okafor', email: 'maya@brightline.consulting' }],
    ['', null],
  ],
  [
    [[person, { ...person, name: 'Other' }], /holds 2 values/],
    [rowRef, /not a person/],
  ],
);

table(
  'people (a column that keeps the first: multiple: first)',
  toPeople,
  [
    [
      [person, { '@type': 'Person', name: 'Lena Fischer' }],
      [
        { name: 'Maya Okafor', email: 'maya@brightline.consulting' },
        { name: 'Lena Fischer', email: null },
      ],
    ],
    [person, [{ name: 'Maya Okafor', email: 'maya@brightline.consulting' }]],
    [['', person], [{ name: 'Maya Okafor', email: 'maya@brightline.consulting' }]],
    ['', []],
  ],
  [[[person, rowRef], /not a person/]],
);

table(
  'row reference',
  toRowRef,
  [
    [rowRef, { tableId: 'grid-P', rowId: 'i-p1', name: 'Website relaunch' }],
    ['', null],
  ],
  [
    ['Website relaunch', /not a link to a row/],
    [[rowRef, { ...rowRef, rowId: 'i-p2' }], /holds 2 values/],
  ],
);

describe('stripCodeFence', () => {
  it('leaves text without a fence alone, and keeps inline code', () => {
    expect(stripCodeFence('use `npm ci` first')).toBe('use `npm ci` first');
  });
});
