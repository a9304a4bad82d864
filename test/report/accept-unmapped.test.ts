/**
 * A cutover told to leave Coda data behind (--accept-unmapped) that rolls back for another
 * reason: the report must not say the data was refused, must not ask for the flag again as a
 * decision, and its next command keeps the flag.
 */
import { describe, expect, it } from 'vitest';
import type { Difference } from '../../src/load/reconcile/types.ts';
import { coverageSection } from '../../src/report/coverage-words.ts';
import { signOff } from '../../src/report/sign-off.ts';

const table = { id: 'grid-N0tes0001', name: 'Meeting notes', browserLink: 'https://coda.io/d/_dX/#Notes' };
const leftBehind: Difference = {
  kind: 'table_left_behind',
  target: '',
  rowKey: table.id,
  row: { rowId: '', rowName: table.name, browserLink: table.browserLink },
  reasons: [],
  acceptedByRun: null,
  leftBehind: { kind: 'table', table, rows: 2 },
};

const body = (acceptUnmapped: boolean) => ({
  mode: 'cutover' as const,
  outcome: 'rolled_back' as const,
  tables: [],
  differences: [leftBehind],
  coverage: { mapped: [], unmapped: [{ table, rows: 2 }], skipped: [] },
  vocabulary: { mappingsFolder: 'my mappings', tables: [] },
  maxRejects: 0,
  acceptUnmapped,
});

describe('a cutover that rolled back with --accept-unmapped', () => {
  it('says the data was left behind on purpose, and that the rollback had another cause', () => {
    const advice = coverageSection(body(true)).advice!;
    expect(advice).toContain(
      'Left behind on purpose (--accept-unmapped), but the cutover rolled back for another reason',
    );
    expect(advice).not.toContain('refused to leave them behind');
    expect(coverageSection(body(false)).advice).toContain('The cutover refused to leave them behind');
  });

  it('does not ask for the flag again, and keeps it in the next command', () => {
    const accepted = signOff(body(true));
    expect(accepted.decisions.join('\n')).not.toContain('no mapping loads');
    expect(accepted.next?.command).toBe("npm run erp -- cutover --mappings 'my mappings' --accept-unmapped");
    const refused = signOff(body(false));
    expect(refused.decisions).toEqual([
      expect.stringMatching(/^1 Coda column or table holds data no mapping loads: /),
    ]);
    expect(refused.next?.command).toBe("npm run erp -- cutover --mappings 'my mappings'");
  });
});
