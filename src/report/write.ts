/**
 * Keeps a run's reports in its run folder: summary.txt (what the terminal showed), report.md,
 * report.html and report.json. Reports hold what the run read and did, never a connection
 * string or a token: nothing here is given one.
 */
import path from 'node:path';
import type { RunReport } from '../load/run.ts';
import { makePrivateDir, writePrivateFile } from '../shared/private-files.ts';
import { jsonReport } from './document.ts';
import { htmlReport } from './html.ts';
import { markdownReport } from './markdown.ts';

export const REPORT_FILES = ['summary.txt', 'report.md', 'report.html', 'report.json'] as const;

export async function writeRunReports(
  runDir: string,
  report: RunReport,
  terminalText: string,
): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  return await writeReportFiles(runDir, {
    'summary.txt': terminalText,
    'report.md': markdownReport(report),
    'report.html': htmlReport(report),
    'report.json': jsonReport(report),
  });
}

/** The four report files of a run, whatever kind of run it was. */
export async function writeReportFiles(
  runDir: string,
  contents: Record<(typeof REPORT_FILES)[number], string>,
): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  // Reports quote the doc's rows: readable by the owner alone.
  await makePrivateDir(runDir);
  const written = {} as Record<(typeof REPORT_FILES)[number], string>;
  for (const name of REPORT_FILES) {
    written[name] = path.join(runDir, name);
    await writePrivateFile(written[name], contents[name]);
  }
  return written;
}
