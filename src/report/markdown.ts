/**
 * report.md: the run in Markdown, for a reader who opens it in an editor or on a code host.
 * A title, then the deterministic body, which the golden tests compare (it opens with the sign-off
 * and ends with the glossary), then the technical details (run number, times, snapshot, backup)
 * that change from run to run. Lists stop at LIST_LIMIT rows with a count of the rest: report.json
 * holds every row.
 */
import type { RunReport } from '../load/run.ts';
import type { Difference } from '../load/reconcile/types.ts';
import type { RunReject } from '../load/core/reasons.ts';
import { rowTitle } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
import {
  conflictField,
  conflictWinner,
  cappedPerTable,
  changeText,
  abandonedRunLines,
  countsPerTable,
  headline,
  isRefused,
  runTitle,
  sectionTitles,
  listedDifferences,
  splitReport,
  TECHNICAL_DETAILS,
  technicalDetails,
  type ReportBody,
  type ReportHeader,
} from './document.ts';
import {
  BRIDGE_COLUMNS,
  bridgeFigures,
  figureText,
  hasWalk,
  listedShares,
  minus,
  moreSharesLine,
  TEXT_CELLS_COLUMN,
  textCellsText,
} from './bridge-words.ts';
import { acceptedBy, capped, isGroup, moreLine, safeLink, type RowGroup } from './lists.ts';
import {
  COVERAGE_TITLES,
  coverageEntryDetail,
  coverageEntryName,
  coverageSection,
  type CoverageEntry,
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
import { REPORT_GLOSSARY } from './glossary.ts';
import { signOff } from './sign-off.ts';
import { showValue, wordsOf, type Words } from './words.ts';
import { appendAll } from '../shared/append.ts';
import type { ListedRows } from '../shared/spooled-list.ts';

/** Coda text as literal Markdown text on one line: no markup, no HTML, no table breaks, no control characters. */
export function markdownText(text: string): string {
  return visible(text.replace(/\r\n|[\r\n\u2028\u2029]/g, ' '), { names: true }).replace(
    /[\\`*_[\]{}<>#|!~&]/g,
    (character) => `\\${character}`,
  );
}

/** A row by its name, linked to Coda; a blank name reads "(no name)". */
function rowLink(name: string, url: string): string {
  const text = markdownText(rowTitle(name));
  const link = safeLink(url);
  return link ? `[${text}](<${link}>)` : text;
}

function markdownTable(headers: readonly string[], rows: string[][]): string[] {
  const align = headers.map((_, index) => (index === 0 ? '---' : '---:'));
  const lines = [`| ${headers.join(' | ')} |`, `| ${align.join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
  return lines;
}

function section(title: string, count: number, lines: string[]): string[] {
  return count ? [`## ${title} (${count})`, '', ...lines, ''] : [];
}

/** Each table's items under its own heading, the first LIST_LIMIT of them in all; a line says how many more. */
function perTable<T>(
  body: ReportBody,
  pick: (table: ReportBody['tables'][number]) => ListedRows<T>,
  describe: (item: T, table: ReportBody['tables'][number]) => string[],
): { count: number; lines: string[] } {
  const { groups, count, more } = cappedPerTable(body.tables, pick);
  const lines: string[] = [];
  for (const { table, shown } of groups) {
    lines.push(`### ${tableName(table.codaTable.name, table.target)}`, '');
    for (const item of shown) for (const line of describe(item, table)) lines.push(line);
    lines.push('');
  }
  if (more) lines.push(moreLine(more), '');
  return { count, lines };
}

/** A Coda table by its name, the erp table it loads after it in small type. */
function tableName(name: string, target: string): string {
  return `${markdownText(name)} <sub>${markdownText(target)}</sub>`;
}

/**
 * A group as one line with its count and what to do, the rows nested under it; a lone row without
 * a cause of its own is just its line.
 */
function groupLines<T>(
  group: RowGroup<T>,
  row: (item: T) => string,
  single: (item: T) => string[],
): string[] {
  if (!isGroup(group)) return single(group.items[0]!);
  return [
    `- ${markdownText(group.headline)}${group.link ? ` ([open it in Coda](<${group.link}>))` : ''}`,
    ...(group.advice ? [`  - ${markdownText(group.advice)}`] : []),
    ...group.items.map((item) => `  - ${row(item)}`),
  ];
}

/** The report's glossary as Markdown list items; docs/GLOSSARY.md holds the same lines. */
export function glossaryLines(): string[] {
  return REPORT_GLOSSARY.map(({ term, meaning }) => `- **${term}**: ${markdownText(meaning)}`);
}

function markdownTitle(body: Pick<ReportBody, 'mode' | 'doc'>): string {
  return `# ${runTitle(body.mode)} of "${markdownText(body.doc.name)}"\n\n`;
}

function technicalLines(header: ReportHeader): string {
  return [
    '',
    `## ${TECHNICAL_DETAILS}`,
    '',
    ...technicalDetails(header).map((line) => `- ${markdownText(line)}`),
    '',
  ].join('\n');
}

function differenceLines(items: readonly Difference[], body: ReportBody, words: Words): string[] {
  const { shown, more } = capped(items);
  const lines: string[] = [];
  for (const group of differenceGroups(shown, body, words))
    for (const line of groupLines(
      group,
      (item) => {
        const detail = differenceDetail(item, words);
        return `${rowLink(differenceName(item), item.row.browserLink)}${detail ? `: ${markdownText(detail)}` : ''}`;
      },
      (item) => [
        `- ${markdownText(words.table(item.target))}: ${rowLink(differenceName(item), item.row.browserLink)}: ${markdownText(describeDifference(item, words))}${item.acceptedByRun ? ` (${acceptedBy(item)})` : ''}`,
        ...(group.advice ? [`  - ${markdownText(group.advice)}`] : []),
      ],
    ))
      lines.push(line);
  if (more) lines.push(moreLine(more));
  return lines;
}

function bridgeLines(body: ReportBody): string[] {
  const lines: string[] = [];
  for (const total of body.reconciliation?.totals ?? []) {
    if (!hasWalk(total)) continue;
    lines.push(`### ${markdownText(totalName(total))}`, '', `- Coda: ${figureText(total, total.coda)}`);
    const rejected = listedShares(total.rejected);
    for (const row of rejected.shown)
      lines.push(
        `- ${minus(row.share)} ${rowLink(row.rowName, row.browserLink)}, rejected: ${markdownText(reasonsText(row.reasons))}`,
      );
    if (rejected.more) lines.push(`- ${moreSharesLine(rejected.more, rejected.rest)}`);
    const unconverted = listedShares(total.notConverted);
    for (const row of unconverted.shown)
      lines.push(
        `- ${minus(row.share)} ${rowLink(row.rowName, row.browserLink)}, not converted (${markdownText(showValue(row.value))}): ${markdownText(reasonsText(row.reasons))}`,
      );
    if (unconverted.more) lines.push(`- ${moreSharesLine(unconverted.more, unconverted.rest)}`);
    if (total.extra.rows)
      lines.push(`- + ${figureText(total, total.extra)} in Postgres that this read did not load`);
    if (total.unexplained !== '0') lines.push(`- **${minus(total.unexplained)} unexplained**`);
    lines.push(`- = Postgres: ${figureText(total, total.postgres)}`);
    const text = capped(total.notANumber);
    for (const row of text.shown)
      lines.push(
        `- Not a number, on neither side: ${markdownText(showValue(row.value))} in ${rowLink(row.rowName, row.browserLink)}: ${markdownText(reasonsText(row.reasons))}`,
      );
    if (text.more) lines.push(`- ${moreLine(text.more)}`);
    lines.push('');
  }
  return lines;
}

/** What of the doc is left behind (a decision), and apart from it what is skipped on purpose (information). */
function coverageLines(coverage: CoverageSection): { leftBehind: string[]; skipped: string[] } {
  const entry = (item: CoverageEntry) =>
    `- ${rowLink(coverageEntryName(item), item.table.browserLink)}: ${markdownText(coverageEntryDetail(item))}`;
  return {
    leftBehind: section(COVERAGE_TITLES.leftBehind, coverage.leftBehind.length, [
      ...coverage.leftBehind.map(entry),
      ...(coverage.advice ? ['', markdownText(coverage.advice)] : []),
    ]),
    skipped: [
      ...section(COVERAGE_TITLES.skipped, coverage.skipped.length, coverage.skipped.map(entry)),
      ...(coverage.empty ? [markdownText(coverage.empty), ''] : []),
    ],
  };
}

/** The sign-off sentence, what happened and why, what is left to decide, and the next command. */
function leadLines(body: ReportBody): string[] {
  const verdict = signOff(body);
  return [
    `**${markdownText(verdict.sentence)}**`,
    '',
    markdownText(headline(body)),
    '',
    ...(body.outcomeNote ? [`Why: ${markdownText(outcomeNoteText(body.outcomeNote))}`, ''] : []),
    ...(verdict.decisions.length ? [...verdict.decisions.map((line) => `- ${markdownText(line)}`), ''] : []),
    ...(verdict.next ? [`Next: \`${verdict.next.command}\` (${markdownText(verdict.next.why)})`, ''] : []),
  ];
}

export function markdownBody(body: ReportBody, header?: Pick<ReportHeader, 'abandonedRuns'>): string {
  const titles = sectionTitles(body);
  const words = wordsOf(body.vocabulary);
  const lines = [
    ...leadLines(body),
    ...(header ? abandonedRunLines(header).map((line) => `**${markdownText(line)}**\n`) : []),
  ];

  const reconciliation = body.reconciliation;
  const { columns, rows, totals } = countsPerTable(body);
  const counts = rows.length
    ? [
        body.mode === 'reconcile' ? '## Coda against Postgres' : '## Rows per table',
        '',
        ...markdownTable(
          ['Coda table', ...columns],
          [
            ...rows.map((row) => [tableName(row.name, row.target), ...row.counts.map(String)]),
            ['**Total**', ...totals.map(String)],
          ],
        ),
      ]
    : [];
  const coverage = coverageLines(coverageSection(body));
  const { fresh, accepted } = listedDifferences(body);
  const differences = [
    ...section(titles.newDifferences, fresh.length, differenceLines(fresh, body, words)),
    ...section(titles.acceptedDifferences, accepted.length, differenceLines(accepted, body, words)),
  ];
  const businessTotals: string[] = [];
  if (reconciliation?.totals.length) {
    businessTotals.push(`## ${titles.totals}`, '', markdownText(titles.totalsNote), '');
    const text = reconciliation.totals.some((total) => total.notANumber.length);
    appendAll(
      businessTotals,
      markdownTable(
        ['Total', ...BRIDGE_COLUMNS, ...(text ? [TEXT_CELLS_COLUMN] : [])],
        reconciliation.totals.map((total) => [
          markdownText(totalName(total)),
          ...bridgeFigures(total),
          total.unexplained === '0' ? '0' : `**${total.unexplained}**`,
          ...(text ? [textCellsText(total)] : []),
        ]),
      ),
    );
    const bridge = bridgeLines(body);
    if (bridge.length) {
      businessTotals.push(`## ${titles.bridge}`, '');
      appendAll(businessTotals, bridge);
    }
  }

  const rejectRow = (reject: RunReject) => rowLink(reject.source.rowName, reject.source.browserLink);
  const rejected = perTable(
    body,
    (table) => rejectGroups(table),
    (group) =>
      groupLines(group, rejectRow, (reject) => [
        `- ${rejectRow(reject)}: ${markdownText(reasonsText(reject.problems.map((problem) => problem.reason)))}`,
        ...(group.advice ? [`  - ${markdownText(group.advice)}`] : []),
      ]),
  );
  const rejectedRows = body.tables.reduce((sum, table) => sum + table.rejects.length, 0);
  const rejects = section(titles.rejects, rejectedRows, rejected.lines);

  const conflicted = perTable(
    body,
    (table) => table.conflicts,
    (conflict, table) => [
      // The Coda row id is what a --decisions file names the row by.
      `- ${rowLink(conflict.rowName, conflict.browserLink)} (${conflict.rowId}): ${markdownText(conflictWinner(conflict))}`,
      ...conflict.fields.map((field) => `  - ${markdownText(conflictField(field, table.target, words))}`),
    ],
  );
  const conflicts = section(titles.conflicts, conflicted.count, conflicted.lines);

  const { before, after } = titles.change;
  const changed = perTable(
    body,
    (table) => table.updated,
    (row, table) => [
      `- ${rowLink(row.rowName, row.browserLink)}`,
      ...row.changes.map((change) => {
        const text = changeText(change, table.target, words);
        return `  - ${markdownText(text.column)}: ${markdownText(text.before)} (${before}) → ${markdownText(text.after)} (${after})`;
      }),
    ],
  );
  const inserted = perTable(
    body,
    (table) => table.inserted,
    (row) => [`- ${rowLink(row.rowName, row.browserLink)}`],
  );
  const unresolved = perTable(
    body,
    (table) => table.unresolved,
    (link) => [`- ${rowLink(link.rowName, link.browserLink)}: ${markdownText(reasonText(link.reason))}`],
  );
  const gone = perTable(
    body,
    (table) => table.goneFromCoda,
    (row) => [`- ${rowLink(row.rowName, row.browserLink)} (erp id ${row.targetId})`],
  );
  const notFromCoda = (reconciliation?.tables ?? []).flatMap((table) =>
    table.notFromCoda.map((row) => ({ ...row, name: table.codaTable.name })),
  );
  const { shown, more } = capped(notFromCoda);
  const rest = [
    ...section(titles.updated, changed.count, changed.lines),
    ...section(titles.inserted, inserted.count, inserted.lines),
    ...section(titles.unresolved, unresolved.count, unresolved.lines),
    ...section(titles.goneFromCoda, gone.count, gone.lines),
    ...section(titles.notFromCoda, notFromCoda.length, [
      ...shown.map(
        (row) => `- ${markdownText(row.name)}: ${markdownText(row.label)} (erp id ${row.targetId})`,
      ),
      ...(more ? [moreLine(more)] : []),
    ]),
  ];
  // A refused cutover shows what refused it right under the lead, before what it would have done.
  const blocks = isRefused(body)
    ? [conflicts, coverage.leftBehind, rejects, differences, counts, businessTotals, rest, coverage.skipped]
    : [counts, coverage.leftBehind, coverage.skipped, differences, businessTotals, rejects, conflicts, rest];
  for (const block of blocks) appendAll(lines, block);
  appendAll(lines, ['## Words used in this report', '', ...glossaryLines()]);

  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n+$/, '')}\n`;
}

export function markdownReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return markdownTitle(body) + markdownBody(body, header) + technicalLines(header);
}
