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
  BRIDGE_COLUMNS,
  bridgeFigures,
  TEXT_CELLS_COLUMN,
  textCellsText,
  cappedPerTable,
  conflictField,
  conflictWinner,
  acceptedBy,
  changeSides,
  codaRequestsLine,
  abandonedRunLines,
  countsPerTable,
  COVERAGE_TITLES,
  coverageEntryDetail,
  coverageEntryName,
  coverageSection,
  type CoverageSection,
  describeDifference,
  differenceName,
  listedDifferences,
  parentGroupAdvice,
  parentGroupHeadline,
  rejectEntries,
  totalName,
  headline,
  runTitle,
  sectionTitles,
  splitReport,
  type ReportTable,
} from './document.ts';

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
    ['table', ...columns, 'seconds'],
    [
      ...rows.map((row) => [
        row.target,
        ...row.counts.map(String),
        (seconds.get(row.target) ?? 0).toFixed(2),
      ]),
      ['Total', ...totals.map(String), allSeconds.toFixed(2)],
    ],
  );
}

function formatOutcome(report: RunReport): string {
  return [
    headline(report),
    ...abandonedRunLines(report),
    codaRequestsLine(report) ?? '',
    report.outcomeNote ? `Why: ${report.outcomeNote}` : '',
    report.backup ? `Backup (${report.backup.kind}): ${report.backup.path}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function listed<T>(title: string, items: ListedRows<T>, describe: (item: T) => string[]): string[] {
  if (!items.length) return [];
  const more = items.length > ROWS_SHOWN ? [`  … and ${items.length - ROWS_SHOWN} more in the report`] : [];
  return [`\n${title} (${items.length}):`, ...items.slice(0, ROWS_SHOWN).flatMap(describe), ...more];
}

/** Children named per rejected parent; the other reports name them all. */
const CHILDREN_NAMED = 5;

/** The rejects of every table, the rows a rejected parent took along grouped under it with what to do. */
function rejectLines(tables: readonly ReportTable[], title: string): string[] {
  const rows = tables.reduce((sum, table) => sum + table.rejects.length, 0);
  if (!rows) return [];
  const entries = tables.flatMap((table) => rejectEntries(table.rejects).map((entry) => ({ table, entry })));
  const lines = [`\n${title} (${rows}):`];
  for (const { table, entry } of entries.slice(0, ROWS_SHOWN)) {
    if ('reject' in entry) {
      const { source, problems } = entry.reject;
      lines.push(
        `  ${table.target} / ${rowTitle(source.rowName)}: ${problems.map((problem) => problem.reason).join('; ')}`,
        `    ${source.browserLink}`,
      );
      continue;
    }
    const { group } = entry;
    const named = group.children.slice(0, CHILDREN_NAMED).map(({ source }) => rowTitle(source.rowName));
    const more = group.children.length - named.length;
    lines.push(
      `  ${table.target}: ${parentGroupHeadline(group, table)}`,
      ...(group.parent.browserLink ? [`    ${group.parent.browserLink}`] : []),
      `    ${parentGroupAdvice(group, table)}`,
      `    The rows: ${named.join(', ')}${more ? ` and ${more} more` : ''}`,
    );
  }
  if (entries.length > ROWS_SHOWN) lines.push(`  … and ${entries.length - ROWS_SHOWN} more in the report`);
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
  const titles = sectionTitles(report.mode);
  // The first rows of every table, as many as any report lists, and how many there are in all.
  const everyTable = <T>(pick: (table: ReportTable) => ListedRows<T>): ListedRows<T & { target: string }> => {
    const { groups, count } = cappedPerTable(body.tables, pick);
    const shown = groups.flatMap(({ table, shown: items }) =>
      items.map((item) => ({ ...item, target: table.target })),
    );
    return { length: count, slice: (start, end) => shown.slice(start, end) };
  };
  const lines = [
    `${runTitle(report.mode)} of "${report.doc.name}" (${report.doc.id}) from ${source}\n`,
    formatSummaryTable(report),
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
  const describe = (item: (typeof fresh)[number], suffix = '') => [
    `  ${item.target} / ${differenceName(item)}: ${describeDifference(item)}${suffix}`,
    ...(item.row.browserLink ? [`    ${item.row.browserLink}`] : []),
  ];
  lines.push(
    ...listed(titles.newDifferences, fresh, (item) => describe(item)),
    ...listed(titles.acceptedDifferences, accepted, (item) => describe(item, ` (${acceptedBy(item)})`)),
  );
  const { before, after } = titles.change;
  lines.push(
    ...rejectLines(body.tables, titles.rejects),
    ...listed(
      titles.conflicts,
      everyTable((table) => table.conflicts),
      (conflict) => [
        `  ${conflict.target} / ${rowTitle(conflict.rowName)}: ${conflictWinner(conflict)}`,
        ...conflict.fields.map((field) => `    ${conflictField(field)}`),
        `    ${conflict.browserLink}`,
      ],
    ),
    ...listed(
      titles.updated,
      everyTable((table) => table.updated),
      (row) => [
        `  ${row.target} / ${rowTitle(row.rowName)}: ${row.changes.map((change) => `${change.column} ${changeSides(change)[0]} (${before}) -> ${changeSides(change)[1]} (${after})`).join('; ')}`,
        `    ${row.browserLink}`,
      ],
    ),
  );
  if (report.mode === 'reconcile') {
    lines.push(
      ...listed(
        titles.inserted,
        everyTable((table) => table.inserted),
        (row) => [`  ${row.target} / ${rowTitle(row.rowName)}`, `    ${row.browserLink}`],
      ),
      ...listed(
        titles.notFromCoda,
        report.reconciliation!.tables.flatMap((table) =>
          table.notFromCoda.map((row) => ({ ...row, target: table.target })),
        ),
        (row) => [`  ${row.target} / ${row.label} (erp id ${row.targetId})`],
      ),
    );
  }
  lines.push(
    ...listed(
      titles.goneFromCoda,
      everyTable((table) => table.goneFromCoda),
      (row) => [
        `  ${row.target} / ${rowTitle(row.rowName)} (erp id ${row.targetId})`,
        `    ${row.browserLink}`,
      ],
    ),
    ...listed(
      titles.unresolved,
      everyTable((table) => table.unresolved),
      (link) => [`  ${link.target} / ${rowTitle(link.rowName)}: ${link.reason}`, `    ${link.browserLink}`],
    ),
  );
  lines.push(`\n${formatOutcome(report)}`);
  return visible(`${lines.join('\n')}\n`, { keepLayout: true });
}
