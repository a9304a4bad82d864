/**
 * The pieces report.html is built of: escaped text, tables, links to Coda, grouped rows behind a
 * disclosure, and the per-table chart (SVG). No scripts: every piece is static markup.
 */
import { rowTitle } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
import { isGroup, safeLink, type RowGroup } from './lists.ts';
import { showValue } from './words.ts';

export function escapeHtml(text: string): string {
  return visible(text, { keepLayout: true, names: true }).replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );
}

interface Segment {
  label: string;
  color: string;
}

/** The load's bars, labelled as its counts are (a refused cutover's "would have inserted"). */
export function loadSegments(columns: readonly string[]): Segment[] {
  const [, inserted, updated, unchanged, rejected] = columns;
  return [
    { label: inserted!, color: '#2b8a3e' },
    { label: updated!, color: '#f08c00' },
    { label: unchanged!, color: '#adb5bd' },
    { label: rejected!, color: '#c92a2a' },
  ];
}
export const RECONCILE_SEGMENTS: Segment[] = [
  { label: 'matched', color: '#2b8a3e' },
  { label: 'differ', color: '#f08c00' },
  { label: 'missing', color: '#1971c2' },
  { label: 'extra', color: '#7048e8' },
  { label: 'rejected', color: '#c92a2a' },
];

/** Per-table stacked bars, one per table, scaled to the largest table. */
export function chart(rows: { table: string; values: number[] }[], segments: Segment[]): string {
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

export function table(
  headers: readonly string[],
  rows: string[][],
  { numeric = true, total = false } = {},
): string {
  const cellClass = (index: number) => (numeric && index > 0 ? ' class="n"' : '');
  const head = `<tr>${headers.map((header, index) => `<th${cellClass(index)}>${escapeHtml(header)}</th>`).join('')}</tr>`;
  const body = rows.map(
    (row, rowIndex) =>
      `<tr${total && rowIndex === rows.length - 1 ? ' class="total"' : ''}>${row.map((cell, index) => `<td${cellClass(index)}>${cell}</td>`).join('')}</tr>`,
  );
  return `<table>${head}${body.join('')}</table>`;
}

/** A row by its Coda name (a blank one reads "(no name)"), linked to Coda. */
export function rowLink(name: string, url: string): string {
  const text = escapeHtml(rowTitle(name));
  const link = safeLink(url);
  return link ? `<a href="${escapeHtml(link)}">${text}</a>` : text;
}

/** A Coda table by its name, the erp table it loads in small type after it. */
export function tableName(name: string, target: string): string {
  return `${escapeHtml(name)} <span class="id">${escapeHtml(target)}</span>`;
}

export const shown = (text: string) => `<span class="value">${escapeHtml(text)}</span>`;
export const value = (cell: unknown) => shown(showValue(cell));

/**
 * A group of rows as one line: its headline and count, what to do once, and the rows behind a
 * disclosure (a <details>, no script). A lone row without a cause of its own is just its line.
 */
export function groupItem<T>(
  group: RowGroup<T>,
  row: (item: T) => string,
  single: (item: T) => string,
): string {
  if (!isGroup(group)) return `<li>${single(group.items[0]!)}</li>`;
  const link = group.link ? ` <a href="${escapeHtml(group.link)}">open it in Coda</a>` : '';
  return `<li>${escapeHtml(group.headline)}${link}${group.advice ? `<br>${escapeHtml(group.advice)}` : ''}<details class="rows"><summary>the ${group.items.length} rows</summary><ul>${group.items.map((item) => `<li>${row(item)}</li>`).join('')}</ul></details></li>`;
}
