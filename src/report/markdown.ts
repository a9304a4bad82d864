/**
 * report.md: the run in Markdown, for a reader who opens it in an editor or on a code host.
 * The header (run id, times, source, backup) comes first and alone; everything after it is the
 * deterministic body, which the golden tests compare.
 */
import type { RunReport } from '../load/run.ts';
import {
  conflictField,
  conflictWinner,
  countsPerTable,
  headline,
  runTitle,
  safeLink,
  sectionTitles,
  showValue,
  splitReport,
  type ReportBody,
  type ReportHeader,
} from './document.ts';

/** Coda text as literal Markdown text on one line: no markup, no HTML, no table breaks. */
export function markdownText(text: string): string {
  return text
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ')
    .replace(/[\\`*_[\]{}<>#|!~&]/g, (character) => `\\${character}`);
}

function rowLink(name: string, fallback: string, url: string): string {
  const text = markdownText(name || fallback);
  const link = safeLink(url);
  return link ? `[${text}](<${link}>)` : text;
}

function markdownTable(headers: readonly string[], rows: string[][]): string[] {
  const align = headers.map((_, index) => (index === 0 ? '---' : '---:'));
  return [
    `| ${headers.join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
}

function section(title: string, count: number, lines: string[]): string[] {
  return count ? [`## ${title} (${count})`, '', ...lines, ''] : [];
}

function perTable<T>(
  body: ReportBody,
  pick: (table: ReportBody['tables'][number]) => T[],
  describe: (item: T) => string[],
): { count: number; lines: string[] } {
  const lines: string[] = [];
  let count = 0;
  for (const table of body.tables) {
    const items = pick(table);
    if (!items.length) continue;
    count += items.length;
    lines.push(
      `### ${table.target} (Coda table ${markdownText(table.codaTable.name)})`,
      '',
      ...items.flatMap(describe),
      '',
    );
  }
  return { count, lines };
}

function markdownHeader(body: Pick<ReportBody, 'mode' | 'doc'>, header: ReportHeader): string {
  return [
    `# ${runTitle(body.mode)} of "${markdownText(body.doc.name)}"`,
    '',
    `- Run: ${header.runId}`,
    `- Started: ${header.startedAt}`,
    `- Finished: ${header.finishedAt}`,
    `- Source: ${markdownText(header.source)}`,
    ...(header.backup ? [`- Backup (${header.backup.kind}): ${markdownText(header.backup.path)}`] : []),
    '',
    '---',
    '',
    '',
  ].join('\n');
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
  lines.push(
    ...markdownTable(
      ['Table', ...columns],
      [...rows.map((row) => [row.target, ...row.counts.map(String)]), ['**Total**', ...totals.map(String)]],
    ),
  );
  if (reconciliation?.totals.length) {
    lines.push(`## ${titles.totals}`, '', markdownText(titles.totalsNote), '');
    lines.push(
      ...markdownTable(
        ['Total', 'Coda', 'Postgres', 'Agrees'],
        reconciliation.totals.map((total) => [
          markdownText(total.label),
          total.coda,
          total.postgres,
          total.coda === total.postgres ? 'yes' : '**NO**',
        ]),
      ),
    );
  }

  const rejects = perTable(
    body,
    (table) => table.rejects,
    (reject) => [
      `- ${rowLink(reject.source.rowName, reject.source.rowId, reject.source.browserLink)} (${reject.source.rowId})`,
      ...reject.problems.map((problem) => `  - ${markdownText(problem.reason)}`),
    ],
  );
  lines.push(...section(titles.rejects, rejects.count, rejects.lines));

  const conflicts = perTable(
    body,
    (table) => table.conflicts,
    (conflict) => [
      `- ${rowLink(conflict.rowName, conflict.rowId, conflict.browserLink)} (${conflict.rowId}): ${markdownText(conflictWinner(conflict))}`,
      ...conflict.fields.map((field) => `  - ${markdownText(conflictField(field))}`),
    ],
  );
  lines.push(...section(titles.conflicts, conflicts.count, conflicts.lines));

  const { before, after } = titles.change;
  const changed = perTable(
    body,
    (table) => table.updated,
    (row) => [
      `- ${rowLink(row.rowName, row.rowId, row.browserLink)} (${row.rowId})`,
      ...row.changes.map(
        (change) =>
          `  - ${markdownText(change.column)}: ${markdownText(showValue(change.before))} (${before}) → ${markdownText(showValue(change.after))} (${after})`,
      ),
    ],
  );
  lines.push(...section(titles.updated, changed.count, changed.lines));

  const inserted = perTable(
    body,
    (table) => table.inserted,
    (row) => [`- ${rowLink(row.rowName, row.rowId, row.browserLink)} (${row.rowId})`],
  );
  lines.push(...section(titles.inserted, inserted.count, inserted.lines));

  const unresolved = perTable(
    body,
    (table) => table.unresolved,
    (link) => [
      `- ${rowLink(link.rowName, link.rowId, link.browserLink)} (${link.rowId}): ${markdownText(link.reason)}`,
    ],
  );
  lines.push(...section(titles.unresolved, unresolved.count, unresolved.lines));

  const gone = perTable(
    body,
    (table) => table.goneFromCoda,
    (row) => [`- id ${row.targetId}: Coda row ${rowLink('', row.rowId, row.browserLink)}`],
  );
  lines.push(...section(titles.goneFromCoda, gone.count, gone.lines));

  const notFromCoda = (reconciliation?.tables ?? []).flatMap((table) =>
    table.notFromCoda.map((row) => `- ${table.target} id ${row.targetId}: ${markdownText(row.label)}`),
  );
  lines.push(...section(titles.notFromCoda, notFromCoda.length, notFromCoda));

  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n+$/, '')}\n`;
}

export function markdownReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return markdownHeader(body, header) + markdownBody(body);
}
