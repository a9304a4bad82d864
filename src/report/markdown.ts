/**
 * report.md: the run in Markdown, for a reader who opens it in an editor or on a code host.
 * The header (run id, times, source, backup) comes first and alone; everything after it is the
 * deterministic body, which the golden tests compare. Lists stop at LIST_LIMIT rows with a count
 * of the rest: report.json holds every row.
 */
import type { RunReport } from '../load/run.ts';
import type { Difference } from '../load/reconcile/types.ts';
import { rowTitle } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
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
  conflictField,
  conflictWinner,
  acceptedBy,
  capped,
  cappedPerTable,
  changeSides,
  codaRequestsLine,
  abandonedRunLines,
  countsPerTable,
  COVERAGE_TITLES,
  coverageEntryDetail,
  coverageEntryName,
  coverageSection,
  type CoverageEntry,
  type CoverageSection,
  describeDifference,
  differenceName,
  headline,
  moreLine,
  runTitle,
  safeLink,
  sectionTitles,
  showValue,
  listedDifferences,
  parentGroupAdvice,
  parentGroupHeadline,
  rejectEntries,
  splitReport,
  totalName,
  type ReportBody,
  type ReportHeader,
} from './document.ts';
import { appendAll } from '../shared/append.ts';
import type { ListedRows } from '../shared/spooled-list.ts';

/** Coda text as literal Markdown text on one line: no markup, no HTML, no table breaks, no control characters. */
export function markdownText(text: string): string {
  return visible(text.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ')).replace(
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
    lines.push(`### ${table.target} (Coda table ${markdownText(table.codaTable.name)})`, '');
    for (const item of shown) for (const line of describe(item, table)) lines.push(line);
    lines.push('');
  }
  if (more) lines.push(moreLine(more), '');
  return { count, lines };
}

function markdownHeader(body: Pick<ReportBody, 'mode' | 'doc'>, header: ReportHeader): string {
  const requests = codaRequestsLine(header);
  return [
    `# ${runTitle(body.mode)} of "${markdownText(body.doc.name)}"`,
    '',
    `- Run: ${header.runId}`,
    `- Started: ${header.startedAt}`,
    `- Finished: ${header.finishedAt}`,
    `- Source: ${markdownText(header.source)}`,
    ...(requests ? [`- ${requests}`] : []),
    ...(header.backup ? [`- Backup (${header.backup.kind}): ${markdownText(header.backup.path)}`] : []),
    ...abandonedRunLines(header).map((line) => `- **${markdownText(line)}**`),
    '',
    '---',
    '',
    '',
  ].join('\n');
}

function differenceLines(items: readonly Difference[], accepted: boolean): string[] {
  const { shown, more } = capped(items);
  const lines: string[] = [];
  for (const item of shown)
    lines.push(
      `- ${item.target}: ${rowLink(differenceName(item), item.row.browserLink)}: ${markdownText(describeDifference(item))}${accepted ? ` (${acceptedBy(item)})` : ''}`,
    );
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
        `- ${minus(row.share)} ${rowLink(row.rowName, row.browserLink)}, rejected: ${markdownText(row.reasons.join('; '))}`,
      );
    if (rejected.more) lines.push(`- ${moreSharesLine(rejected.more, rejected.rest)}`);
    const unconverted = listedShares(total.notConverted);
    for (const row of unconverted.shown)
      lines.push(
        `- ${minus(row.share)} ${rowLink(row.rowName, row.browserLink)}, not converted (${markdownText(showValue(row.value))}): ${markdownText(row.reasons.join('; '))}`,
      );
    if (unconverted.more) lines.push(`- ${moreSharesLine(unconverted.more, unconverted.rest)}`);
    if (total.extra.rows)
      lines.push(`- + ${figureText(total, total.extra)} in Postgres that this read did not load`);
    if (total.unexplained !== '0') lines.push(`- **${minus(total.unexplained)} unexplained**`);
    lines.push(`- = Postgres: ${figureText(total, total.postgres)}`);
    const text = capped(total.notANumber);
    for (const row of text.shown)
      lines.push(
        `- Not a number, on neither side: ${markdownText(showValue(row.value))} in ${rowLink(row.rowName, row.browserLink)}: ${markdownText(row.reasons.join('; '))}`,
      );
    if (text.more) lines.push(`- ${moreLine(text.more)}`);
    lines.push('');
  }
  return lines;
}

function coverageLines(coverage: CoverageSection): string[] {
  const entry = (item: CoverageEntry) =>
    `- ${rowLink(coverageEntryName(item), item.table.browserLink)}: ${markdownText(coverageEntryDetail(item))}`;
  return [
    ...section(COVERAGE_TITLES.leftBehind, coverage.leftBehind.length, [
      ...coverage.leftBehind.map(entry),
      ...(coverage.advice ? ['', markdownText(coverage.advice)] : []),
    ]),
    ...section(COVERAGE_TITLES.skipped, coverage.skipped.length, coverage.skipped.map(entry)),
    ...(coverage.empty ? [markdownText(coverage.empty), ''] : []),
  ];
}

