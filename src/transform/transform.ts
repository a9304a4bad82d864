/**
 * The transform stage: Coda rows in, target rows or rejects out, nothing else. Pure: no I/O, no
 * database. Every row read comes out exactly once, as a TargetRow or as a Reject.
 *
 * References (linked rows, people) are carried out unresolved: only the load stage can see which
 * erp ids they become.
 */
import { hash } from 'node:crypto';
import type { CodaRow, SnapshotTable } from '../extract/index.ts';
import {
  containsNul,
  toAmount,
  toCheckbox,
  toCurrency,
  toCurrencyCode,
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
  type CurrencyHeld,
  type PgValue,
  type RowRef,
} from './convert.ts';
import { codaColumnLabel } from './column-labels.ts';
import type { CellFailure, ColumnRef, PeopleLeftOut, PersonRef, TransformReason } from './reasons.ts';
import { MappingError, type DocProblem } from './mapping-problems.ts';
import type { CodaColumnSpec, ColumnSpec, LoadedMapping } from './mapping-spec.ts';

/** Where a row came from, carried into staging, lineage, rejects and reports. */
export interface SourceRow {
  docId: string;
  tableId: string;
  tableName: string;
  rowId: string;
  /** The row's display value in Coda. */
  rowName: string;
  browserLink: string;
}

/** What a reference cell points at. */
export type ReferenceTarget =
  | { kind: 'row'; ref: RowRef }
  | {
      kind: 'person';
      ref: PersonRef;
      unknown: 'create' | 'reject';
      /** The people after the first in a cell whose column keeps one (multiple: first): not loaded. */
      leftOut?: PersonRef[];
    };

export type Reference = ReferenceTarget & {
  /** Target column, and the Coda column's name for messages. */
  column: string;
  label: string;
  required: boolean;
};

export interface TargetRow {
  source: SourceRow;
  /** Converted values by target column, references excluded. */
  values: Record<string, PgValue>;
  /** Target column -> the row or person it must point at; absent when the cell was empty. */
  references: Reference[];
  /** Of values and references: changes when the Coda content that we load changes. */
  contentHash: string;
  /** Cells loaded in part, as the mapping allows (multiple: first), each saying what was left out. */
  notes: PeopleLeftOut[];
}

/**
 * One reason a row is not loaded. `R`: the reasons its producer gives, the transform's by default;
 * the load rejects rows for reasons of its own too (src/load/core/reasons.ts).
 */
export interface Problem<R = TransformReason> {
  /** Target column, and the Coda column it reads, as a person sees them. */
  column: string;
  codaColumn: string;
  value: unknown;
  reason: R;
}

export interface Reject<R = TransformReason> {
  source: SourceRow;
  problems: Problem<R>[];
  /**
   * The cells that did convert, by target column, and the names of the rows or people its links
   * name: a rejected row's share of Coda's totals is taken from these.
   */
  values?: Record<string, PgValue>;
  links?: Record<string, string>;
}

export type TransformResult = { row: TargetRow } | { reject: Reject };

/** What the transform of one table needs to know besides the rows. */
export interface TableContext {
  mapping: LoadedMapping;
  docId: string;
  table: Pick<SnapshotTable, 'id' | 'name' | 'columns'>;
}

/** Every problem of a mapping against the table Coda actually sent: each mapped or skipped column must exist. */
function problemsAgainstTable({ mapping, table }: TableContext): DocProblem[] {
  const { file, spec } = mapping;
  if (spec.coda.table !== table.id)
    return [
      { code: 'other_coda_table', file, field: 'coda.table', mapped: spec.coda.table, checked: table.id },
    ];
  const byId = new Map(table.columns.map((column) => [column.id, column]));
  const named = { id: table.id, name: table.name };
  const columns = table.columns.map(({ id, name }) => ({ id, name }));
  const problems: DocProblem[] = [];
  for (const [target, column] of Object.entries(spec.columns)) {
    if (column.as === 'constant' || byId.has(column.from)) continue;
    problems.push({
      code: 'no_such_coda_column',
      file,
      field: `columns.${target}.from`,
      table: named,
      column: column.from,
      label: column.label ?? null,
      columns,
    });
  }
  // A skip naming a column the doc no longer has says something untrue about the doc.
  for (const [id, skipped] of Object.entries(spec.skip)) {
    if (byId.has(id)) continue;
    problems.push({
      code: 'skipped_column_gone',
      file,
      field: `skip.${id}`,
      table: named,
      column: id,
      label: skipped.label ?? null,
      columns,
    });
  }
  return problems;
}

