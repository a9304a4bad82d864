/**
 * Drafts from a Coda table and a target table: the choices YAML misreads come back as the same
 * strings, choices map where the words agree, and what cannot be mapped is left for review
 * rather than made into an invalid file.
 */
import { describe, expect, it } from 'vitest';
import type { PublicApiColumn } from '../../src/extract/index.ts';
import { suggestTarget } from '../../src/draft/column-words.ts';
import { draftMapping, type DraftTable } from '../../src/draft/draft-mapping.ts';
import type { TargetColumn, TargetTable } from '../../src/draft/target-schema.ts';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';

const codaColumn = (id: string, name: string, format: Record<string, unknown>, display = false) =>
  ({ id, name, display, format: { isArray: false, ...format } }) as unknown as PublicApiColumn;

const targetColumn = (
  name: string,
  type: string,
  extra: Partial<TargetColumn> = {},
): [string, TargetColumn] => [
  name,
  {
    name,
    type,
    notNull: false,
    hasDefault: false,
    defaultExpression: null,
    generated: false,
    comment: null,
    ...extra,
  },
];

const AWKWARD = ['True', '2024', 'Null', 'yes', '~', '@home', 'a: b', '# not a comment', '🚀 Launch', "it's"];

const target: TargetTable = {
  name: 'erp.things',
  schema: 'erp',
  table: 'things',
  columns: new Map([
    targetColumn('id', 'bigint', { notNull: true, hasDefault: true, generated: true }),
    targetColumn('title', 'text', { notNull: true }),
    targetColumn('kind', 'text'),
    targetColumn('status', 'text', { notNull: true, hasDefault: true, defaultExpression: "'todo'::text" }),
    targetColumn('price', 'numeric'),
    targetColumn('currency', 'text', { notNull: true, hasDefault: true, defaultExpression: "'USD'::text" }),
    targetColumn('owner_id', 'bigint'),
  ]),
  checks: [
    {
      name: 'things_status_check',
      columns: ['status'],
      expression: "CHECK ((status = ANY (ARRAY['todo'::text, 'in_progress'::text, 'done'::text])))",
      comment: null,
    },
  ],
  references: new Map([['owner_id', 'erp.people']]),
};

const table: DraftTable = {
  id: 'grid-Th1ngs001',
  name: 'Things',
  columns: [
    codaColumn('c-kind', 'Kind', { type: 'select', options: AWKWARD.map((name) => ({ name })) }),
    codaColumn('c-name', 'Thing', { type: 'text' }, true),
    codaColumn('c-status', 'Status', {
      type: 'select',
      options: [{ name: 'To Do' }, { name: 'In Progress' }],
    }),
    codaColumn('c-price', 'Price', { type: 'currency', currencyCode: 'USD' }),
    codaColumn('c-owner', 'Owner', { type: 'person' }),
    codaColumn('c-pic', 'Picture', { type: 'image' }),
  ],
};

function draft() {
  return draftMapping({
    table,
    target,
    tables: [table],
    targetOf: () => 'erp.things',
    profiles: new Map(
      table.columns.map((column) => [
        column.id,
        {
          filled: column.id === 'c-pic' ? 2 : 1,
          several: 0,
          choices: new Map(column.id === 'c-status' ? [['Someday', 3]] : []),
        },
      ]),
    ),
    unknownPeople: 'create',
  });
}

