/**
 * What a run prints at its end, and keeps as summary.txt in its run folder: the per-table summary
 * in the shape of pgloader's load report (one line per table and a total, right-aligned numbers),
 * the business totals of a reconciliation, the first rejects and differences, and the outcome.
 */
import type { RunReport } from '../load/run.ts';
import type { ListedRows } from '../shared/spooled-list.ts';
import { rowTitle } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
import {
  cappedPerTable,
  conflictField,
  conflictWinner,
  changeText,
  codaRequestsLine,
  abandonedRunLines,
  countsPerTable,
  listedDifferences,
  headline,
  runTitle,
  sectionTitles,
  splitReport,
  type ReportTable,
} from './document.ts';
import { BRIDGE_COLUMNS, bridgeFigures, TEXT_CELLS_COLUMN, textCellsText } from './bridge-words.ts';
import { acceptedBy, isGroup, type RowGroup } from './lists.ts';
import {
  COVERAGE_TITLES,
  coverageEntryDetail,
  coverageEntryName,
  coverageSection,
  type CoverageSection,
} from './coverage-words.ts';
import {
  describeDifference,
  differenceDetail,
  differenceGroups,
  differenceName,
  totalName,
} from './differences.ts';
import { outcomeNoteText, reasonsText, reasonText } from './reasons.ts';
import { rejectGroups } from './reject-groups.ts';
import { signOff } from './sign-off.ts';
import { wordsOf } from './words.ts';

/** Rows listed per kind; the rest are in the other reports. */
const ROWS_SHOWN = 20;

/** Columns padded to their widest cell: the first left-aligned, the rest right-aligned; a rule above the last row when it is a total. */
function formatGrid(headers: readonly string[], rows: string[][], { total = true } = {}): string {
  const widths = headers.map((header, index) =>
    rows.reduce((widest, row) => Math.max(widest, row[index]!.length), header.length),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!)))
      .join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const body = rows.map(line);
  return [line(headers), rule, ...(total ? [...body.slice(0, -1), rule, body.at(-1)!] : body)].join('\n');
}

/** The per-table counts with the seconds each table took, and their totals. */
function formatSummaryTable(report: RunReport): string {
  const { columns, rows, totals } = countsPerTable(report);
  const seconds = new Map(report.tables.map((table) => [table.target, table.seconds]));
  const allSeconds = [...seconds.values()].reduce((sum, value) => sum + value, 0);
  return formatGrid(
    ['Coda table', ...columns, 'seconds'],
    [
      ...rows.map((row) => [
        `${row.name} (${row.target})`,
        ...row.counts.map(String),
        (seconds.get(row.target) ?? 0).toFixed(2),
      ]),
      ['Total', ...totals.map(String), allSeconds.toFixed(2)],
    ],
  );
}

/** The sign-off sentence, what is left to decide and the next command: first and last on the terminal. */
function signOffLines(report: RunReport): string[] {
  const verdict = signOff(report);
  return [
    verdict.sentence,
    ...verdict.decisions.map((line) => `  - ${line}`),
    ...(verdict.next ? [`Next: ${verdict.next.command}  (${verdict.next.why})`] : []),
  ];
}

function formatOutcome(report: RunReport): string {
  return [
    headline(report),
    ...abandonedRunLines(report),
    report.outcomeNote ? `Why: ${outcomeNoteText(report.outcomeNote)}` : '',
    codaRequestsLine(report) ?? '',
    report.backup ? `Backup (${report.backup.kind}): ${report.backup.path}` : '',
    '',
    ...signOffLines(report),
  ]
    .filter((line, index, lines) => line || lines[index - 1])
    .join('\n');
}

