/**
 * Keeps a run's reports in its run folder: report.json (every row, written first and as it is
 * produced), summary.txt (what the terminal showed), report.md and report.html (lists capped, with
 * counts). Reports hold what the run read and did, never a connection string or a token: nothing
 * here is given one. One report failing does not stop the others; the failure is raised after.
 * Reports quote the doc's rows, so they are readable by their owner alone (0600 in a 0700 folder).
 */
import path from 'node:path';
import type { RunReport } from '../load/run.ts';
import { makePrivateDir, writePrivateFile } from '../shared/private-files.ts';
import { htmlReport } from './html.ts';
import { writeJsonReport } from './json.ts';
import { markdownReport } from './markdown.ts';

export const REPORT_FILES = ['summary.txt', 'report.md', 'report.html', 'report.json'] as const;
type ReportFile = (typeof REPORT_FILES)[number];

class ReportWriteError extends Error {}

export async function writeRunReports(
  runDir: string,
  report: RunReport,
  terminalText: string,
): Promise<Record<ReportFile, string>> {
  return await writeEach(runDir, {
    'report.json': (file) => writeJsonReport(file, report),
    'summary.txt': (file) => writePrivateFile(file, terminalText),
    'report.md': (file) => writePrivateFile(file, markdownReport(report)),
    'report.html': (file) => writePrivateFile(file, htmlReport(report)),
  });
}

/** The four report files of a run whose reports are small enough to exist as strings (an undo's). */
export async function writeReportFiles(
  runDir: string,
  contents: Record<ReportFile, string>,
): Promise<Record<ReportFile, string>> {
  const write = (name: ReportFile) => (file: string) => writePrivateFile(file, contents[name]);
  return await writeEach(runDir, {
    'report.json': write('report.json'),
    'summary.txt': write('summary.txt'),
    'report.md': write('report.md'),
    'report.html': write('report.html'),
  });
}

/** report.json first: it holds every row, so it is the one to have when another fails. */
async function writeEach(
  runDir: string,
  writers: Record<ReportFile, (file: string) => Promise<void>>,
): Promise<Record<ReportFile, string>> {
  await makePrivateDir(runDir);
  const written = {} as Record<ReportFile, string>;
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
