/**
 * report.html: one self-contained page for the business owner. No scripts and nothing fetched
 * from anywhere: the styles and the chart (SVG) are inline, so it opens the same offline, from
 * an e-mail attachment or a file share. Every piece of text from Coda is escaped: a row named
 * <script> is shown as those characters, never run.
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
  moreLine,
  listedDifferences,
  parentGroupAdvice,
  parentGroupHeadline,
  rejectEntries,
  totalName,
  headline,
  runTitle,
  safeLink,
  sectionTitles,
  showValue,
  splitReport,
  type ReportBody,
  type ReportHeader,
} from './document.ts';
import type { ListedRows } from '../shared/spooled-list.ts';

export function escapeHtml(text: string): string {
  return visible(text, { keepLayout: true }).replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; margin: 0; background: #f8f9fa; }
header.run { background: #343a40; color: #dee2e6; padding: 8px 24px; font-size: 13px; }
header.run span { margin-right: 18px; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
.outcome { border-radius: 8px; padding: 16px 20px; margin: 8px 0 20px; border-left: 8px solid; background: #fff; }
.outcome h1 { font-size: 22px; margin: 0 0 4px; }
.outcome p { margin: 4px 0 0; }
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

interface Segment {
  label: string;
  color: string;
}

const LOAD_SEGMENTS: Segment[] = [
  { label: 'inserted', color: '#2b8a3e' },
  { label: 'updated', color: '#f08c00' },
  { label: 'unchanged', color: '#adb5bd' },
  { label: 'rejected', color: '#c92a2a' },
];
const RECONCILE_SEGMENTS: Segment[] = [
  { label: 'matched', color: '#2b8a3e' },
  { label: 'differ', color: '#f08c00' },
  { label: 'missing', color: '#1971c2' },
  { label: 'extra', color: '#7048e8' },
  { label: 'rejected', color: '#c92a2a' },
];

/** Per-table stacked bars, one per table, scaled to the largest table. */
function chart(rows: { table: string; values: number[] }[], segments: Segment[]): string {
  const labelWidth = 200;
  const barWidth = 560;
  const rowHeight = 24;
  const largest = rows.reduce(
    (most, row) =>
      Math.max(
        most,
        row.values.reduce((sum, value) => sum + value, 0),
      ),
    1,
  );
  const bars = rows.map((row, index) => {
    const y = index * rowHeight;
    let x = labelWidth;
    const pieces = row.values.map((value, segment) => {
      const width = (value / largest) * barWidth;
      const piece = value
        ? `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${width.toFixed(1)}" height="${rowHeight - 8}" fill="${segments[segment]!.color}"><title>${escapeHtml(`${row.table}: ${value} ${segments[segment]!.label}`)}</title></rect>`
        : '';
      x += width;
      return piece;
    });
    const total = row.values.reduce((sum, value) => sum + value, 0);
    return `<text x="${labelWidth - 8}" y="${y + rowHeight / 2 + 4}" text-anchor="end">${escapeHtml(row.table)}</text>${pieces.join('')}<text x="${(x + 6).toFixed(1)}" y="${y + rowHeight / 2 + 4}">${total}</text>`;
  });
  const height = rows.length * rowHeight;
  const legend = segments
    .map((segment) => `<span><i style="background:${segment.color}"></i>${escapeHtml(segment.label)}</span>`)
    .join('');
  return `<svg role="img" aria-label="Rows per table" width="${labelWidth + barWidth + 60}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 60} ${height}" font-size="12" font-family="system-ui, sans-serif">${bars.join('')}</svg><div class="legend">${legend}</div>`;
}

function table(headers: readonly string[], rows: string[][], { numeric = true, total = false } = {}): string {
  const cellClass = (index: number) => (numeric && index > 0 ? ' class="n"' : '');
  const head = `<tr>${headers.map((header, index) => `<th${cellClass(index)}>${escapeHtml(header)}</th>`).join('')}</tr>`;
  const body = rows.map(
    (row, rowIndex) =>
      `<tr${total && rowIndex === rows.length - 1 ? ' class="total"' : ''}>${row.map((cell, index) => `<td${cellClass(index)}>${cell}</td>`).join('')}</tr>`,
  );
  return `<table>${head}${body.join('')}</table>`;
}

/** A row by its name (a blank one reads "(no name)"), linked to Coda, its id beside it. */
function rowLink(name: string, rowId: string, url: string): string {
  const text = escapeHtml(rowTitle(name));
  const link = safeLink(url);
  return `${link ? `<a href="${escapeHtml(link)}">${text}</a>` : text} <span class="id">${escapeHtml(rowId)}</span>`;
}

