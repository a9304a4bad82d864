/**
 * The per-table summary printed at the end of a plan or cutover, in the shape of pgloader's load
 * report: one line per table and a total, right-aligned numbers.
 */
import type { RunReport } from '../load/run.ts';

const HEADERS = ['table', 'read', 'inserted', 'updated', 'unchanged', 'rejected', 'seconds'] as const;

export function summaryRows(report: RunReport): string[][] {
  const rows = report.tables.map((table) => [
    table.target,
    String(table.read),
    String(table.inserted.length),
    String(table.updated.length),
    String(table.unchanged),
    String(table.rejects.length),
    table.seconds.toFixed(2),
  ]);
  const total = (index: number) => String(rows.reduce((sum, row) => sum + Number(row[index]), 0));
  rows.push(['Total', total(1), total(2), total(3), total(4), total(5), report.tables.reduce((sum, table) => sum + table.seconds, 0).toFixed(2)]);
  return rows;
}

export function formatSummaryTable(report: RunReport): string {
  const rows = summaryRows(report);
  const widths = HEADERS.map((header, index) => Math.max(header.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const body = rows.map(line);
  return [line(HEADERS), rule, ...body.slice(0, -1), rule, body.at(-1)!].join('\n');
}

export function formatOutcome(report: RunReport): string {
  const verb = { planned: 'Plan finished: nothing was written.', committed: 'Cutover committed.', rolled_back: 'Cutover rolled back: the database is as it was.' }[report.outcome];
  return [verb, report.outcomeNote ? `Why: ${report.outcomeNote}` : '', report.backup ? `Backup (${report.backup.kind}): ${report.backup.path}` : '']
    .filter(Boolean)
    .join('\n');
}
