/**
 * The report of `erp undo` (and of `erp undo --dry-run`, its plan), in the forms a plan has:
 * summary.txt (what the terminal shows), report.md, report.html and report.json.
 */
import type { UndoBlocker, UndoReport, UndoRow, UndoTable } from '../load/undo/types.ts';
import { hasName } from '../shared/names.ts';
import { abandonedRunLines, TECHNICAL_DETAILS } from './document.ts';
import { plural, safeLink } from './lists.ts';
import { escapeHtml } from './html-elements.ts';
import { markdownText } from './markdown.ts';
import { outcomeNoteText } from './reasons.ts';
import { erpCommand, type SignOff } from './sign-off.ts';
import { showValue } from './words.ts';
import { writeReportFiles, type REPORT_FILES } from './write.ts';

const ROWS_SHOWN_ON_TERMINAL = 20;
/** Per list in report.md and report.html; report.json holds every row. */
const ROWS_SHOWN_IN_DOCUMENTS = 500;

const more = (count: number) =>
  count > ROWS_SHOWN_IN_DOCUMENTS
    ? [`… and ${count - ROWS_SHOWN_IN_DOCUMENTS} more, all listed in report.json`]
    : [];

function totals(report: UndoReport): { removed: number; restored: number } {
  return report.tables.reduce(
    (sum, table) => ({
      removed: sum.removed + table.removed.length,
      restored: sum.restored + table.restored.length,
    }),
    { removed: 0, restored: 0 },
  );
}

function cutoverName(report: UndoReport): string {
  return `cutover ${report.undoneRun.id} of ${report.undoneRun.startedAt.slice(0, 10)}`;
}

function undoHeadline(report: UndoReport): string {
  const { removed, restored } = totals(report);
  const what = `${removed} row(s) the cutover inserted removed, ${restored} row(s) it changed given their earlier values back`;
  const kept = report.kept
    ? ` ${report.blockers.length} row(s) changed since were kept as they are now.`
    : '';
  switch (report.outcome) {
    case 'undone':
      return `Undone: ${cutoverName(report)}. ${what}.${kept}`;
    case 'planned':
      return `Dry run: nothing was changed. Undoing ${cutoverName(report)} now would have ${what}.${kept}`;
    case 'rolled_back':
      return `Undo refused: nothing was changed. ${report.blockers.length} row(s) were changed in Postgres or are needed by other rows since ${cutoverName(report)}.`;
  }
}

/** What the owner does after this undo, in the words every report opens with. */
function undoSignOff(report: UndoReport): SignOff {
  const again = (...flags: string[]) => erpCommand('undo', null, '--run', report.undoneRun.id, ...flags);
  switch (report.outcome) {
    case 'undone':
      return {
        tone: 'good',
        sentence: `Done: ${cutoverName(report)} is taken back${report.kept ? ', apart from the rows listed below as kept' : ''}; nothing to decide.`,
        decisions: [],
        next: {
          command: erpCommand('plan', null),
          why: 'shows what a new cutover would load, when you are ready for one',
        },
      };
    case 'planned':
      return {
        tone: 'info',
        sentence: 'Nothing was changed: this is what the undo would do.',
        decisions: [],
        next: { command: again(...(report.kept ? ['--keep-changed'] : [])), why: 'takes the cutover back' },
      };
    case 'rolled_back':
      return {
        tone: 'bad',
        sentence: 'Not yet: the undo was refused and nothing was changed; 1 thing to decide.',
        decisions: [
          `${plural(report.blockers.length, 'row')} changed in Postgres or needed by other rows since the cutover (listed below): keep them as they are now and undo the rest with ${again('--keep-changed')}, or put them back as the cutover left them and undo again.`,
        ],
        next: { command: again('--keep-changed'), why: 'once you decided to keep those rows' },
      };
  }
}

function technicalLines(report: UndoReport): string[] {
  return [
    `Run number: ${report.runId}`,
    `Started: ${report.startedAt}`,
    `Finished: ${report.finishedAt}`,
    `Cutover read: ${report.undoneRun.source}`,
  ];
}

const signOffLines = (verdict: SignOff) => [
  verdict.sentence,
  ...verdict.decisions.map((line) => `  - ${line}`),
  ...(verdict.next ? [`Next: ${verdict.next.command}  (${verdict.next.why})`] : []),
];

