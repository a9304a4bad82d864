/**
 * Business totals, Coda's own against Postgres's, bridged the way an accountant walks them (see
 * reconcile.ts). Which totals there are is data (totals.json), not the loader's.
 */
import pg from 'pg';
import { z } from 'zod';
import { quoteQualified } from '../../db/identifiers.ts';
import { compareCodeUnits } from '../../shared/compare.ts';
import { addDecimals, subtractDecimals } from '../../shared/decimal.ts';
import { textDefault } from '../../catalog/target-tables.ts';
import { numberInCell } from '../../transform/transform.ts';
import type { RunReject } from '../core/reasons.ts';
import { codaColumnLabel } from '../../transform/column-labels.ts';
import type { TableLoad } from '../core/load-plan.ts';
import { rowNameSql } from '../core/row-names.ts';
import { stageName } from '../core/temp-tables.ts';
import businessTotals from './totals.json' with { type: 'json' };
import type { BridgeFigure, BusinessTotal, RejectedShare, TextCell, UnconvertedShare } from './types.ts';

const { escapeIdentifier: q } = pg;

/**
 * A total, as totals.json describes it. `sum` adds a column up (a count of rows without it);
 * `groupBy` splits the figure, so that amounts in different currencies are never added together.
 */
const measure = z
  .object({
    /** {table}, {sum} and {groupBy} are replaced by the owner's names for them. */
    label: z.string().min(1),
    table: z.string().regex(/^\w+\.\w+$/),
    sum: z.string().min(1).optional(),
    groupBy: z.string().min(1).optional(),
    /** For a link: the groups are the linked rows by their names (core/row-names.ts), not their ids. */
    groupName: z.literal(true).optional(),
    /** Only the largest groups (by Coda's figure) are shown, and any group that does not agree. */
    largest: z.number().int().positive().optional(),
    /**
     * When the mapping does not fill `groupBy`, every Coda row falls in one group: the sum column's
     * own code (`currency: EUR` on an amount) or else the target column's default.
     */
    groupWhenUnmapped: z.literal(true).optional(),
  })
  .strict();
type Measure = z.infer<typeof measure>;

/** The business's totals are data, not the loader's: a table or a figure is added in totals.json. */
const MEASURES: readonly Measure[] = z.array(measure).parse(businessTotals.totals);

/** A total's label with the Coda table's name and the Coda names of the columns it reads, as the doc has them now. */
function ownersLabel(measure: Measure, load: TableLoad, codaTable: CodaTableNames): string {
  return measure.label.replace(/\{(table|sum|groupBy)\}/g, (_, field: 'table' | 'sum' | 'groupBy') =>
    field === 'table'
      ? codaTable.name
      : codaColumnLabel(load.mapping, measure[field] ?? '', codaTable.columns),
  );
}

/** The Coda table a total reads, by the names the doc gives it and its columns. */
type CodaTableNames = { name: string; columns: readonly { id: string; name: string }[] };

/** The key of the group of rows whose group cell is empty (of the one group when a total is not split). */
const EMPTY_GROUP = '';

export function measuresOf(load: TableLoad): Measure[] {
  const mapped = (column: string | undefined) => column === undefined || load.columns.includes(column);
  return MEASURES.filter(
    (measure) =>
      measure.table === load.target.name &&
      mapped(measure.sum) &&
      (mapped(measure.groupBy) || (measure.groupWhenUnmapped && unmappedGroup(load, measure) !== null)),
  );
}

/** The one group of every Coda row when the mapping does not fill the measure's group column. */
function unmappedGroup(load: TableLoad, measure: Measure): string | null {
  if (!measure.groupBy || load.columns.includes(measure.groupBy)) return null;
  const sum = measure.sum ? load.mapping.spec.columns[measure.sum] : undefined;
  const own = sum?.as === 'currency' ? sum.currency : undefined;
  const column = load.target.columns.get(measure.groupBy);
  return own ?? (column ? textDefault(column) : null);
}

/** Group key -> figure. */
type Figures = Map<string, BridgeFigure>;

const NO_FIGURE: BridgeFigure = { amount: '0', rows: 0 };

function addTo(figures: Figures, key: string, { amount, rows }: BridgeFigure): void {
  const sum = figures.get(key) ?? NO_FIGURE;
  figures.set(key, { amount: addDecimals(sum.amount, amount), rows: sum.rows + rows });
}

