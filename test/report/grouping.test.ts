/**
 * Long lists scale to people: differences and rejects with the same cause are one group with a
 * count, what to do said once, and the rows behind it; different causes stay apart.
 */
import { describe, expect, it } from 'vitest';
import type { Reason, RejectReason, RunReject } from '../../src/load/core/reasons.ts';
import type { Difference } from '../../src/load/reconcile/types.ts';
import { differenceDetail, differenceGroups } from '../../src/report/differences.ts';
import { isGroup } from '../../src/report/lists.ts';
import { rejectGroups } from '../../src/report/reject-groups.ts';
import { wordsOf } from '../../src/report/words.ts';
import type { Vocabulary } from '../../src/transform/vocabulary.ts';

const vocabulary: Vocabulary = {
  mappingsFolder: 'mappings',
  tables: [
    {
      target: 'erp.people',
      codaTable: { id: 'grid-Team', name: 'Team' },
      mappingFile: 'mappings/team.yaml',
      columns: { status: { label: 'Stage', choices: { on_hold: ['On Hold'], active: ['Doing'] } } },
    },
  ],
};
const words = wordsOf(vocabulary);

const NOT_TEXT: RejectReason = {
  code: 'not_convertible',
  column: { column: 'email', label: 'Email' },
  value: { kind: 'value', text: '42' },
  expected: 'text',
};
const NO_NAME: RejectReason = { code: 'required_empty', column: { column: 'name', label: 'Name' } };
const NO_MANAGER: Reason = {
  code: 'link_not_found',
  column: { column: 'manager_id', label: 'Manager' },
  rowName: 'Ada',
};
const MANAGER_TEXT =
  'Manager links to "Ada", which is not in the database: that row is missing from Coda or was never loaded';

const row = (index: number, name = `Person ${index}`) => ({
  rowId: `i-${index}`,
  rowName: name,
  browserLink: `https://coda.io/d/_dX/#Team_tu/_rui-${index}`,
});
const difference = (
  index: number,
  kind: Difference['kind'],
  reasons: Reason[],
  acceptedByRun: string | null = null,
) =>
  ({
    kind,
    target: 'erp.people',
    rowKey: `i-${index}`,
    row: row(index),
    reasons,
    acceptedByRun,
  }) as Difference;

describe('difference groups', () => {
  it('put 35 rows with one reason on one line with a count, and what to do once', () => {
    const items = Array.from({ length: 35 }, (_, index) => difference(index, 'rejected', [NOT_TEXT]));
    const groups = differenceGroups(items, { vocabulary }, words);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.headline).toBe('35 Team rows rejected: Email is 42, not text');
    expect(groups[0]!.advice).toBe(
      'Fix them in Coda, or change the mapping mappings/team.yaml; then run a plan.',
    );
    expect(groups[0]!.items).toHaveLength(35);
    expect(isGroup(groups[0]!)).toBe(true);
  });

  it('keep other reasons, other kinds and what a cutover accepted apart, in the order they come', () => {
    const groups = differenceGroups(
      [
        difference(1, 'rejected', [NOT_TEXT]),
        difference(2, 'link_left_empty', [NO_MANAGER]),
        difference(3, 'rejected', [NO_NAME]),
        difference(4, 'rejected', [NOT_TEXT], '7'),
        difference(5, 'link_left_empty', [NO_MANAGER]),
      ],
      { vocabulary },
      words,
    );
    expect(groups.map((group) => [group.headline, group.items.map((item) => item.row.rowId)])).toEqual([
      ['1 Team row rejected: Email is 42, not text', ['i-1']],
      [`2 Team rows with a link left empty: ${MANAGER_TEXT}`, ['i-2', 'i-5']],
      ['1 Team row rejected: Name is empty, but a value is required', ['i-3']],
      ['1 Team row rejected: Email is 42, not text (accepted by cutover run 7)', ['i-4']],
    ]);
    // An accepted group has nothing left to do; a lone row is shown as its own line.
    expect(groups[3]!.advice).toBeNull();
    expect(isGroup(groups[0]!)).toBe(false);
  });

  it("group rows kept as edited in Postgres by kind, each row with its own values in Coda's labels", () => {
    const kept = (index: number, postgres: string) => ({
      ...difference(index, 'kept_in_postgres', []),
      conflict: {
        ...row(index),
        deletedInPostgres: false,
        winner: 'postgres' as const,
        keptByRun: null,
        fields: [{ column: 'status', label: 'Stage', coda: 'active', postgres, lastLoad: 'active' }],
      },
    });
    const groups = differenceGroups([kept(1, 'on_hold'), kept(2, 'archived')], { vocabulary }, words);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.headline).toBe('2 Team rows edited or deleted in Postgres, kept as the owner chose');
    expect(groups[0]!.items.map((item) => differenceDetail(item, words))).toEqual([
      `edited in Postgres, kept by the owner's choice: Stage "On Hold" (Coda has "Doing")`,
      `edited in Postgres, kept by the owner's choice: Stage "archived" (Coda has "Doing")`,
    ]);
  });
});

describe('reject groups', () => {
  const reject = (index: number, reason: RejectReason, name?: string): RunReject => ({
    source: { ...row(index, name), tableId: 'grid-Team' } as RunReject['source'],
    problems: [{ column: 'email', codaColumn: 'Email', value: 'x', reason }],
  });
  const table = { codaTable: { id: 'grid-Team', name: 'Team' }, mappingFile: 'mappings/team.yaml' };

  it('put rows rejected for the same reason together, a blank name and all, with what to do once', () => {
    const groups = rejectGroups({
      ...table,
      rejects: [reject(1, NOT_TEXT), reject(2, NO_NAME, '  '), reject(3, NOT_TEXT, '')],
    });
    expect(groups.map((group) => [group.headline, group.items.length, group.advice])).toEqual([
      [
        '2 Team rows rejected: Email is 42, not text',
        2,
        'To load them, fix them in Coda, or change the mapping mappings/team.yaml.',
      ],
      [
        '1 Team row rejected: Name is empty, but a value is required',
        1,
        'To load it, fix it in Coda, or change the mapping mappings/team.yaml.',
      ],
    ]);
  });
});
