/**
 * Extraction progress on stderr. On a terminal: one line, redrawn, with rows and pages per table
 * being read. Otherwise (CI, pipes, logs): nothing but one summary line per finished table.
 */
import type { RetryNotice, SlowAnswerNotice } from './client.ts';
import type { TableRead } from './snapshot-format.ts';
import type { Clock } from './timing.ts';

export interface TableTotals {
  rows: number;
  pages: number;
}

export interface TableSummary extends TableTotals {
  elapsedMs: number;
  /** How the rows were had; absent means read whole. */
  read?: TableRead;
}

/** Why a table that the previous snapshot could have spared was read whole all the same. */
export type FullReadReason =
  | 'new-table'
  | 'no-sync-state'
  | 'columns-changed'
  | 'token-refused'
  | 'rows-removed'
  | 'change-not-in-rows';

export interface ExtractProgress {
  tableStarted(table: { id: string; name: string }): void;
  pageWritten(tableId: string, totals: TableTotals): void;
  tableFinished(tableId: string, summary: TableSummary): void;
  /** Said before a table is read whole when an earlier snapshot was given to read changes only. */
  fullRead(table: { id: string; name: string }, reason: FullReadReason): void;
  /** Clears the live line; called once at the end, whether extraction succeeded or not. */
  close(): void;
}

/** What progress is written to: process.stderr, or a test double. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export const silentProgress: ExtractProgress = {
  tableStarted: () => {},
  pageWritten: () => {},
  tableFinished: () => {},
  fullRead: () => {},
  close: () => {},
};

const count = new Intl.NumberFormat('en-US');

function plural(n: number, word: string): string {
  return `${count.format(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** "Tasks: 1,234 rows, 13 pages, 2.1 s"; "…, unchanged since the previous snapshot" */
export function formatTableSummary(tableName: string, summary: TableSummary): string {
  const rows = `${tableName}: ${plural(summary.rows, 'row')}`;
  if (summary.read === 'unchanged') return `${rows}, unchanged since the previous snapshot`;
  const how = summary.read === 'changes' ? ', changes only' : '';
  return `${rows}${how}, ${plural(summary.pages, 'page')}, ${(summary.elapsedMs / 1_000).toFixed(1)} s`;
}

const FULL_READ_REASONS: Record<FullReadReason, string> = {
  'new-table': 'it is new since the previous snapshot',
  'no-sync-state': 'the previous snapshot holds no sync token for it (it was written by an older erp)',
  'columns-changed': 'its columns changed since the previous snapshot',
  'token-refused': 'Coda refused the sync token of the previous snapshot (expired or no longer valid)',
  'rows-removed': "rows were removed since the previous snapshot (Coda's row count no longer adds up)",
  'change-not-in-rows': 'Coda says it changed, but no changed row came back (rows moved, for example)',
};

/** "Reading Tasks whole: its columns changed since the previous snapshot" */
function formatFullReadNotice(tableName: string, reason: FullReadReason): string {
  return `Reading ${tableName} whole: ${FULL_READ_REASONS[reason]}`;
}

/** Seconds as a person reads a wait: "0.8 s", "31 s". */
function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms / 1_000)} s`;
}

/** A retry of a request Coda did not answer, said before the wait, with how long trying may go on. */
export function formatRetryNotice(notice: RetryNotice): string {
  return `Reading ${notice.subject} failed (${notice.problem}): trying again in ${seconds(notice.waitMs)} (retry ${notice.retry} of ${notice.retries}); giving up within ${seconds(notice.giveUpWithinMs)} if it keeps failing`;
}

/** A read Coda has not answered yet, said while waiting: what, how long so far, how long it may take. */
export function formatSlowAnswerNotice(notice: SlowAnswerNotice): string {
  return `Coda has not answered ${notice.subject} for ${seconds(notice.waitedMs)}: waiting up to ${seconds(notice.timeoutMs)} for this try, then retrying (up to ${notice.retries} times)`;
}

/** Redraws at most this often: a fast extraction must not spend its time painting. */
const REDRAW_INTERVAL_MS = 100;

export function createProgress(stream: ProgressStream, clock: Clock): ExtractProgress {
  const names = new Map<string, string>();
  if (!stream.isTTY) {
    return {
      tableStarted: (table) => names.set(table.id, table.name),
      pageWritten: () => {},
      tableFinished: (tableId, summary) =>
        stream.write(`${formatTableSummary(names.get(tableId) ?? tableId, summary)}\n`),
      fullRead: (table, reason) => stream.write(`${formatFullReadNotice(table.name, reason)}\n`),
      close: () => {},
    };
  }

  const active = new Map<string, TableTotals>();
  let lastDraw = -Infinity;
  let lineShown = false;
  const clearLine = () => {
    if (lineShown) stream.write('\r\x1b[K');
    lineShown = false;
  };
  const draw = (force: boolean) => {
    const now = clock.now();
    if (!force && now - lastDraw < REDRAW_INTERVAL_MS) return;
    lastDraw = now;
    clearLine();
    if (active.size === 0) return;
    const parts = [...active].map(
      ([id, totals]) => `${names.get(id)} ${count.format(totals.rows)} rows/${totals.pages} p`,
    );
    const line = `reading ${active.size} table${active.size === 1 ? '' : 's'}: ${parts.join(' · ')}`;
    // Wider than the terminal would wrap, and \r would then redraw only the last part.
    stream.write(line.slice(0, Math.max(20, (stream.columns || 80) - 1)));
    lineShown = true;
  };
  return {
    tableStarted(table) {
      names.set(table.id, table.name);
      active.set(table.id, { rows: 0, pages: 0 });
      draw(true);
    },
    pageWritten(tableId, totals) {
      active.set(tableId, totals);
      draw(false);
    },
    tableFinished(tableId, summary) {
      active.delete(tableId);
      clearLine();
      stream.write(`${formatTableSummary(names.get(tableId) ?? tableId, summary)}\n`);
      draw(true);
    },
    fullRead(table, reason) {
      clearLine();
      stream.write(`${formatFullReadNotice(table.name, reason)}\n`);
      draw(true);
    },
    close: clearLine,
  };
}