const shown = (text: string) => `<span class="value">${escapeHtml(text)}</span>`;
const value = (cell: unknown) => shown(showValue(cell));

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
      `<h3>${escapeHtml(entry.target)} <span class="id">Coda table ${escapeHtml(entry.codaTable.name)}</span></h3><ul>${items.map((item) => describe(item, entry)).join('')}</ul>`,
  );
  if (more) parts.push(`<p>${escapeHtml(moreLine(more))}</p>`);
  const content = parts.join('');
  const heading = `${escapeHtml(title)} (${rows ?? count})`;
  return folded
    ? `<section><details><summary><h2>${heading}</h2></summary>${content}</details></section>`
    : `<section><h2>${heading}</h2>${content}</section>`;
}

function differenceSection(title: string, items: readonly Difference[], accepted: boolean): string {
  if (!items.length) return '';
  const { shown, more } = capped(items);
  const lines = shown.map(
    (item) =>
      `<li>${escapeHtml(item.target)}: ${rowLink(differenceName(item), item.row.rowId, item.row.browserLink)} ${escapeHtml(describeDifference(item))}${accepted ? ` <span class="id">${escapeHtml(acceptedBy(item))}</span>` : ''}</li>`,
  );
  return `<section><h2>${escapeHtml(title)} (${items.length})</h2><ul>${lines.join('')}</ul>${more ? `<p>${escapeHtml(moreLine(more))}</p>` : ''}</section>`;
}

function coverageHtml(coverage: CoverageSection): string {
  const entry = (item: CoverageEntry) => {
    const link = safeLink(item.table.browserLink);
    const name = escapeHtml(coverageEntryName(item));
    return `<li>${link ? `<a href="${escapeHtml(link)}">${name}</a>` : name}: ${escapeHtml(coverageEntryDetail(item))}</li>`;
  };
  const part = (title: string, items: CoverageEntry[], after = '') =>
    items.length
      ? `<section><h2>${escapeHtml(title)} (${items.length})</h2><ul>${items.map(entry).join('')}</ul>${after}</section>`
      : '';
  return [
    part(
      COVERAGE_TITLES.leftBehind,
      coverage.leftBehind,
      coverage.advice ? `<p>${escapeHtml(coverage.advice)}</p>` : '',
    ),
    part(COVERAGE_TITLES.skipped, coverage.skipped),
    coverage.empty ? `<p class="id">${escapeHtml(coverage.empty)}</p>` : '',
  ].join('');
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
          `<li>${escapeHtml(minus(row.share))} ${rowLink(row.rowName, row.rowId, row.browserLink)} rejected: ${escapeHtml(row.reasons.join('; '))}</li>`,
      ),
      ...(rejected.more ? [`<li>${escapeHtml(moreSharesLine(rejected.more, rejected.rest))}</li>`] : []),
      ...unconverted.shown.map(
        (row) =>
          `<li>${escapeHtml(minus(row.share))} ${rowLink(row.rowName, row.rowId, row.browserLink)} not converted ${value(row.value)}: ${escapeHtml(row.reasons.join('; '))}</li>`,
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
          `<li>Not a number, on neither side: ${value(row.value)} in ${rowLink(row.rowName, row.rowId, row.browserLink)}: ${escapeHtml(row.reasons.join('; '))}</li>`,
      ),
      ...(text.more ? [`<li>${escapeHtml(moreLine(text.more))}</li>`] : []),
    ];
    walks.push(`<h3>${escapeHtml(totalName(total))}</h3><ul>${steps.join('')}</ul>`);
  }
  return walks.length ? `<h3>${escapeHtml(sectionTitles(body.mode).bridge)}</h3>${walks.join('')}` : '';
}

/** Green when done and clean, amber when rows were rejected or links left empty, red when it failed or differs. */
function tone(body: ReportBody): 'good' | 'info' | 'warn' | 'bad' {
  if (body.outcome === 'rolled_back' || body.outcome === 'differences') return 'bad';
  if (body.tables.some((table) => table.rejects.length || table.unresolved.length || table.conflicts.length))
    return 'warn';
  return body.outcome === 'planned' ? 'info' : 'good';
}

