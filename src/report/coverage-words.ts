/**
 * What of the doc a run does not load, in the owner's words: data left behind, data the mappings
 * skip on purpose (with their reasons), and columns that are empty anyway.
 */
import type { Difference } from '../load/reconcile/types.ts';
import type { RunReport } from '../load/run.ts';
import type { CodaTableRef, ColumnCells } from '../transform/coverage.ts';
import { acceptedBy, plural } from './lists.ts';

export function leftBehindAmount(item: Difference): string {
  const behind = item.leftBehind!;
  return behind.kind === 'column'
    ? `${cellsAmount(behind.column)} that no mapping loads`
    : `${plural(behind.rows, 'row')} that no mapping loads`;
}

/** A Coda column by its label, as the owner sees it in the doc. */
function columnLabel(label: string): string {
  return label.trim() ? label : '(a column with no name)';
}

function cellsAmount(column: ColumnCells): string {
  return `${plural(column.cells, 'cell')} ${column.cells === 1 ? 'holds' : 'hold'} data`;
}

/** One line of the coverage section: a Coda column or table, how much it holds, and why it is listed. */
export interface CoverageEntry {
  table: CodaTableRef;
  /** The column's label, or null for the whole table. */
  column: string | null;
  amount: string;
  examples: string[];
  /** The skip reason, or which cutover accepted leaving it behind. */
  note: string | null;
}

export interface CoverageSection {
  leftBehind: CoverageEntry[];
  /** What to do about them, for this run. */
  advice: string | null;
  skipped: CoverageEntry[];
  /** Columns neither loaded nor skipped that are empty in every row: nothing is lost. */
  empty: string | null;
}

const ACCEPT_FLAG = '--accept-unmapped';

/**
 * What of the doc this run does not load: data left behind (which blocks a cutover unless
 * accepted), what the mappings skip on purpose with their reasons, and empty columns in one line.
 */
export function coverageSection(
  body: Pick<RunReport, 'mode' | 'outcome' | 'differences' | 'coverage' | 'acceptUnmapped'>,
): CoverageSection {
  const behind = body.differences.filter((item) => item.leftBehind);
  const fresh = behind.filter((item) => item.acceptedByRun === null);
  const leftBehind = behind.map((item): CoverageEntry => {
    const found = item.leftBehind!;
    return {
      table: found.table,
      column: found.kind === 'column' ? columnLabel(found.column.label) : null,
      amount: leftBehindAmount(item),
      examples: found.kind === 'column' ? found.column.examples : [],
      note: item.acceptedByRun === null ? null : acceptedBy(item),
    };
  });
  const ways = `load them (columns: in the mapping), declare them skipped with a reason (skip: in the mapping, or a skip file for a table), or leave them behind on purpose with \`erp cutover ${ACCEPT_FLAG}\``;
  const advice = !fresh.length
    ? null
    : body.mode === 'plan'
      ? `A cutover would refuse while ${plural(fresh.length, 'Coda column or table', 'Coda columns or tables')} with data ${fresh.length === 1 ? 'is' : 'are'} left behind: ${ways}.`
      : body.mode === 'cutover'
        ? body.outcome === 'committed'
          ? `Left behind on purpose (${ACCEPT_FLAG}): listed as accepted by this cutover from now on.`
          : body.acceptUnmapped
            ? `Left behind on purpose (${ACCEPT_FLAG}), but the cutover rolled back for another reason, so nothing was written: run it again with ${ACCEPT_FLAG} once that is settled.`
            : `The cutover refused to leave them behind; nothing was written: ${ways}.`
        : `Postgres does not hold them and no cutover accepted leaving them behind: ${ways}.`;
  const skipped: CoverageEntry[] = [
    ...body.coverage.mapped.flatMap((entry) =>
      entry.skipped.map((column) => ({
        table: entry.table,
        column: columnLabel(column.label),
        amount: cellsAmount(column),
        examples: [],
        note: column.reason,
      })),
    ),
    ...body.coverage.skipped.map((entry) => ({
      table: entry.table,
      column: null,
      amount: plural(entry.rows, 'row'),
      examples: [],
      note: entry.reason,
    })),
  ];
  const empty = [
    ...body.coverage.mapped.flatMap((entry) =>
      entry.empty.map((column) => `${entry.table.name}: ${columnLabel(column.label)}`),
    ),
    ...body.coverage.unmapped.filter((entry) => !entry.rows).map((entry) => `${entry.table.name} (no rows)`),
  ];
  return {
    leftBehind,
    advice,
    skipped,
    empty: empty.length ? `Not loaded, but empty in Coda: ${empty.join(', ')}.` : null,
  };
}

export const COVERAGE_TITLES = {
  leftBehind: 'Coda data left behind (no mapping loads it)',
  skipped: 'Coda data skipped on purpose (the mappings say why)',
};

/** "Projects: Budget" or "Projects (the whole table)". */
export function coverageEntryName(entry: CoverageEntry): string {
  return entry.column === null
    ? `${entry.table.name} (the whole table)`
    : `${entry.table.name}: ${entry.column}`;
}

/** The rest of a coverage line after its name: amount, examples, note. */
export function coverageEntryDetail(entry: CoverageEntry): string {
  const examples = entry.examples.length
    ? `; for example ${entry.examples.map((text) => `"${text}"`).join(', ')}`
    : '';
  return `${entry.amount}${examples}${entry.note ? ` (${entry.note})` : ''}`;
}
