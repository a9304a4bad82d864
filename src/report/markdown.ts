/**
 * report.md: the run in Markdown, for a reader who opens it in an editor or on a code host.
 * The header (run id, times, source, backup) comes first and alone; everything after it is the
 * deterministic body, which the golden tests compare. Lists stop at LIST_LIMIT rows with a count
 * of the rest: report.json holds every row.
 */
import type { RunReport } from '../load/run.ts';
import type { Difference } from '../load/reconcile.ts';
import { visible } from '../shared/visible.ts';
import {
  conflictField,
  conflictWinner,
  acceptedBy,
  capped,
  cappedPerTable,
  changeSides,
  codaRequestsLine,
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

function rowLink(name: string, fallback: string, url: string): string {
  const text = markdownText(name || fallback);
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
  describe: (item: T) => string[],
): { count: number; lines: string[] } {
  const { groups, count, more } = cappedPerTable(body.tables, pick);
  const lines: string[] = [];
  for (const { table, shown } of groups) {
    lines.push(`### ${table.target} (Coda table ${markdownText(table.codaTable.name)})`, '');
    for (const item of shown) for (const line of describe(item)) lines.push(line);
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
      `- ${item.target}: ${rowLink(differenceName(item), item.rowKey, item.row.browserLink)}: ${markdownText(describeDifference(item))}${accepted ? ` (${acceptedBy(item)})` : ''}`,
    );
  if (more) lines.push(moreLine(more));
  return lines;
}

function bridgeLines(body: ReportBody): string[] {
  const lines: string[] = [];
  for (const total of body.reconciliation?.totals ?? []) {
    if (!total.rejected.length && !total.notConverted.length) continue;
    lines.push(`### ${markdownText(totalName(total))}`, '', `- Coda: ${total.coda}`);
    const rejected = capped(total.rejected);
    for (const row of rejected.shown)
      lines.push(
        `- − ${row.share} ${rowLink(row.rowName, row.rowId, row.browserLink)}, rejected: ${markdownText(row.reasons.join('; '))}`,
      );
    if (rejected.more) lines.push(`- ${moreLine(rejected.more)}`);
    const unconverted = capped(total.notConverted);
    for (const row of unconverted.shown)
      lines.push(
        `- − ${row.share ?? '(not a number)'} ${rowLink(row.rowName, row.rowId, row.browserLink)}, value not converted (${markdownText(showValue(row.value))}): ${markdownText(row.reasons.join('; '))}`,
      );
    if (unconverted.more) lines.push(`- ${moreLine(unconverted.more)}`);
    if (total.extra !== '0') lines.push(`- + ${total.extra} in Postgres rows this read did not load`);
    if (total.unexplained !== '0') lines.push(`- **${total.unexplained} unexplained**`);
    lines.push(`- = Postgres: ${total.postgres}`, '');
  }
  return lines;
}

function coverageLines(coverage: CoverageSection): string[] {
  const entry = (item: CoverageEntry) =>
    `- ${rowLink(coverageEntryName(item), '', item.table.browserLink)}: ${markdownText(coverageEntryDetail(item))}`;
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
    appendAll(
      lines,
      markdownTable(
        ['Total', 'Coda', 'Rejected rows', 'Extra', 'Postgres', 'Unexplained'],
        reconciliation.totals.map((total) => [
          markdownText(totalName(total)),
          total.coda,
          String(total.rejected.length + total.notConverted.length),
          total.extra,
          total.postgres,
          total.unexplained === '0' ? '0' : `**${total.unexplained}**`,
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
    (table) => table.rejects,
    (reject) => [
      `- ${rowLink(reject.source.rowName, reject.source.rowId, reject.source.browserLink)} (${reject.source.rowId})`,
      ...reject.problems.map((problem) => `  - ${markdownText(problem.reason)}`),
    ],
  );
  appendAll(lines, section(titles.rejects, rejects.count, rejects.lines));

  const conflicts = perTable(
    body,
    (table) => table.conflicts,
    (conflict) => [
      `- ${rowLink(conflict.rowName, conflict.rowId, conflict.browserLink)} (${conflict.rowId}): ${markdownText(conflictWinner(conflict))}`,
      ...conflict.fields.map((field) => `  - ${markdownText(conflictField(field))}`),
    ],
  );
  appendAll(lines, section(titles.conflicts, conflicts.count, conflicts.lines));

  const { before, after } = titles.change;
  const changed = perTable(
    body,
    (table) => table.updated,
    (row) => [
      `- ${rowLink(row.rowName, row.rowId, row.browserLink)} (${row.rowId})`,
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
    (row) => [`- ${rowLink(row.rowName, row.rowId, row.browserLink)} (${row.rowId})`],
  );
  appendAll(lines, section(titles.inserted, inserted.count, inserted.lines));

  const unresolved = perTable(
    body,
    (table) => table.unresolved,
    (link) => [
      `- ${rowLink(link.rowName, link.rowId, link.browserLink)} (${link.rowId}): ${markdownText(link.reason)}`,
    ],
  );
  appendAll(lines, section(titles.unresolved, unresolved.count, unresolved.lines));

  const gone = perTable(
    body,
    (table) => table.goneFromCoda,
    (row) => [`- ${rowLink(row.rowName, row.rowId, row.browserLink)} (${row.rowId}, erp id ${row.targetId})`],
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