/** A select's codes in Coda's words: the mapping's value map read backwards. */
function codaLabels(load: TableLoad, column: string): Map<string, string> {
  const spec = load.mapping.spec.columns[column];
  const labels = new Map<string, string[]>();
  if (spec?.as === 'select')
    for (const [label, code] of Object.entries(spec.values))
      labels.set(code, [...(labels.get(code) ?? []), label]);
  return new Map([...labels].map(([code, names]) => [code, names.join(' / ')]));
}

/** One measure over one relation (the target, a copy of it, or the stage), by group in Coda's words. */
async function takeMeasure(
  client: pg.ClientBase,
  load: TableLoad,
  measure: Measure,
  relation: string,
  { where = 'true', codaSide = false } = {},
): Promise<Figures> {
  const linked =
    measure.groupName && measure.groupBy ? load.target.references.get(measure.groupBy) : undefined;
  const fixedGroup = codaSide ? unmappedGroup(load, measure) : null;
  const key = !measure.groupBy
    ? `''`
    : fixedGroup !== null
      ? pg.escapeLiteral(fixedGroup)
      : linked
        ? `coalesce(g.name, '')`
        : `coalesce(r.${q(measure.groupBy)}::text, '')`;
  // The linked table's rows are named once each, before they are joined to the rows they group.
  const join =
    linked && measure.groupBy
      ? `LEFT JOIN (SELECT n.id, ${rowNameSql('to_jsonb(n)')} AS name FROM ${quoteQualified(linked)} n) g ON g.id = r.${q(measure.groupBy)}`
      : '';
  // The rows behind a sum are those with a number in the column.
  const [value, counted] = measure.sum
    ? [`coalesce(sum(r.${q(measure.sum)}), 0)::text`, `count(r.${q(measure.sum)})::int`]
    : ['count(*)::text', 'count(*)::int'];
  const { rows } = await client.query<{ key: string; value: string; rows: number }>(
    `SELECT ${key} AS key, ${value} AS value, ${counted} AS rows FROM ${relation} r ${join} WHERE ${where} GROUP BY 1`,
  );
  const labels = measure.groupBy ? codaLabels(load, measure.groupBy) : new Map<string, string>();
  const figures: Figures = new Map();
  for (const row of rows)
    addTo(figures, labels.get(row.key) ?? row.key, {
      amount: row.value,
      rows: row.rows,
    });
  return figures;
}

function listIn<T>(lists: Map<string, T[]>, key: string): T[] {
  const list = lists.get(key) ?? [];
  lists.set(key, list);
  return list;
}

function cellOf(reject: RunReject, column: string) {
  const problem = reject.problems.find((candidate) => candidate.column === column);
  return problem
    ? { converted: false as const, raw: problem.value }
    : { converted: true as const, value: reject.values?.[column] ?? null };
}

/**
 * What a rejected row adds to Coda's side of a sum: the number its cell converted to (even when
 * a rule then refused it), or the number the load's own reading finds in a cell it could not
 * take; text in the cell is no number. Nothing when the cell is empty.
 */
function rejectedNumber(
  load: TableLoad,
  column: string,
  reject: RunReject,
):
  | { kind: 'converted'; share: string }
  | { kind: 'notConverted'; share: string; value: unknown }
  | { kind: 'text'; value: unknown }
  | null {
  const converted = reject.values?.[column];
  if (typeof converted === 'string') return { kind: 'converted', share: converted };
  const cell = cellOf(reject, column);
  const spec = load.mapping.spec.columns[column];
  if (cell.converted || !spec) return null;
  const number = numberInCell(spec, cell.raw);
  if (!number.ok) return { kind: 'text', value: cell.raw };
  return number.value === null ? null : { kind: 'notConverted', share: number.value, value: cell.raw };
}

/** A rejected row's group: the link's name, the select's Coda label, or the raw Coda value when it did not convert. */
function rejectGroup(measure: Measure, labels: Map<string, string>, reject: RunReject): string {
  if (!measure.groupBy) return '';
  if (measure.groupName) return reject.links?.[measure.groupBy] || EMPTY_GROUP;
  const cell = cellOf(reject, measure.groupBy);
  const text = cell.converted ? cell.value : cell.raw;
  if (text === null || text === undefined || text === '') return EMPTY_GROUP;
  const shown = typeof text === 'string' ? text : JSON.stringify(text);
  return cell.converted ? (labels.get(shown) ?? shown) : shown;
}

