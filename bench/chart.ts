/**
 * The results chart, drawn as plain SVG so the bench needs no plotting package: throughput of
 * each stage (log scale, with its raw COPY baseline) and peak CLI memory, against doc size.
 */
import { baselineOf, LOAD_BASELINES, type BenchResults } from './results.ts';

const PANEL = { width: 440, height: 300, left: 70, right: 20, top: 40, bottom: 50 };
/** Legends go below the plots, where no line can run through them. */
const LEGEND_ROW = 15;
const LEGEND_ROWS = 6;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#7f7f7f', '#d62728', '#9467bd'];
const MB = 1024 * 1024;

interface Series {
  label: string;
  values: number[];
  dashed?: boolean;
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"]/g,
    (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[character] ?? character,
  );

function formatNumber(value: number): string {
  if (value >= 1_000_000) return `${+(value / 1_000_000).toPrecision(2)}M`;
  if (value >= 1_000) return `${+(value / 1_000).toPrecision(2)}k`;
  return `${+value.toPrecision(2)}`;
}

/** One panel at (x, 0): sizes on a log x axis; y on a log or linear axis from the data. */
function panel(
  x: number,
  title: string,
  sizes: number[],
  series: Series[],
  yScale: 'log' | 'linear',
  yLabel: string,
  limit?: { value: number; label: string },
): string {
  const plotWidth = PANEL.width - PANEL.left - PANEL.right;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const all = [...series.flatMap((line) => line.values), ...(limit ? [limit.value] : [])].filter(
    (value) => value > 0,
  );
  const transform = yScale === 'log' ? Math.log10 : (value: number) => value;
  const low = yScale === 'log' ? Math.floor(Math.log10(Math.min(...all))) : 0;
  const high = yScale === 'log' ? Math.ceil(Math.log10(Math.max(...all))) : Math.max(...all) * 1.1;
  const xLow = Math.log10(Math.min(...sizes));
  const xSpan = Math.log10(Math.max(...sizes)) - xLow || 1;
  const px = (size: number) => x + PANEL.left + ((Math.log10(size) - xLow) / xSpan) * plotWidth;
  const py = (value: number) =>
    PANEL.top + plotHeight - ((transform(value) - low) / (high - low || 1)) * plotHeight;
  const ticks =
    yScale === 'log'
      ? Array.from({ length: high - low + 1 }, (_, index) => 10 ** (low + index))
      : Array.from({ length: 6 }, (_, index) => (high / 5) * index);
  const parts = [
    `<text x="${x + PANEL.width / 2}" y="22" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${x + PANEL.left}" y="${PANEL.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
    ...ticks.map(
      (tick) =>
        `<line x1="${x + PANEL.left}" x2="${x + PANEL.left + plotWidth}" y1="${py(tick)}" y2="${py(tick)}" stroke="#eee"/>` +
        `<text x="${x + PANEL.left - 6}" y="${py(tick) + 4}" text-anchor="end">${formatNumber(tick)}</text>`,
    ),
    ...sizes.map(
      (size) =>
        `<text x="${px(size)}" y="${PANEL.top + plotHeight + 16}" text-anchor="middle">${formatNumber(size)}</text>`,
    ),
    `<text x="${x + PANEL.left + plotWidth / 2}" y="${PANEL.height - 14}" text-anchor="middle">rows in the largest table</text>`,
    `<text transform="translate(${x + 14} ${PANEL.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
  if (limit) {
    parts.push(
      `<line x1="${x + PANEL.left}" x2="${x + PANEL.left + plotWidth}" y1="${py(limit.value)}" y2="${py(limit.value)}" stroke="#d62728" stroke-dasharray="2 3"/>`,
      `<text x="${x + PANEL.left + plotWidth - 4}" y="${py(limit.value) - 4}" text-anchor="end" fill="#d62728">${escapeXml(limit.label)}</text>`,
    );
  }
  series.forEach((line, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = line.values.map((value, at) => `${px(sizes[at] ?? 1)},${py(value)}`);
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      ...points.map(
        (point) => `<circle cx="${point.split(',')[0]}" cy="${point.split(',')[1]}" r="3" fill="${colour}"/>`,
      ),
      `<line x1="${x + PANEL.left}" x2="${x + PANEL.left + 20}" y1="${PANEL.height + index * LEGEND_ROW}" y2="${PANEL.height + index * LEGEND_ROW}" stroke="${colour}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + PANEL.left + 26}" y="${PANEL.height + 4 + index * LEGEND_ROW}">${escapeXml(line.label)}</text>`,
    );
  });
  return parts.join('\n');
}

export function renderChart(results: BenchResults): string {
  const sizes = results.sizes.map((size) => size.taskRows);
  const throughput: Series[] = [
    {
      label: 'extract (erp extract)',
      values: results.sizes.map((size) => size.extraction.rowsPerSecond.value),
    },
    {
      label: 'extract ceiling',
      values: results.sizes.map((size) => size.extraction.rowsPerSecond.baselines[0]?.value ?? 0),
      dashed: true,
    },
    { label: 'transform', values: results.sizes.map((size) => size.transformRowsPerSecond.value) },
    {
      label: 'load (stage, resolve, upsert)',
      values: results.sizes.map((size) => size.loadRowsPerSecond.value),
    },
    {
      label: 'raw COPY (baseline)',
      values: results.sizes.map(
        (size) => baselineOf(size.loadRowsPerSecond, LOAD_BASELINES.rawCopy)?.value ?? 0,
      ),
      dashed: true,
    },
    ...(results.config.pgloader
      ? [
          {
            label: 'pgloader, same tables (baseline)',
            values: results.sizes.map(
              (size) => baselineOf(size.loadRowsPerSecond, LOAD_BASELINES.pgloaderSameTables)?.value ?? 0,
            ),
            dashed: true,
          },
        ]
      : []),
  ];
  const memory: Series[] = [
    { label: 'erp cutover', values: results.sizes.map((size) => size.cutoverPeakRssBytes.value / MB) },
    { label: 'erp extract', values: results.sizes.map((size) => size.extraction.peakRssBytes.value / MB) },
    {
      label: 'erp --version (baseline)',
      values: results.sizes.map(() => results.cliStartup.peakRssBytes / MB),
      dashed: true,
    },
  ];
  const width = PANEL.width * 2;
  const height = PANEL.height + LEGEND_ROWS * LEGEND_ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    panel(0, 'Throughput', sizes, throughput, 'log', 'rows per second'),
    panel(PANEL.width, 'Peak resident memory of the CLI', sizes, memory, 'linear', 'MB', {
      value: 300,
      label: 'target: 300 MB',
    }),
    '</svg>',
    '',
  ].join('\n');
}