describe('a draft mapping', () => {
  it('parses back with every awkward choice the same string it was', () => {
    const { spec } = parseMappingSpec('things.yaml', draft().text);
    expect(spec.columns.kind).toMatchObject({
      as: 'select',
      values: Object.fromEntries(AWKWARD.map((choice) => [choice, choice])),
    });
  });

  it('maps the display column to the title, and follows NOT NULL and DEFAULT', () => {
    const { spec } = parseMappingSpec('things.yaml', draft().text);
    expect(spec.columns.title).toMatchObject({ from: 'c-name', as: 'text', required: true });
    expect(spec.columns.status).toMatchObject({ default: 'todo' });
    expect(spec.people.unknown).toBe('create');
    expect(spec.columns.owner_id).toMatchObject({ from: 'c-owner', as: 'person' });
  });

  it('maps choices where the words agree and leaves the rest for review, with counts', () => {
    const result = draft();
    const { spec } = parseMappingSpec('things.yaml', result.text);
    expect(spec.columns.status).toMatchObject({ values: { 'To Do': 'todo', 'In Progress': 'in_progress' } });
    expect(result.review).toEqual(['status: "Someday" (3 rows)']);
    expect(result.text).toMatch(
      /# by name; review: "Someday" \(3 rows\) matches none of todo, in_progress, done/,
    );
  });

  it('maps the amount and, beside it, each cell’s currency', () => {
    const { spec } = parseMappingSpec('things.yaml', draft().text);
    expect(spec.columns.price).toEqual({
      from: 'c-price',
      label: 'Price',
      as: 'currency',
      part: 'amount',
      required: false,
    });
    expect(spec.columns.currency).toMatchObject({
      from: 'c-price',
      as: 'currency',
      part: 'code',
      default: 'USD',
    });
  });

  it('skips what it could not map, with the reason, instead of guessing', () => {
    const { spec } = parseMappingSpec('things.yaml', draft().text);
    expect(spec.skip).toEqual({
      'c-pic': { label: 'Picture', reason: "no column of erp.things fits a Coda 'image' column" },
    });
  });
});

describe('choices and tables by meaning', () => {
  const check = (column: string, values: string[]) => ({
    name: `jobs_${column}_check`,
    columns: [column],
    expression: `CHECK ((${column} = ANY (ARRAY[${values.map((value) => `'${value}'::text`).join(', ')}])))`,
    comment: null,
  });
  const jobs: TargetTable = {
    name: 'erp.jobs',
    schema: 'erp',
    table: 'jobs',
    columns: new Map([
      targetColumn('name', 'text', { notNull: true }),
      targetColumn('org_type', 'text'),
      targetColumn('status', 'text'),
      targetColumn('priority', 'text'),
    ]),
    checks: [
      check('org_type', ['client', 'prospect', 'partner', 'vendor']),
      check('status', ['planned', 'active', 'on_hold', 'completed', 'cancelled']),
      check('priority', ['low', 'medium', 'high', 'urgent']),
    ],
    references: new Map(),
  };
  const select = (id: string, name: string, options: string[]) =>
    codaColumn(id, name, { type: 'select', options: options.map((option) => ({ name: option })) });
  const coda: DraftTable = {
    id: 'grid-J0bs00001',
    name: 'Jobs',
    columns: [
      codaColumn('c-job', 'Job', { type: 'text' }, true),
      select('c-type', 'Type', ['Customer', 'Supplier', 'Lead', 'Partner']),
      select('c-phase', 'Phase', ['Scoping', 'Running', 'On ice', 'Closed', 'Canc.']),
      select('c-urgency', 'Urgency', ['High', 'Med', 'Low']),
    ],
  };

  it('matches synonyms, workflow words, abbreviations and a word scale, leaving nothing for review', () => {
    const result = draftMapping({
      table: coda,
      target: jobs,
      tables: [coda],
      targetOf: () => 'erp.jobs',
      profiles: new Map(),
      unknownPeople: 'create',
    });
    const { spec } = parseMappingSpec('jobs.yaml', result.text);
    expect(result.review).toEqual([]);
    expect(spec.columns.org_type).toMatchObject({
      values: { Customer: 'client', Supplier: 'vendor', Lead: 'prospect', Partner: 'partner' },
    });
    expect(spec.columns.status).toMatchObject({
      values: {
        Scoping: 'planned',
        Running: 'active',
        'On ice': 'on_hold',
        Closed: 'completed',
        'Canc.': 'cancelled',
      },
    });
    expect(spec.columns.priority).toMatchObject({ values: { High: 'high', Med: 'medium', Low: 'low' } });
  });

  it.each([
    ['Crew', 'erp.people'],
    ['Team', 'erp.people'],
    ['Clients & Partners', 'erp.organizations'],
    ['Accounts', 'erp.organizations'],
    ['Jobs', 'erp.projects'],
    ['Work items', 'erp.tasks'],
    ['Meeting notes', undefined],
  ])('drafts the Coda table "%s" into %s', (name, expected) => {
    const names = ['erp.people', 'erp.organizations', 'erp.projects', 'erp.tasks', 'erp.deliverables'];
    expect(suggestTarget(name, names)).toBe(expected);
  });
});