/** Checks a mapping against the table Coda actually sent, before a row is transformed. */
export function checkMappingAgainstTable(context: TableContext): void {
  const problems = problemsAgainstTable(context);
  if (problems.length) throw new MappingError(problems);
}

/**
 * Every mapping against the doc's tables and their columns, before a row is read: a table or a
 * column the doc lacks, with the doc's tables and columns to answer it with the closest names.
 */
export function mappingProblemsAgainstDoc(
  mappings: readonly LoadedMapping[],
  doc: { id: string },
  tables: readonly TableContext['table'][],
): DocProblem[] {
  return mappings.flatMap((mapping): DocProblem[] => {
    const { file, spec } = mapping;
    const table = tables.find((candidate) => candidate.id === spec.coda.table);
    if (table) return problemsAgainstTable({ mapping, docId: doc.id, table });
    return [
      {
        code: 'no_such_coda_table',
        file,
        field: 'coda.table',
        docId: doc.id,
        table: { id: spec.coda.table, name: spec.coda.name },
        tables: tables.map(({ id, name }) => ({ id, name })),
      },
    ];
  });
}

type ConvertedCell = { ok: true; value: PgValue | ReferenceTarget } | { ok: false; reason: CellFailure };

function convertCell(
  spec: CodaColumnSpec,
  cell: unknown,
  defaultPersonPolicy: 'create' | 'reject',
  currencyHeld: CurrencyHeld,
): ConvertedCell {
  switch (spec.as) {
    case 'text':
      return toText(cell);
    case 'number':
      return toNumber(cell);
    case 'currency':
      return spec.part === 'code' ? toCurrencyCode(cell) : toCurrency(cell, currencyHeld);
    case 'percent':
      return toPercent(cell, spec.scale);
    case 'date':
      return toDate(cell);
    case 'datetime':
      return toDateTime(cell);
    case 'checkbox':
      return toCheckbox(cell);
    case 'select':
      return toSelect(cell, spec.values);
    case 'tags':
      return toTags(cell, spec.values);
    case 'list':
      return toList(cell);
    case 'person': {
      const unknown = spec.unknown ?? defaultPersonPolicy;
      if (spec.multiple === 'first') {
        const people = toPeople(cell);
        if (!people.ok) return people;
        const [first, ...leftOut] = people.value;
        return { ok: true, value: first ? { kind: 'person', ref: first, unknown, leftOut } : null };
      }
      const person = toPerson(cell);
      if (!person.ok)
        return person.reason.code === 'several_values'
          ? { ok: false, reason: { code: 'several_people', count: person.reason.count } }
          : person;
      return { ok: true, value: person.value ? { kind: 'person', ref: person.value, unknown } : null };
    }
    case 'lookup': {
      const row = toRowRef(cell);
      if (!row.ok || !row.value) return row.ok ? { ok: true, value: null } : row;
      if (row.value.tableId !== spec.table) {
        return {
          ok: false,
          reason: { code: 'wrong_table', tableId: row.value.tableId, expectedTableId: spec.table },
        };
      }
      return { ok: true, value: { kind: 'row', ref: row.value } };
    }
  }
}

/**
 * The number a Coda cell shows, read by the code that reads it for the load, whatever the load
 * then does with it: an amount in a currency the column does not hold is still that amount, a
 * negative number a rule refuses is still that number. Text such as `3,5` is no number here
 * either: it fails, as it fails the load.
 */
export function numberInCell(column: ColumnSpec, cell: unknown): Converted<string | null> {
  switch (column.as) {
    case 'number':
      return toNumber(cell);
    case 'currency':
      return toAmount(cell);
    case 'percent':
      return toPercent(cell, column.scale);
    default:
      return { ok: false, reason: { code: 'not_a_number_column' } };
  }
}

function isReference(value: PgValue | ReferenceTarget): value is ReferenceTarget {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'kind' in value;
}

/** Keys are in the mapping's column order for every row of a table, so the JSON is canonical as it is. */
function hashContent(values: Record<string, PgValue>, references: Reference[]): string {
  const canonical = JSON.stringify([
    values,
    references.map((reference) => [reference.column, reference.ref]),
  ]);
  return hash('sha256', canonical, 'hex');
}

