/**
 * report.html: one self-contained page for the business owner. No scripts and nothing fetched
 * from anywhere: the styles and the chart (SVG) are inline, so it opens the same offline, from
 * an e-mail attachment or a file share. Every piece of text from Coda is escaped: a row named
 * <script> is shown as those characters, never run.
 */
import type { RunReport } from '../load/run.ts';
import type { Difference } from '../load/reconcile/types.ts';
import type { RunReject } from '../load/core/reasons.ts';
import type { ListedRows } from '../shared/spooled-list.ts';
import {
  conflictField,
  conflictWinner,
  cappedPerTable,
  changeText,
  abandonedRunLines,
  countsPerTable,
  isRefused,
  listedDifferences,
  headline,
  runTitle,
  sectionTitles,
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
import { capped, acceptedBy, moreLine, safeLink } from './lists.ts';
import {
  COVERAGE_TITLES,
  coverageEntryDetail,
  coverageEntryName,
  coverageSection,
  type CoverageEntry,
  type CoverageSection,
} from './coverage-words.ts';
import {
  differenceDetail,
  differenceGroups,
  differenceName,
  describeDifference,
  totalName,
} from './differences.ts';
import { outcomeNoteText, reasonsText, reasonText } from './reasons.ts';
import { rejectGroups } from './reject-groups.ts';
import { REPORT_GLOSSARY } from './glossary.ts';
import {
  chart,
  escapeHtml,
  groupItem,
  loadSegments,
  RECONCILE_SEGMENTS,
  rowLink,
  shown,
  table,
  tableName,
  value,
} from './html-elements.ts';
import { signOff } from './sign-off.ts';
import { wordsOf, type Words } from './words.ts';

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; margin: 0; background: #f8f9fa; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
.outcome { border-radius: 8px; padding: 16px 20px; margin: 8px 0 20px; border-left: 8px solid; background: #fff; }
.outcome h1 { font-size: 22px; margin: 0 0 4px; }
.outcome p { margin: 4px 0 0; }
.outcome ul { margin: 8px 0 0; }
.outcome .next code, code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; background: #f1f3f5; padding: 1px 4px; border-radius: 3px; }
p.doc { color: #495057; margin: 16px 0 0; }
details.rows summary { color: #1971c2; }
dl.glossary dt { font-weight: 600; margin-top: 6px; } dl.glossary dd { margin: 0 0 0 16px; }
section.technical { font-size: 13px; color: #495057; }
.outcome.good { border-color: #2b8a3e; } .outcome.good h1 { color: #2b8a3e; }
.outcome.info { border-color: #1971c2; } .outcome.info h1 { color: #1971c2; }
.outcome.warn { border-color: #e67700; } .outcome.warn h1 { color: #e67700; }
.outcome.bad { border-color: #c92a2a; } .outcome.bad h1 { color: #c92a2a; }
summary { cursor: pointer; } summary h2 { display: inline; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 20px; }
.card { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 110px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card .number { font-size: 26px; font-weight: 600; }
.card .what { font-size: 13px; color: #495057; }
section { background: #fff; border-radius: 8px; padding: 12px 20px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 18px; margin: 4px 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; color: #495057; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e9ecef; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #adb5bd; }
.differs { color: #c92a2a; font-weight: 600; }
ul { margin: 4px 0; padding-left: 22px; }
li { margin: 3px 0; }
.value { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; background: #f1f3f5; padding: 0 3px; border-radius: 3px; white-space: pre-wrap; word-break: break-word; }
.id { color: #868e96; font-size: 12px; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
`;

/** `folded`: a long list the owner rarely needs row by row starts closed (a <details>, no script). */
function listSection<T>(
  title: string,
  body: ReportBody,
  pick: (table: ReportBody['tables'][number]) => ListedRows<T>,
  describe: (item: T, table: ReportBody['tables'][number]) => string,
  { folded = false, rows }: { folded?: boolean; rows?: number } = {},
): string {
  const { groups, count, more } = cappedPerTable(body.tables, pick);
  if (!count) return '';
  const parts = groups.map(
    ({ table: entry, shown: items }) =>
      `<h3>${tableName(entry.codaTable.name, entry.target)}</h3><ul>${items.map((item) => describe(item, entry)).join('')}</ul>`,
  );
  if (more) parts.push(`<p>${escapeHtml(moreLine(more))}</p>`);
  const content = parts.join('');
  const heading = `${escapeHtml(title)} (${rows ?? count})`;
  return folded
    ? `<section><details><summary><h2>${heading}</h2></summary>${content}</details></section>`
    : `<section><h2>${heading}</h2>${content}</section>`;
}

function differenceSection(
  title: string,
  items: readonly Difference[],
  body: ReportBody,
  words: Words,
): string {
  if (!items.length) return '';
  const { shown, more } = capped(items);
  const row = (item: Difference) => {
    const detail = differenceDetail(item, words);
    return `${rowLink(differenceName(item), item.row.browserLink)}${detail ? `: ${escapeHtml(detail)}` : ''}`;
  };
  const lines = differenceGroups(shown, body, words).map((group) =>
    groupItem(
      group,
      row,
      (item) =>
        `${escapeHtml(words.table(item.target))}: ${rowLink(differenceName(item), item.row.browserLink)} ${escapeHtml(describeDifference(item, words))}${group.advice ? `<br>${escapeHtml(group.advice)}` : ''}${item.acceptedByRun ? ` <span class="id">${escapeHtml(acceptedBy(item))}</span>` : ''}`,
    ),
  );
  return `<section><h2>${escapeHtml(title)} (${items.length})</h2><ul>${lines.join('')}</ul>${more ? `<p>${escapeHtml(moreLine(more))}</p>` : ''}</section>`;
}

/** What of the doc is left behind (a decision), and apart from it what is skipped on purpose (information). */
function coverageHtml(coverage: CoverageSection): { leftBehind: string; skipped: string } {
  const entry = (item: CoverageEntry) => {
    const link = safeLink(item.table.browserLink);
    const name = escapeHtml(coverageEntryName(item));
    return `<li>${link ? `<a href="${escapeHtml(link)}">${name}</a>` : name}: ${escapeHtml(coverageEntryDetail(item))}</li>`;
  };
  const part = (title: string, items: CoverageEntry[], after = '') =>
    items.length
      ? `<section><h2>${escapeHtml(title)} (${items.length})</h2><ul>${items.map(entry).join('')}</ul>${after}</section>`
      : '';
  return {
    leftBehind: part(
      COVERAGE_TITLES.leftBehind,
      coverage.leftBehind,
      coverage.advice ? `<p>${escapeHtml(coverage.advice)}</p>` : '',
    ),
    skipped: `${part(COVERAGE_TITLES.skipped, coverage.skipped)}${coverage.empty ? `<p class="id">${escapeHtml(coverage.empty)}</p>` : ''}`,
  };
}

/** Each total that rejected rows or text cells touch, walked from Coda to Postgres row by row. */
function bridge(body: ReportBody): string {
  const walks: string[] = [];
  for (const total of body.reconciliation?.totals ?? []) {
    if (!hasWalk(total)) continue;
    const rejected = listedShares(total.rejected);
    const unconverted = listedShares(total.notConverted);
    const text = capped(total.notANumber);
    const steps = [
      `<li>Coda: ${escapeHtml(figureText(total, total.coda))}</li>`,
      ...rejected.shown.map(
        (row) =>
          `<li>${escapeHtml(minus(row.share))} ${rowLink(row.rowName, row.browserLink)} rejected: ${escapeHtml(reasonsText(row.reasons))}</li>`,
      ),
      ...(rejected.more ? [`<li>${escapeHtml(moreSharesLine(rejected.more, rejected.rest))}</li>`] : []),
      ...unconverted.shown.map(
        (row) =>
          `<li>${escapeHtml(minus(row.share))} ${rowLink(row.rowName, row.browserLink)} not converted ${value(row.value)}: ${escapeHtml(reasonsText(row.reasons))}</li>`,
      ),
      ...(unconverted.more
        ? [`<li>${escapeHtml(moreSharesLine(unconverted.more, unconverted.rest))}</li>`]
        : []),
      ...(total.extra.rows
        ? [`<li>+ ${escapeHtml(figureText(total, total.extra))} in Postgres that this read did not load</li>`]
        : []),
      ...(total.unexplained !== '0'
        ? [`<li class="differs">${escapeHtml(minus(total.unexplained))} unexplained</li>`]
        : []),
      `<li>= Postgres: ${escapeHtml(figureText(total, total.postgres))}</li>`,
      ...text.shown.map(
        (row) =>
          `<li>Not a number, on neither side: ${value(row.value)} in ${rowLink(row.rowName, row.browserLink)}: ${escapeHtml(reasonsText(row.reasons))}</li>`,
      ),
      ...(text.more ? [`<li>${escapeHtml(moreLine(text.more))}</li>`] : []),
    ];
    walks.push(`<h3>${escapeHtml(totalName(total))}</h3><ul>${steps.join('')}</ul>`);
  }
  return walks.length ? `<h3>${escapeHtml(sectionTitles(body).bridge)}</h3>${walks.join('')}` : '';
}

/** The sign-off sentence first, then what happened, why, what is left to decide and the next command. */
function lead(body: ReportBody, header: ReportHeader): string {
  const verdict = signOff(body);
  const decisions = verdict.decisions.length
    ? `<ul class="decisions">${verdict.decisions.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`
    : '';
  const next = verdict.next
    ? `<p class="next">Next: <code>${escapeHtml(verdict.next.command)}</code> (${escapeHtml(verdict.next.why)})</p>`
    : '';
  return `<div class="outcome ${verdict.tone}"><h1>${escapeHtml(verdict.sentence)}</h1><p>${escapeHtml(headline(body))}</p>${
    body.outcomeNote ? `<p>Why: ${escapeHtml(outcomeNoteText(body.outcomeNote))}</p>` : ''
  }${decisions}${next}${abandonedRunLines(header)
    .map((line) => `<p>${escapeHtml(line)}</p>`)
    .join('')}</div>`;
}

function glossary(): string {
  return `<section><h2>Words used in this report</h2><dl class="glossary">${REPORT_GLOSSARY.map(
    ({ term, meaning }) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(meaning)}</dd>`,
  ).join('')}</dl></section>`;
}

function technical(header: ReportHeader): string {
  const seconds = Object.entries(header.secondsByTable).map(
    ([target, time]) => `${target}: ${time.toFixed(2)} s`,
  );
  return `<section class="technical"><h2>${TECHNICAL_DETAILS}</h2><ul>${[
    ...technicalDetails(header),
    ...(seconds.length ? [`Time per table: ${seconds.join(', ')}`] : []),
  ]
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('')}</ul></section>`;
}

function htmlPage(body: ReportBody, header: ReportHeader): string {
  const titles = sectionTitles(body);
  const words = wordsOf(body.vocabulary);
  const what = runTitle(body.mode);
  const reconciling = body.mode === 'reconcile' && body.reconciliation;
  const { columns, rows, totals } = countsPerTable(body);

  const cards = columns
    .map(
      (column, index) =>
        `<div class="card"><div class="number">${totals[index] ?? 0}</div><div class="what">${escapeHtml(column)}</div></div>`,
    )
    .join('');
  const chartRows = reconciling
    ? body.reconciliation!.tables.map((entry) => ({
        table: entry.codaTable.name,
        values: [entry.matched, entry.differ, entry.missing, entry.extra, entry.rejected],
      }))
    : body.tables.map((entry) => ({
        table: entry.codaTable.name,
        values: [entry.inserted.length, entry.updated.length, entry.unchanged, entry.rejects.length],
      }));
  const perTable = table(
    ['Coda table', ...columns],
    [
      ...rows.map((row) => [tableName(row.name, row.target), ...row.counts.map(String)]),
      ['Total', ...totals.map(String)],
    ],
    { total: true },
  );
  const counts = rows.length
    ? `<div class="cards">${cards}</div><section><h2>Rows per table</h2>${chart(chartRows, reconciling ? RECONCILE_SEGMENTS : loadSegments(columns))}${perTable}</section>`
    : '';

  const textCells = body.reconciliation?.totals.some((total) => total.notANumber.length);
  const businessTotals = body.reconciliation?.totals.length
    ? `<section><h2>${escapeHtml(titles.totals)}</h2><p class="id">${escapeHtml(titles.totalsNote)}</p>${table(
        ['Total', ...BRIDGE_COLUMNS, ...(textCells ? [TEXT_CELLS_COLUMN] : [])],
        body.reconciliation.totals.map((total) => [
          escapeHtml(totalName(total)),
          ...bridgeFigures(total).map(escapeHtml),
          total.unexplained === '0' ? '0' : `<span class="differs">${escapeHtml(total.unexplained)}</span>`,
          ...(textCells ? [escapeHtml(textCellsText(total))] : []),
        ]),
      )}${bridge(body)}</section>`
    : '';

  const rejectRow = ({ source, problems }: RunReject) =>
    `${rowLink(source.rowName, source.browserLink)}: ${escapeHtml(reasonsText(problems.map((problem) => problem.reason)))}`;
  const rejects = listSection(
    titles.rejects,
    body,
    (entry) => rejectGroups(entry),
    (group) =>
      groupItem(
        group,
        ({ source }) => rowLink(source.rowName, source.browserLink),
        (reject) => `${rejectRow(reject)}<br>${escapeHtml(group.advice ?? '')}`,
      ),
    { rows: body.tables.reduce((sum, entry) => sum + entry.rejects.length, 0) },
  );
  const conflicts = listSection(
    titles.conflicts,
    body,
    (entry) => entry.conflicts,
    (conflict, entry) =>
      `<li>${rowLink(conflict.rowName, conflict.browserLink)} <span class="id">${escapeHtml(conflict.rowId)}</span>: ${escapeHtml(conflictWinner(conflict))}<ul>${conflict.fields.map((field) => `<li>${escapeHtml(conflictField(field, entry.target, words))}</li>`).join('')}</ul></li>`,
  );
  const { before, after } = titles.change;
  const sections = [
    listSection(
      titles.updated,
      body,
      (entry) => entry.updated,
      (row, entry) =>
        `<li>${rowLink(row.rowName, row.browserLink)}<ul>${row.changes
          .map((change) => {
            const text = changeText(change, entry.target, words);
            return `<li>${escapeHtml(text.column)}: ${shown(text.before)} <span class="id">${before}</span> → ${shown(text.after)} <span class="id">${after}</span></li>`;
          })
          .join('')}</ul></li>`,
    ),
    listSection(
      titles.inserted,
      body,
      (entry) => entry.inserted,
      (row) => `<li>${rowLink(row.rowName, row.browserLink)}</li>`,
      { folded: body.mode !== 'reconcile' },
    ),
    listSection(
      titles.unresolved,
      body,
      (entry) => entry.unresolved,
      (link) => `<li>${rowLink(link.rowName, link.browserLink)}: ${escapeHtml(reasonText(link.reason))}</li>`,
    ),
    listSection(
      titles.goneFromCoda,
      body,
      (entry) => entry.goneFromCoda,
      (row) =>
        `<li>${rowLink(row.rowName, row.browserLink)} <span class="id">erp id ${escapeHtml(row.targetId)}</span></li>`,
    ),
  ];
  const notFromCoda = (body.reconciliation?.tables ?? []).flatMap((entry) =>
    entry.notFromCoda.map((row) => ({ ...row, name: entry.codaTable.name })),
  );
  if (notFromCoda.length) {
    const { shown: listed, more } = capped(notFromCoda);
    sections.push(
      `<section><h2>${escapeHtml(titles.notFromCoda)} (${notFromCoda.length})</h2><ul>${listed.map((row) => `<li>${escapeHtml(row.name)}: ${escapeHtml(row.label)} <span class="id">erp id ${escapeHtml(row.targetId)}</span></li>`).join('')}</ul>${more ? `<p>${escapeHtml(moreLine(more))}</p>` : ''}</section>`,
    );
  }
  const { fresh, accepted } = listedDifferences(body);
  const coverage = coverageHtml(coverageSection(body));
  const differences = [
    differenceSection(titles.newDifferences, fresh, body, words),
    differenceSection(titles.acceptedDifferences, accepted, body, words),
  ].join('');
  // A refused cutover shows what refused it right under the lead, before what it would have done.
  const main = isRefused(body)
    ? [
        conflicts,
        coverage.leftBehind,
        rejects,
        differences,
        counts,
        businessTotals,
        ...sections,
        coverage.skipped,
      ]
    : [
        counts,
        coverage.leftBehind,
        coverage.skipped,
        differences,
        businessTotals,
        rejects,
        conflicts,
        ...sections,
      ];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${what}: ${body.doc.name}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="doc">${escapeHtml(`${what} of the Coda doc "${body.doc.name}"`)}</p>
${lead(body, header)}
${main.filter(Boolean).join('\n')}
${glossary()}
${technical(header)}
</main>
</body>
</html>
`;
}

export function htmlReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return htmlPage(body, header);
}