/**
 * One measure of one table, bridged: Coda's figure (loaded rows from the stage, rejected rows
 * from their rejects), Postgres's (from the copy taken before the pass), the share of Postgres
 * rows the pass did not load, and the remainder.
 */
export async function bridgeMeasure(
  client: pg.ClientBase,
  load: TableLoad,
  measure: Measure,
  codaTable: CodaTableNames,
  before: string,
  rejects: RunReject[],
): Promise<BusinessTotal[]> {
  const stage = `pg_temp.${q(stageName(load))}`;
  const loaded = await takeMeasure(client, load, measure, stage, { codaSide: true });
  const postgres = await takeMeasure(client, load, measure, before);
  const extra = await takeMeasure(client, load, measure, before, {
    where: `NOT EXISTS (SELECT FROM ${stage} s WHERE s._target_id = r.id)`,
  });
  const rejected = new Map<string, RejectedShare[]>();
  const notConverted = new Map<string, UnconvertedShare[]>();
  const textCells = new Map<string, TextCell[]>();
  const labels = measure.groupBy ? codaLabels(load, measure.groupBy) : new Map<string, string>();
  for (const reject of rejects) {
    const group = unmappedGroup(load, measure) ?? rejectGroup(measure, labels, reject);
    const row = {
      rowId: reject.source.rowId,
      rowName: reject.source.rowName,
      browserLink: reject.source.browserLink,
    };
    const reasons = reject.problems.map((problem) => problem.reason);
    const number = measure.sum
      ? rejectedNumber(load, measure.sum, reject)
      : { kind: 'converted' as const, share: '1' };
    if (number?.kind === 'converted') listIn(rejected, group).push({ ...row, share: number.share, reasons });
    else if (number?.kind === 'notConverted')
      listIn(notConverted, group).push({ ...row, value: number.value, share: number.share, reasons });
    else if (number?.kind === 'text') listIn(textCells, group).push({ ...row, value: number.value, reasons });
  }
  const groups = new Set([
    ...loaded.keys(),
    ...postgres.keys(),
    ...rejected.keys(),
    ...notConverted.keys(),
    ...textCells.keys(),
  ]);
  if (!groups.size) groups.add(EMPTY_GROUP);
  const figureOf = (shares: { share: string }[]): BridgeFigure => ({
    amount: shares.map((item) => item.share).reduce(addDecimals, '0'),
    rows: shares.length,
  });
  const totals = [...groups].map((group): BusinessTotal => {
    const rejectedHere = { ...figureOf(rejected.get(group) ?? []), shares: rejected.get(group) ?? [] };
    const unconvertedHere = {
      ...figureOf(notConverted.get(group) ?? []),
      shares: notConverted.get(group) ?? [],
    };
    const loadedHere = loaded.get(group) ?? NO_FIGURE;
    const extraHere = extra.get(group) ?? NO_FIGURE;
    const postgresHere = postgres.get(group) ?? NO_FIGURE;
    return {
      label: ownersLabel(measure, load, codaTable),
      target: load.target.name,
      group: measure.groupBy ? { name: group === EMPTY_GROUP ? null : group } : null,
      unit: measure.sum ? 'sum' : 'rows',
      coda: {
        amount: addDecimals(addDecimals(loadedHere.amount, rejectedHere.amount), unconvertedHere.amount),
        rows: loadedHere.rows + rejectedHere.rows + unconvertedHere.rows,
      },
      rejected: rejectedHere,
      notConverted: unconvertedHere,
      extra: extraHere,
      postgres: postgresHere,
      // Coda − rejected − not converted is what was loaded.
      unexplained: subtractDecimals(addDecimals(loadedHere.amount, extraHere.amount), postgresHere.amount),
      notANumber: textCells.get(group) ?? [],
    };
  });
  const size = (total: BusinessTotal) => Number(total.coda.amount);
  const byGroup = (a: BusinessTotal, b: BusinessTotal) =>
    compareCodeUnits(a.group?.name ?? EMPTY_GROUP, b.group?.name ?? EMPTY_GROUP);
  totals.sort((a, b) => (measure.largest ? size(b) - size(a) || byGroup(a, b) : byGroup(a, b)));
  return measure.largest
    ? totals.filter((total, index) => index < measure.largest! || total.unexplained !== '0')
    : totals;
}