function emptyResult(column: ColumnSpec): PgValue {
  if (column.as === 'constant') return column.value === undefined ? null : String(column.value);
  if (column.default !== undefined) return String(column.default);
  return column.as === 'tags' || column.as === 'list' ? [] : null;
}

/** An amount's currency is recorded by the mapping, or by a code column reading the same cells. */
function currencyHeld(column: ColumnSpec, columns: ColumnSpec[]): CurrencyHeld {
  if (column.as !== 'currency') return { kind: 'unrecorded' };
  if (column.currency) return { kind: 'fixed', code: column.currency };
  const codeBeside = columns.some(
    (other) => other.as === 'currency' && other.part === 'code' && other.from === column.from,
  );
  return codeBeside ? { kind: 'per-cell' } : { kind: 'unrecorded' };
}

/** Where a row came from, as every loaded row and every reject names it. */
function sourceOf(context: TableContext, row: CodaRow): SourceRow {
  return {
    docId: context.docId,
    tableId: context.table.id,
    tableName: context.table.name,
    rowId: row.id,
    rowName: row.name,
    browserLink: row.browserLink,
  };
}

/**
 * The transform of one table's rows, prepared once per table: which cells to read, and the name
 * each Coda column goes by in a reason.
 */
function rowTransformer(context: TableContext): (row: CodaRow) => TransformResult {
  const { spec } = context.mapping;
  const targets = Object.entries(spec.columns).map(([target, column]) => ({
    target,
    column,
    ref: {
      column: target,
      label: codaColumnLabel(context.mapping, target, context.table.columns),
    } satisfies ColumnRef,
    currency: currencyHeld(column, Object.values(spec.columns)),
  }));

  return (row) => {
    const source = sourceOf(context, row);
    const values: Record<string, PgValue> = {};
    const references: Reference[] = [];
    const problems: Problem[] = [];
    const notes: PeopleLeftOut[] = [];

    for (const { target, column, ref, currency } of targets) {
      const { label } = ref;
      if (column.as === 'constant') {
        values[target] = emptyResult(column);
        continue;
      }
      const cell = row.values[column.from];
      const converted: ConvertedCell = containsNul(cell)
        ? { ok: false, reason: { code: 'contains_nul' } }
        : convertCell(column, cell ?? '', spec.people.unknown, currency);
      if (!converted.ok) {
        problems.push({
          column: target,
          codaColumn: label,
          value: cell,
          reason: { ...converted.reason, column: ref },
        });
        continue;
      }
      const value = converted.value;
      if (isReference(value)) {
        if (value.kind === 'person' && value.leftOut?.length)
          notes.push({ code: 'people_left_out', column: ref, kept: value.ref, leftOut: value.leftOut });
        // Spelled out: spreading two shapes of target is V8's slow generic copy, a fifth of the transform.
        references.push(
          value.kind === 'row'
            ? { kind: 'row', ref: value.ref, column: target, label, required: column.required }
            : {
                kind: 'person',
                ref: value.ref,
                unknown: value.unknown,
                column: target,
                label,
                required: column.required,
              },
        );
        continue;
      }
      const empty = value === null || (Array.isArray(value) && value.length === 0);
      if (empty && column.required && column.default === undefined) {
        problems.push({
          column: target,
          codaColumn: label,
          value: cell ?? '',
          reason: { code: 'required_empty', column: ref },
        });
        continue;
      }
      values[target] = empty ? emptyResult(column) : value;
    }

    if (problems.length) {
      const links = Object.fromEntries(references.map((reference) => [reference.column, reference.ref.name]));
      return { reject: { source, problems, values, links } };
    }
    return { row: { source, values, references, contentHash: hashContent(values, references), notes } };
  };
}

/**
 * A whole table, streamed. A row id seen twice is a reject the second time: loading it twice
 * would make one Coda row two erp rows, or overwrite one with the other.
 */
export async function* transformTable(
  context: TableContext,
  rows: AsyncIterable<CodaRow>,
): AsyncGenerator<TransformResult> {
  checkMappingAgainstTable(context);
  const transformRow = rowTransformer(context);
  const seen = new Set<string>();
  for await (const row of rows) {
    if (seen.has(row.id)) {
      yield {
        reject: {
          source: sourceOf(context, row),
          problems: [
            {
              column: '(row)',
              codaColumn: '(row id)',
              value: row.id,
              reason: { code: 'duplicate_row' },
            },
          ],
        },
      };
      continue;
    }
    seen.add(row.id);
    yield transformRow(row);
  }
}
