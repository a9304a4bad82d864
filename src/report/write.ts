/**
 * Keeps a run's reports in its run folder: summary.txt (what the terminal showed), report.md,
 * report.html and report.json. Reports hold what the run read and did, never a connection
 * string or a token: nothing here is given one.
 */
import path from 'node:path';
import type { RunReport } from '../load/run.ts';
import { jsonReport } from './document.ts';
import { htmlReport } from './html.ts';
import { markdownReport } from './markdown.ts';
import { makePrivateDir, writePrivateFile } from '../shared/private-files.ts';

export const REPORT_FILES = ['summary.txt', 'report.md', 'report.html', 'report.json'] as const;

export async function writeRunReports(
  runDir: string,
  report: RunReport,
  terminalText: string,
): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  // Reports quote the doc's rows: readable by the owner alone.
  await makePrivateDir(runDir);
  const contents = {
    'summary.txt': terminalText,
    'report.md': markdownReport(report),
    'report.html': htmlReport(report),
    'report.json': jsonReport(report),
  };
  const written = {} as Record<(typeof REPORT_FILES)[number], string>;
  for (const name of REPORT_FILES) {
    written[name] = path.join(runDir, name);
    await writePrivateFile(written[name], contents[name]);
  }
  return written;
}
