import { fstatSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROWS_KEPT_IN_MEMORY, SpooledList } from '../../src/shared/spooled-list.ts';
import { collect } from '../support/collect.ts';

describe('a spooled list', () => {
  it('gives back every row in order, past the rows kept in memory, with awkward text intact', async () => {
    const count = ROWS_KEPT_IN_MEMORY * 3 + 7;
    const rowAt = (index: number) => ({
      rowId: `i-${index}`,
      rowName: index % 2 ? `Row ${index}\n"quoted" \\ ␀ \u2028 😀` : '',
      changes: [{ column: 'due_date', before: null, after: '2025-12-01' }],
    });
    const list = new SpooledList<ReturnType<typeof rowAt>>();
    for (let index = 0; index < count; index += 1) list.push(rowAt(index));
    expect(list.length).toBe(count);
    const rows = await collect(list);
    expect(rows).toHaveLength(count);
    expect(rows[0]).toEqual(rowAt(0));
    expect(rows[count - 1]).toEqual(rowAt(count - 1));
    expect(rows.every((row, index) => row.rowId === `i-${index}`)).toBe(true);
    // Rows can still be added after a read, and a second read sees them all.
    list.push(rowAt(count));
    expect(await collect(list)).toHaveLength(count + 1);
  });

  it('keeps its first rows for the capped lists, and refuses to slice past them', () => {
    const list = new SpooledList(Array.from({ length: ROWS_KEPT_IN_MEMORY + 1 }, (_, index) => index));
    expect(list.slice(0, 3)).toEqual([0, 1, 2]);
    expect(list.slice(0, ROWS_KEPT_IN_MEMORY)).toHaveLength(ROWS_KEPT_IN_MEMORY);
    expect(() => list.slice()).toThrow(/only the first 1000 rows/);
    const small = new SpooledList(['a', 'b']);
    expect(small.slice()).toEqual(['a', 'b']);
  });

  it('spools to a file only its owner could open, already unlinked, so nothing is left behind', async () => {
    const list = new SpooledList(Array.from({ length: ROWS_KEPT_IN_MEMORY + 1 }, (_, index) => index));
    const fd = (list as unknown as { fd: number }).fd;
    expect(fstatSync(fd).mode & 0o777).toBe(0o600);
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toMatch(/erp-rows-.*\(deleted\)$/);
    expect(await collect(list)).toHaveLength(ROWS_KEPT_IN_MEMORY + 1);
  });
});