export function markdownBody(body: ReportBody): string {
  const titles = sectionTitles(body.mode);
  const lines = [
    `Coda doc "${markdownText(body.doc.name)}" (${body.doc.id})`,
    '',
    '## Outcome',
    '',
    `**${markdownText(headline(body))}**`,
    '',
  ];
  if (body.outcomeNote) lines.push(`Why: ${markdownText(body.outcomeNote)}`, '');

  const reconciliation = body.reconciliation;
  const { columns, rows, totals } = countsPerTable(body);
  lines.push(body.mode === 'reconcile' ? '## Coda against Postgres' : '## Rows per table', '');
  appendAll(
    lines,
    markdownTable(
      ['Table', ...columns],
      [...rows.map((row) => [row.target, ...row.counts.map(String)]), ['**Total**', ...totals.map(String)]],
    ),
  );
  appendAll(lines, coverageLines(coverageSection(body)));
  const { fresh, accepted } = listedDifferences(body);
  appendAll(lines, section(titles.newDifferences, fresh.length, differenceLines(fresh, false)));
  appendAll(lines, section(titles.acceptedDifferences, accepted.length, differenceLines(accepted, true)));
  if (reconciliation?.totals.length) {
    lines.push(`## ${titles.totals}`, '', markdownText(titles.totalsNote), '');
    const text = reconciliation.totals.some((total) => total.notANumber.length);
    appendAll(
      lines,
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
      lines.push(`## ${titles.bridge}`, '');
      appendAll(lines, bridge);
    }
  }

  const rejects = perTable(
    body,
    (table) => rejectEntries(table.rejects),
    (entry, table) => {
      if ('reject' in entry) {
        const { source, problems } = entry.reject;
        return [
          `- ${rowLink(source.rowName, source.browserLink)} (${source.rowId})`,
          ...problems.map((problem) => `  - ${markdownText(problem.reason)}`),
        ];
      }
      const { group } = entry;
      const link = safeLink(group.parent.browserLink);
      return [
        `- ${markdownText(parentGroupHeadline(group, table))}${link ? ` ([open it in Coda](<${link}>))` : ''}`,
        `  - ${markdownText(parentGroupAdvice(group, table))}`,
        ...group.children.map(
          ({ source }) => `  - ${rowLink(source.rowName, source.browserLink)} (${source.rowId})`,
        ),
      ];
    },
  );
  const rejectedRows = body.tables.reduce((sum, table) => sum + table.rejects.length, 0);
  appendAll(lines, section(titles.rejects, rejectedRows, rejects.lines));

  const conflicts = perTable(
    body,
    (table) => table.conflicts,
    (conflict) => [
      `- ${rowLink(conflict.rowName, conflict.browserLink)} (${conflict.rowId}): ${markdownText(conflictWinner(conflict))}`,
      ...conflict.fields.map((field) => `  - ${markdownText(conflictField(field))}`),
    ],
  );
  appendAll(lines, section(titles.conflicts, conflicts.count, conflicts.lines));

  const { before, after } = titles.change;
  const changed = perTable(
    body,
    (table) => table.updated,
    (row) => [
      `- ${rowLink(row.rowName, row.browserLink)} (${row.rowId})`,
      ...row.changes.map((change) => {
        const [old, now] = changeSides(change);
        return `  - ${markdownText(change.column)}: ${markdownText(old)} (${before}) → ${markdownText(now)} (${after})`;
      }),
    ],
  );
  appendAll(lines, section(titles.updated, changed.count, changed.lines));

  const inserted = perTable(
    body,
    (table) => table.inserted,
    (row) => [`- ${rowLink(row.rowName, row.browserLink)} (${row.rowId})`],
  );
  appendAll(lines, section(titles.inserted, inserted.count, inserted.lines));

  const unresolved = perTable(
    body,
    (table) => table.unresolved,
    (link) => [`- ${rowLink(link.rowName, link.browserLink)} (${link.rowId}): ${markdownText(link.reason)}`],
  );
  appendAll(lines, section(titles.unresolved, unresolved.count, unresolved.lines));

  const gone = perTable(
    body,
    (table) => table.goneFromCoda,
    (row) => [`- ${rowLink(row.rowName, row.browserLink)} (${row.rowId}, erp id ${row.targetId})`],
  );
  appendAll(lines, section(titles.goneFromCoda, gone.count, gone.lines));

  const notFromCoda = (reconciliation?.tables ?? []).flatMap((table) =>
    table.notFromCoda.map((row) => ({ ...row, target: table.target })),
  );
  const { shown, more } = capped(notFromCoda);
  appendAll(
    lines,
    section(titles.notFromCoda, notFromCoda.length, [
      ...shown.map((row) => `- ${row.target}: ${markdownText(row.label)} (erp id ${row.targetId})`),
      ...(more ? [moreLine(more)] : []),
    ]),
  );

  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n+$/, '')}\n`;
}

export function markdownReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return markdownHeader(body, header) + markdownBody(body);
}