/** `rows`: how many rows the items stand for, when an item is a group of them. */
function listed<T>(
  title: string,
  items: ListedRows<T>,
  describe: (item: T) => string[],
  rows = items.length,
): string[] {
  if (!items.length) return [];
  const more = items.length > ROWS_SHOWN ? [`  … and ${items.length - ROWS_SHOWN} more in the report`] : [];
  return [`\n${title} (${rows}):`, ...items.slice(0, ROWS_SHOWN).flatMap(describe), ...more];
}

/** Rows named per group; the other reports name them all. */
const ROWS_NAMED = 5;

/** A group in a few lines: headline, where in Coda, what to do, the first rows by name. */
function groupLines<T>(
  group: RowGroup<T>,
  name: (item: T) => string,
  single: (item: T) => string[],
): string[] {
  if (!isGroup(group)) return single(group.items[0]!);
  const named = group.items.slice(0, ROWS_NAMED).map(name);
  const more = group.items.length - named.length;
  return [
    `  ${group.headline}`,
    ...(group.link ? [`    ${group.link}`] : []),
    ...(group.advice ? [`    ${group.advice}`] : []),
    `    The rows: ${named.join(', ')}${more ? ` and ${more} more` : ''}`,
  ];
}

/** The rejects of every table, grouped by parent or reason, each group told once what to do. */
function rejectLines(tables: readonly ReportTable[], title: string): string[] {
  const rows = tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (!rows) return [];
  const groups = tables.flatMap((table) => rejectGroups(table).map((group) => ({ table, group })));
  const lines = [`\n${title} (${rows}):`];
  for (const { table, group } of groups.slice(0, ROWS_SHOWN))
    lines.push(
      ...groupLines(
        group,
        ({ source }) => rowTitle(source.rowName),
        ({ source, problems }) => [
          `  ${table.codaTable.name} / ${rowTitle(source.rowName)}: ${reasonsText(problems.map((problem) => problem.reason))}`,
          `    ${source.browserLink}`,
          ...(group.advice ? [`    ${group.advice}`] : []),
        ],
      ),
    );
  if (groups.length > ROWS_SHOWN) lines.push(`  … and ${groups.length - ROWS_SHOWN} more in the report`);
  return lines;
}

function coverageLines(coverage: CoverageSection): string[] {
  const entry = (item: CoverageSection['leftBehind'][number]) => [
    `  ${coverageEntryName(item)}: ${coverageEntryDetail(item)}`,
    ...(item.table.browserLink ? [`    ${item.table.browserLink}`] : []),
  ];
  return [
    ...listed(COVERAGE_TITLES.leftBehind, coverage.leftBehind, entry),
    ...(coverage.advice ? [coverage.advice] : []),
    ...listed(COVERAGE_TITLES.skipped, coverage.skipped, (item) => [
      `  ${coverageEntryName(item)}: ${coverageEntryDetail(item)}`,
    ]),
    ...(coverage.empty ? [`\n${coverage.empty}`] : []),
  ];
}