/** Why the undo took back this cutover and not a later one, and runs found abandoned on the way. */
function noticeLines(report: UndoReport): string[] {
  const skipped = report.skippedRuns.map((run) => `cutover ${run.id} of ${run.startedAt.slice(0, 10)}`);
  return [
    ...(skipped.length
      ? [
          `Skipped ${skipped.join(', ')}: ${skipped.length > 1 ? 'they' : 'it'} changed no row, so the undo reaches ${cutoverName(report)}, the last cutover that changed something; ${skipped.length > 1 ? 'they are' : 'it is'} marked undone with it.`,
        ]
      : []),
    ...abandonedRunLines(report),
  ];
}

const titles = (report: UndoReport) => ({
  blockers: report.kept ? 'Rows kept as they are now' : 'Rows that stop the undo',
  removed: 'Rows removed (the cutover inserted them)',
  restored: 'Rows given their earlier values back (field: now -> earlier)',
});

function blockerReason(blocker: UndoBlocker): string {
  if (blocker.reason === 'depended')
    return `other rows point at it (${blocker.dependants.join(', ')}); removing it would break or empty their link`;
  if (!blocker.changes.length) return 'deleted in Postgres after the cutover';
  return `edited in Postgres after the cutover: ${blocker.changes.map((change) => `${change.label} ${showValue(change.before)} -> ${showValue(change.after)}`).join(', ')}`;
}

/** A table as the owner knows it: the Coda table's name, or the erp table's where no mapping names one. */
type TableName = (erpTable: string) => string;
const tableNames =
  (report: UndoReport): TableName =>
  (erpTable) =>
    report.codaTables[erpTable] ?? erpTable;

const rowName = (row: UndoRow, named: TableName) =>
  hasName(row.name) ? row.name : `a ${named(row.table)} row with no name`;

function plainRow(row: UndoRow, named: TableName): string {
  return `${named(row.table)}: ${rowName(row, named)}${row.browserLink ? ` ${row.browserLink}` : ''}`;
}

function changesText(row: UndoTable['restored'][number]): string {
  return row.changes
    .map((change) => `${change.label} ${showValue(change.before)} -> ${showValue(change.after)}`)
    .join(', ');
}

export function formatUndoTerminal(report: UndoReport): string {
  const named = tableNames(report);
  const lines = [
    `Undo of ${cutoverName(report)}${report.dryRun ? ' (dry run)' : ''}`,
    '',
    undoSignOff(report).sentence,
    '',
    ...report.tables.map(
      (table) =>
        `  ${named(table.target)} (${table.target}): ${table.removed.length} removed, ${table.restored.length} restored`,
    ),
  ];
  if (report.blockers.length) {
    lines.push('', `${titles(report).blockers}:`);
    for (const blocker of report.blockers.slice(0, ROWS_SHOWN_ON_TERMINAL))
      lines.push(`  ${plainRow(blocker, named)}: ${blockerReason(blocker)}`);
    if (report.blockers.length > ROWS_SHOWN_ON_TERMINAL)
      lines.push(`  … and ${report.blockers.length - ROWS_SHOWN_ON_TERMINAL} more in the report`);
  }
  lines.push('', ...noticeLines(report), undoHeadline(report));
  if (report.outcomeNote) lines.push(`Why: ${outcomeNoteText(report.outcomeNote)}`);
  lines.push('', ...technicalLines(report), '', ...signOffLines(undoSignOff(report)));
  return `${lines.join('\n')}\n`;
}

function markdownRow(row: UndoRow, named: TableName): string {
  const text = markdownText(rowName(row, named));
  const link = row.browserLink ? safeLink(row.browserLink) : null;
  return link ? `[${text}](<${link}>)` : text;
}

