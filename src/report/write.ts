/**
 * Keeps a run's reports in its run folder: report.json (every row, written first and as it is
 * produced), summary.txt (what the terminal showed), report.md and report.html (lists capped, with
 * counts). Reports hold what the run read and did, never a connection string or a token: nothing
 * here is given one. One report failing does not stop the others; the failure is raised after.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunReport } from '../load/run.ts';
import { htmlReport } from './html.ts';
import { writeJsonReport } from './json.ts';
import { markdownReport } from './markdown.ts';

export const REPORT_FILES = ['summary.txt', 'report.md', 'report.html', 'report.json'] as const;

class ReportWriteError extends Error {}

export async function writeRunReports(
  runDir: string,
  report: RunReport,
  terminalText: string,
): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  await mkdir(runDir, { recursive: true });
  const writers: Record<(typeof REPORT_FILES)[number], (file: string) => Promise<void>> = {
    'report.json': (file) => writeJsonReport(file, report),
    'summary.txt': (file) => writeFile(file, terminalText),
    'report.md': (file) => writeFile(file, markdownReport(report)),
    'report.html': (file) => writeFile(file, htmlReport(report)),
  };
  const written = {} as Record<(typeof REPORT_FILES)[number], string>;
  const failures: string[] = [];
  for (const name of ['report.json', 'summary.txt', 'report.md', 'report.html'] as const) {
    written[name] = path.join(runDir, name);
    try {
      await writers[name](written[name]);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  if (failures.length) throw new ReportWriteError(`could not write ${failures.join('; ')}`);
  return written;
}