/** The whole printout; `source` is the snapshot folder as the owner should see it. */
export function formatTerminalReport(report: RunReport, source: string): string {
  const { body } = splitReport(report);
  const titles = sectionTitles(report);
  // The first rows of every table, as many as any report lists, and how many there are in all.
  const everyTable = <T>(pick: (table: ReportTable) => ListedRows<T>): ListedRows<T & { target: string }> => {
    const { groups, count } = cappedPerTable(body.tables, pick);
    const shown = groups.flatMap(({ table, shown: items }) =>
      items.map((item) => ({ ...item, target: table.target })),
    );
    return { length: count, slice: (start, end) => shown.slice(start, end) };
  };
  const words = wordsOf(report.vocabulary);
  const lines = [
    `${runTitle(report.mode)} of "${report.doc.name}" (${report.doc.id}) from ${source}\n`,
    signOff(report).sentence,
    '',
    ...(report.tables.length || report.reconciliation ? [formatSummaryTable(report)] : []),
  ];
  const totals = report.reconciliation?.totals ?? [];
  if (totals.length) {
    const text = totals.some((total) => total.notANumber.length);
    lines.push(
      '\nBusiness totals, from Coda to Postgres (Coda − rejected − not converted + extra = Postgres + unexplained):',
    );
    lines.push(
      formatGrid(
        [
          'total',
          ...BRIDGE_COLUMNS.map((column) => column.toLowerCase()),
          ...(text ? [TEXT_CELLS_COLUMN.toLowerCase()] : []),
        ],
        totals.map((total) => [
          totalName(total),
          ...bridgeFigures(total),
          total.unexplained === '0' ? '0' : `${total.unexplained} DIFFERENT`,
          ...(text ? [textCellsText(total)] : []),
        ]),
        { total: false },
      ),
    );
  }
  lines.push(...coverageLines(coverageSection(body)));
  const { fresh, accepted } = listedDifferences(report);
  const differences = (title: string, items: typeof fresh) =>
    listed(
      title,
      differenceGroups(items, report, words),
      (group) =>
        groupLines(
          group,
          (item) => {
            const detail = differenceDetail(item, words);
            return `${differenceName(item)}${detail ? ` (${detail})` : ''}`;
          },
          (item) => [
            `  ${words.table(item.target)} / ${differenceName(item)}: ${describeDifference(item, words)}${item.acceptedByRun ? ` (${acceptedBy(item)})` : ''}`,
            ...(item.row.browserLink ? [`    ${item.row.browserLink}`] : []),
            ...(group.advice ? [`    ${group.advice}`] : []),
          ],
        ),
      items.length,
    );
  lines.push(
    ...differences(titles.newDifferences, fresh),
    ...differences(titles.acceptedDifferences, accepted),
  );
  const { before, after } = titles.change;
  lines.push(
    ...rejectLines(body.tables, titles.rejects),
    ...listed(
      titles.conflicts,
      everyTable((table) => table.conflicts),
      (conflict) => [
        `  ${words.table(conflict.target)} / ${rowTitle(conflict.rowName)}: ${conflictWinner(conflict)}`,
        ...conflict.fields.map((field) => `    ${conflictField(field, conflict.target, words)}`),
        `    ${conflict.browserLink}`,
      ],
    ),
    ...listed(
      titles.updated,
      everyTable((table) => table.updated),
      (row) => [
        `  ${words.table(row.target)} / ${rowTitle(row.rowName)}: ${row.changes
          .map((change) => {
            const text = changeText(change, row.target, words);
            return `${text.column} ${text.before} (${before}) -> ${text.after} (${after})`;
          })
          .join('; ')}`,
        `    ${row.browserLink}`,
      ],
    ),
  );
  if (report.mode === 'reconcile') {
    lines.push(
      ...listed(
        titles.inserted,
        everyTable((table) => table.inserted),
        (row) => [`  ${words.table(row.target)} / ${rowTitle(row.rowName)}`, `    ${row.browserLink}`],
      ),
      ...listed(
        titles.notFromCoda,
        report.reconciliation!.tables.flatMap((table) =>
          table.notFromCoda.map((row) => ({ ...row, target: table.target })),
        ),
        (row) => [`  ${words.table(row.target)} / ${row.label} (erp id ${row.targetId})`],
      ),
    );
  }
  lines.push(
    ...listed(
      titles.goneFromCoda,
      everyTable((table) => table.goneFromCoda),
      (row) => [
        `  ${words.table(row.target)} / ${rowTitle(row.rowName)} (erp id ${row.targetId})`,
        `    ${row.browserLink}`,
      ],
    ),
    ...listed(
      titles.unresolved,
      everyTable((table) => table.unresolved),
      (link) => [
        `  ${words.table(link.target)} / ${rowTitle(link.rowName)}: ${reasonText(link.reason)}`,
        `    ${link.browserLink}`,
      ],
    ),
  );
  lines.push(`\n${formatOutcome(report)}`);
  return visible(`${lines.join('\n')}\n`, { keepLayout: true });
}