function markdownUndo(report: UndoReport): string {
  const named = tableNames(report);
  const heading = titles(report);
  const verdict = undoSignOff(report);
  const lines = [
    `# Undo of ${cutoverName(report)}${report.dryRun ? ' (dry run)' : ''}`,
    '',
    `**${markdownText(verdict.sentence)}**`,
    '',
    ...noticeLines(report).map((line) => `- **${markdownText(line)}**`),
    markdownText(undoHeadline(report)),
    '',
    ...verdict.decisions.map((line) => `- ${markdownText(line)}`),
    ...(verdict.next ? ['', `Next: \`${verdict.next.command}\` (${markdownText(verdict.next.why)})`] : []),
    '',
    ...(report.outcomeNote ? [`Why: ${markdownText(outcomeNoteText(report.outcomeNote))}`, ''] : []),
    '| table | removed | restored |',
    '| --- | ---: | ---: |',
    ...report.tables.map(
      (table) =>
        `| ${markdownText(named(table.target))} <sub>${table.target}</sub> | ${table.removed.length} | ${table.restored.length} |`,
    ),
    '',
  ];
  const list = (title: string, rows: string[]) =>
    rows.length
      ? [
          `## ${title} (${rows.length})`,
          '',
          ...rows.slice(0, ROWS_SHOWN_IN_DOCUMENTS),
          ...more(rows.length),
          '',
        ]
      : [];
  lines.push(
    ...list(
      heading.blockers,
      report.blockers.map(
        (blocker) =>
          `- ${markdownText(named(blocker.table))}: ${markdownRow(blocker, named)}: ${markdownText(blockerReason(blocker))}`,
      ),
    ),
    ...list(
      heading.removed,
      report.tables.flatMap((table) =>
        table.removed.map((row) => `- ${markdownText(named(row.table))}: ${markdownRow(row, named)}`),
      ),
    ),
    ...list(
      heading.restored,
      report.tables.flatMap((table) =>
        table.restored.map(
          (row) =>
            `- ${markdownText(named(row.table))}: ${markdownRow(row, named)}: ${markdownText(changesText(row))}`,
        ),
      ),
    ),
    `## ${TECHNICAL_DETAILS}`,
    '',
    ...technicalLines(report).map((line) => `- ${markdownText(line)}`),
  );
  return `${lines.join('\n')}\n`;
}

function htmlRow(row: UndoRow, named: TableName): string {
  const link = row.browserLink ? safeLink(row.browserLink) : null;
  const text = escapeHtml(rowName(row, named));
  return `${escapeHtml(named(row.table))}: ${link ? `<a href="${escapeHtml(link)}">${text}</a>` : text}`;
}

function htmlUndo(report: UndoReport): string {
  const named = tableNames(report);
  const heading = titles(report);
  const verdict = undoSignOff(report);
  const tone = { good: '#2b8a3e', info: '#1971c2', warn: '#e67700', bad: '#c92a2a' }[verdict.tone];
  const list = (title: string, items: string[]) =>
    items.length
      ? `<section><h2>${escapeHtml(title)} (${items.length})</h2><ul>${items.slice(0, ROWS_SHOWN_IN_DOCUMENTS).join('')}</ul>${more(
          items.length,
        )
          .map((line) => `<p>${escapeHtml(line)}</p>`)
          .join('')}</section>`
      : '';
  const counts = report.tables
    .map(
      (table) =>
        `<tr><td>${escapeHtml(named(table.target))} <span class="id">${escapeHtml(table.target)}</span></td><td>${table.removed.length}</td><td>${table.restored.length}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`Undo of ${cutoverName(report)}`)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:16px 24px}h1{color:${tone};font-size:22px}td,th{padding:2px 10px;text-align:left}.id{color:#868e96;font-size:12px}</style></head>
<body><h1>${escapeHtml(verdict.sentence)}</h1>${noticeLines(report)
    .map((line) => `<p><strong>${escapeHtml(line)}</strong></p>`)
    .join(
      '',
    )}<p>${escapeHtml(undoHeadline(report))}</p>${report.outcomeNote ? `<p>Why: ${escapeHtml(outcomeNoteText(report.outcomeNote))}</p>` : ''}${
    verdict.decisions.length
      ? `<ul>${verdict.decisions.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`
      : ''
  }${verdict.next ? `<p>Next: <code>${escapeHtml(verdict.next.command)}</code> (${escapeHtml(verdict.next.why)})</p>` : ''}
<table><tr><th>table</th><th>removed</th><th>restored</th></tr>${counts}</table>
${list(
  heading.blockers,
  report.blockers.map(
    (blocker) => `<li>${htmlRow(blocker, named)}: ${escapeHtml(blockerReason(blocker))}</li>`,
  ),
)}${list(
  heading.removed,
  report.tables.flatMap((table) => table.removed.map((row) => `<li>${htmlRow(row, named)}</li>`)),
)}${list(
  heading.restored,
  report.tables.flatMap((table) =>
    table.restored.map((row) => `<li>${htmlRow(row, named)}: ${escapeHtml(changesText(row))}</li>`),
  ),
)}
<h2>${TECHNICAL_DETAILS}</h2><ul>${technicalLines(report)
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('')}</ul>
</body></html>
`;
}

export function writeUndoReports(
  runDir: string,
  report: UndoReport,
  terminalText: string,
): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  return writeReportFiles(runDir, {
    'summary.txt': terminalText,
    'report.md': markdownUndo(report),
    'report.html': htmlUndo(report),
    'report.json': `${JSON.stringify(report, null, 2)}\n`,
  });
}
