import { describe, expect, it } from 'vitest';
import { createProgress, formatTableSummary, type Clock } from '../../src/extract/index.ts';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, columns: 60, write: (text: string) => writes.push(text) };
}

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, sleep: async () => {}, advance: (ms) => (now += ms) };
}

describe('progress', () => {
  it('summarises a table in one line', () => {
    expect(formatTableSummary('tasks', { rows: 1_234, pages: 13, elapsedMs: 2_080 })).toBe(
      'tasks: 1,234 rows, 13 pages, 2.1 s',
    );
    expect(formatTableSummary('People', { rows: 1, pages: 1, elapsedMs: 40 })).toBe(
      'People: 1 row, 1 page, 0.0 s',
    );
  });

  it('says how a table was read when an earlier snapshot spared some of it', () => {
    expect(formatTableSummary('Tâches', { rows: 1_234, pages: 0, elapsedMs: 3, read: 'unchanged' })).toBe(
      'Tâches: 1,234 rows, unchanged since the previous snapshot',
    );
    expect(formatTableSummary('Tasks', { rows: 1_234, pages: 1, elapsedMs: 210, read: 'changes' })).toBe(
      'Tasks: 1,234 rows, changes only, 1 page, 0.2 s',
    );
    const output = stream(true);
    const progress = createProgress(output, manualClock());
    progress.tableStarted({ id: 'grid-a', name: 'Tasks' });
    progress.fullRead({ id: 'grid-a', name: 'Tasks' }, 'rows-removed');
    expect(output.writes.slice(-3)).toEqual([
      '\r\x1b[K',
      "Reading Tasks whole: rows were removed since the previous snapshot (Coda's row count no longer adds up)\n",
      'reading 1 table: Tasks 0 rows/0 p',
    ]);
  });

  it('writes only the summary lines when not on a terminal', () => {
    const output = stream(false);
    const progress = createProgress(output, manualClock());
    progress.tableStarted({ id: 'grid-a', name: 'Tasks' });
    for (let page = 1; page <= 50; page += 1)
      progress.pageWritten('grid-a', { rows: page * 100, pages: page });
    progress.tableFinished('grid-a', { rows: 5_000, pages: 50, elapsedMs: 1_500 });
    progress.close();
    expect(output.writes).toEqual(['Tasks: 5,000 rows, 50 pages, 1.5 s\n']);
  });

  it('keeps one updating line on a terminal, redrawn at most every 100 ms, within the width', () => {
    const output = stream(true);
    const clock = manualClock();
    const progress = createProgress(output, clock);
    progress.tableStarted({ id: 'grid-a', name: 'Tasks' });
    progress.tableStarted({ id: 'grid-b', name: 'Projects with a long name' });
    const drawsBefore = output.writes.length;
    progress.pageWritten('grid-a', { rows: 100, pages: 1 });
    expect(output.writes.length).toBe(drawsBefore);
    clock.advance(150);
    progress.pageWritten('grid-a', { rows: 200, pages: 2 });
    expect(output.writes.slice(drawsBefore)).toEqual([
      '\r\x1b[K',
      'reading 2 tables: Tasks 200 rows/2 p · Projects with a long name 0 rows/0 p'.slice(0, 59),
    ]);

    progress.tableFinished('grid-a', { rows: 200, pages: 2, elapsedMs: 300 });
    expect(output.writes.slice(-3)).toEqual([
      '\r\x1b[K',
      'Tasks: 200 rows, 2 pages, 0.3 s\n',
      'reading 1 table: Projects with a long name 0 rows/0 p',
    ]);
    progress.close();
    expect(output.writes.at(-1)).toBe('\r\x1b[K');
  });
});