function htmlPage(body: ReportBody, header: ReportHeader): string {
  const titles = sectionTitles(body.mode);
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
        table: entry.target,
        values: [entry.matched, entry.differ, entry.missing, entry.extra, entry.rejected],
      }))
    : body.tables.map((entry) => ({
        table: entry.target,
        values: [entry.inserted.length, entry.updated.length, entry.unchanged, entry.rejects.length],
      }));
  const perTable = table(
    ['Table', ...columns],
    [
      ...rows.map((row) => [escapeHtml(row.target), ...row.counts.map(String)]),
      ['Total', ...totals.map(String)],
    ],
    { total: true },
  );

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

  const { before, after } = titles.change;
  const sections = [
    listSection(
      titles.rejects,
      body,
      (entry) => rejectEntries(entry.rejects),
      (item, entry) => {
        if ('reject' in item) {
          const { source, problems } = item.reject;
          return `<li>${rowLink(source.rowName, source.rowId, source.browserLink)}<ul>${problems.map((problem) => `<li>${escapeHtml(problem.reason)}</li>`).join('')}</ul></li>`;
        }
        const { group } = item;
        const link = safeLink(group.parent.browserLink);
        const children = group.children
          .map(({ source }) => `<li>${rowLink(source.rowName, source.rowId, source.browserLink)}</li>`)
          .join('');
        return `<li>${escapeHtml(parentGroupHeadline(group, entry))}${link ? ` <a href="${escapeHtml(link)}">open it in Coda</a>` : ''}<br>${escapeHtml(parentGroupAdvice(group, entry))}<details><summary>the ${group.children.length} rows</summary><ul>${children}</ul></details></li>`;
      },
      { rows: body.tables.reduce((sum, entry) => sum + entry.rejects.length, 0) },
    ),
    listSection(
      titles.conflicts,
      body,
      (entry) => entry.conflicts,
      (conflict) =>
        `<li>${rowLink(conflict.rowName, conflict.rowId, conflict.browserLink)}: ${escapeHtml(conflictWinner(conflict))}<ul>${conflict.fields.map((field) => `<li>${escapeHtml(conflictField(field))}</li>`).join('')}</ul></li>`,
    ),
    listSection(
      titles.updated,
      body,
      (entry) => entry.updated,
      (row) =>
        `<li>${rowLink(row.rowName, row.rowId, row.browserLink)}<ul>${row.changes.map((change) => `<li>${escapeHtml(change.column)}: ${shown(changeSides(change)[0])} <span class="id">${before}</span> → ${shown(changeSides(change)[1])} <span class="id">${after}</span></li>`).join('')}</ul></li>`,
    ),
    listSection(
      titles.inserted,
      body,
      (entry) => entry.inserted,
      (row) => `<li>${rowLink(row.rowName, row.rowId, row.browserLink)}</li>`,
      { folded: body.mode !== 'reconcile' },
    ),
    listSection(
      titles.unresolved,
      body,
      (entry) => entry.unresolved,
      (link) => `<li>${rowLink(link.rowName, link.rowId, link.browserLink)}: ${escapeHtml(link.reason)}</li>`,
    ),
    listSection(
      titles.goneFromCoda,
      body,
      (entry) => entry.goneFromCoda,
      (row) =>
        `<li>${rowLink(row.rowName, row.rowId, row.browserLink)} <span class="id">erp id ${escapeHtml(row.targetId)}</span></li>`,
    ),
  ];
  const notFromCoda = (body.reconciliation?.tables ?? []).flatMap((entry) =>
    entry.notFromCoda.map((row) => ({ ...row, target: entry.target })),
  );
  if (notFromCoda.length) {
    const { shown, more } = capped(notFromCoda);
    sections.push(
      `<section><h2>${escapeHtml(titles.notFromCoda)} (${notFromCoda.length})</h2><ul>${shown.map((row) => `<li>${escapeHtml(row.target)}: ${escapeHtml(row.label)} <span class="id">erp id ${escapeHtml(row.targetId)}</span></li>`).join('')}</ul>${more ? `<p>${escapeHtml(moreLine(more))}</p>` : ''}</section>`,
    );
  }
  const { fresh, accepted } = listedDifferences(body);
  const verdict = [
    coverageHtml(coverageSection(body)),
    differenceSection(titles.newDifferences, fresh, false),
    differenceSection(titles.acceptedDifferences, accepted, true),
  ].join('');

  const headerItems = [
    `${what} of Coda doc "${body.doc.name}" (${body.doc.id})`,
    `run ${header.runId}`,
    `started ${header.startedAt}`,
    `finished ${header.finishedAt}`,
    `source ${header.source}`,
    ...(header.backup ? [`backup (${header.backup.kind}) ${header.backup.path}`] : []),
    ...[codaRequestsLine(header) ?? []].flat(),
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
<header class="run">${headerItems.map((item) => `<span>${escapeHtml(item)}</span>`).join('')}</header>
<main>
<div class="outcome ${tone(body)}"><h1>${escapeHtml(headline(body))}</h1>${body.outcomeNote ? `<p>Why: ${escapeHtml(body.outcomeNote)}</p>` : ''}${abandonedRunLines(
    header,
  )
    .map((line) => `<p>${escapeHtml(line)}</p>`)
    .join('')}</div>
<div class="cards">${cards}</div>
<section><h2>Rows per table</h2>${chart(chartRows, reconciling ? RECONCILE_SEGMENTS : LOAD_SEGMENTS)}${perTable}</section>
${verdict}
${businessTotals}
${sections.filter(Boolean).join('\n')}
</main>
</body>
</html>
`;
}

export function htmlReport(report: RunReport): string {
  const { header, body } = splitReport(report);
  return htmlPage(body, header);
}
