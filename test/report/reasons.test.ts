/**
 * Every reason code, worded: by the Coda column's label and the linked row's name and link, never
 * by an erp id, a Coda row id or an erp table's name, with no control character of a Coda value,
 * and a blank row or person name read as words.
 */
import { describe, expect, it } from 'vitest';
import type { OutcomeNote, Refusal } from '../../src/load/core/outcomes.ts';
import type { Reason } from '../../src/load/core/reasons.ts';
import {
  committedThenFailedText,
  outcomeNoteText,
  reasonsText,
  reasonText,
  refusalText,
  stoppedText,
} from '../../src/report/reasons.ts';

/** Named unlike the erp columns they fill, with a character the database cannot store. */
const OWNER = { column: 'owner_person_id', label: 'Who’s on it 👤' };
const DUE = { column: 'due_date', label: 'Due\u0007 by' };
const PARENT = {
  table: 'Client Work',
  rowId: 'i-pwParent01',
  rowName: 'Relaunch',
  browserLink: 'https://coda.io/d/_dX/#Client-Work_tu/_rui-pwParent01',
};

/** One reason of every code: a code missing here does not compile. */
const EVERY_CODE: { [C in Reason['code']]: Extract<Reason, { code: C }> } = {
  several_values: { code: 'several_values', column: DUE, count: 2, expected: 'date' },
  not_convertible: {
    code: 'not_convertible',
    column: DUE,
    value: { kind: 'text', text: 'next\u0000week' },
    expected: 'date',
  },
  no_such_day: { code: 'no_such_day', column: DUE, value: { kind: 'text', text: '2025-02-30' } },
  no_such_time: { code: 'no_such_time', column: DUE, value: { kind: 'text', text: '2025-03-30T02:30' } },
  other_currency: { code: 'other_currency', column: DUE, currency: 'EUR', columnCurrency: 'USD' },
  currency_unrecorded: { code: 'currency_unrecorded', column: DUE, currency: 'EUR' },
  unknown_choice: { code: 'unknown_choice', column: DUE, value: 'Someday', known: ['Soon', 'Later'] },
  unknown_tag: { code: 'unknown_tag', column: DUE, value: 'urgent' },
  not_a_number_column: { code: 'not_a_number_column', column: DUE },
  several_people: { code: 'several_people', column: OWNER, count: 3 },
  // Named by Coda table ids, as the mapping's `table:` names the table it expects.
  wrong_table: { code: 'wrong_table', column: OWNER, tableId: 'grid-Other', expectedTableId: 'grid-Team' },
  contains_nul: { code: 'contains_nul', column: DUE },
  required_empty: { code: 'required_empty', column: OWNER },
  duplicate_row: { code: 'duplicate_row' },
  people_left_out: {
    code: 'people_left_out',
    column: OWNER,
    kept: { name: 'Ada', email: 'ada@example.com' },
    leftOut: [{ name: '  ', email: null }],
  },
  parent_rejected: {
    code: 'parent_rejected',
    column: { column: 'project_id', label: 'For engagement' },
    parent: PARENT,
    parentReasons: [{ code: 'required_empty', column: { column: 'client_id', label: 'Client' } }],
    linkRequired: false,
    loadedWithoutLink: false,
  },
  link_not_found: {
    code: 'link_not_found',
    column: { column: 'project_id', label: 'For engagement' },
    rowName: 'Gone',
  },
  person_not_found: {
    code: 'person_not_found',
    column: OWNER,
    person: { name: 'Grace', email: null },
    mappingFile: 'mappings/tasks.yaml',
  },
  breaks_rule: {
    code: 'breaks_rule',
    cells: [
      { column: { column: 'starts_on', label: 'Kick-off' }, value: '2025-03-01' },
      { column: { column: 'ends_on', label: 'Wrap-up' }, value: null },
    ],
    rule: { comment: 'A project cannot end before it starts.', name: 'projects_dates_check' },
  },
};

const ERP_COLUMNS = /owner_person_id|due_date|project_id|client_id|starts_on|ends_on/;

describe('reason words', () => {
  it.each(Object.values(EVERY_CODE).map((reason) => [reason.code, reason] as const))(
    '%s reads as one line in the owner’s words',
    (_code, reason) => {
      const text = reasonText(reason);
      expect(text.length).toBeGreaterThan(20);
      expect(text).not.toMatch(/undefined|null|\[object Object\]|NaN/);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may get through
      expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(text).not.toMatch(ERP_COLUMNS);
      // The Coda link holds the row id; the words around it do not.
      expect(text.replace(PARENT.browserLink, '')).not.toMatch(/\berp\.|i-pwParent01|projects_dates_check/);
      if ('column' in reason) expect(text.startsWith(reason.column.label.replace('\u0007', '␇'))).toBe(true);
    },
  );

  it('quotes a value a rule refused, an empty one as (empty), and the rule by its comment', () => {
    expect(reasonText(EVERY_CODE.breaks_rule)).toBe(
      'Kick-off is 2025-03-01, Wrap-up is (empty), which breaks the rule "A project cannot end before it starts."; fix the value in Coda or the mapping\'s values',
    );
  });

  it('names a rejected parent by its Coda table, name and link, and why it was rejected in turn', () => {
    expect(reasonText(EVERY_CODE.parent_rejected)).toBe(
      `For engagement links to "Relaunch" (${PARENT.browserLink}), which was rejected in this run (Client is empty, but a value is required)`,
    );
    expect(reasonText({ ...EVERY_CODE.parent_rejected, loadedWithoutLink: true })).toMatch(
      /; loaded without the link, as the mapping says \(links\.rejected_parent\)$/,
    );
  });

  it('reads a blank row name or person name as words, never as quoted blanks', () => {
    const blankParent = reasonText({
      ...EVERY_CODE.parent_rejected,
      parent: { ...PARENT, rowName: '   ' },
    });
    expect(blankParent).toMatch(/^For engagement links to a Client Work row with no name \(https:/);
    expect(reasonText({ ...EVERY_CODE.link_not_found, rowName: '' })).toMatch(/links to a row with no name,/);
    expect(reasonText(EVERY_CODE.people_left_out)).toContain(
      'so Ada was loaded and a person with no name not',
    );
    expect(
      reasonText({ ...EVERY_CODE.person_not_found, person: { name: ' ', email: 'g@example.com' } }),
    ).toMatch(/names g@example\.com, who is not among the people in Postgres;/);
    for (const text of [blankParent, reasonText(EVERY_CODE.people_left_out)])
      expect(text).not.toMatch(/""|" +"/);
  });

  it('shows a control character of a Coda value as its picture, and cuts nothing else', () => {
    expect(reasonText(EVERY_CODE.not_convertible)).toBe(
      'Due␇ by is "next␀week", not a date (expected e.g. 2024-03-01)',
    );
  });

  it('joins a row’s reasons in one line, in their order', () => {
    expect(reasonsText([EVERY_CODE.required_empty, EVERY_CODE.duplicate_row])).toBe(
      'Who’s on it 👤 is empty, but a value is required; the row appears more than once in the Coda table (the same row id twice); only its first copy is loaded',
    );
  });
});

/** One note of every code: a code missing here does not compile. */
const EVERY_NOTE: { [C in OutcomeNote['code']]: Extract<OutcomeNote, { code: C }> } = {
  data_left_behind: { code: 'data_left_behind', count: 2 },
  too_many_rejects: { code: 'too_many_rejects', rejected: 3, maxRejects: 1 },
  unsettled_conflicts: { code: 'unsettled_conflicts', count: 1 },
  differences_remain: { code: 'differences_remain', count: 4 },
  new_differences: { code: 'new_differences', count: 5 },
  undo_blocked: { code: 'undo_blocked', rows: 6, cutover: '20261207235912345' },
};

describe('outcome note words', () => {
  it.each(Object.values(EVERY_NOTE).map((note) => [note.code, note] as const))(
    '%s says why, with its count',
    (_code, note) => {
      const text = outcomeNoteText(note);
      expect(text).not.toMatch(/undefined|null|\[object Object\]|_/);
      expect(text).toContain(String(Object.values(note).find((value) => typeof value === 'number')));
    },
  );

  it('says what to do where the owner decides', () => {
    expect(outcomeNoteText(EVERY_NOTE.too_many_rejects)).toBe(
      '3 row(s) were rejected and at most 1 may be (--max-rejects); fix them in Coda or the mappings, then run again',
    );
    expect(outcomeNoteText(EVERY_NOTE.undo_blocked)).toMatch(
      /since cutover 20261207235912345; .*--keep-changed/,
    );
  });
});

/** One refusal of every code: a code missing here does not compile. */
const EVERY_REFUSAL: { [C in Refusal['code']]: Extract<Refusal, { code: C }> } = {
  run_in_progress: {
    code: 'run_in_progress',
    other: { runId: '20261207235912345', mode: 'cutover', startedAt: '2026-12-07T23:59:12.345Z' },
  },
  nothing_to_undo: { code: 'nothing_to_undo', unchanged: 0 },
  not_a_run_id: { code: 'not_a_run_id', given: 'last\u0007' },
  no_such_run: { code: 'no_such_run', runId: '42' },
  not_a_committed_cutover: {
    code: 'not_a_committed_cutover',
    runId: '42',
    mode: 'cutover',
    outcome: 'committed_report_failed',
  },
  already_undone: { code: 'already_undone', runId: '42', undoneBy: '43' },
  later_cutovers: { code: 'later_cutovers', runId: '42', later: ['44', '45'] },
  before_row_history: { code: 'before_row_history', runId: '42' },
  no_pg_dump: { code: 'no_pg_dump' },
};

describe('refusal words', () => {
  it.each(Object.values(EVERY_REFUSAL).map((refusal) => [refusal.code, refusal] as const))(
    '%s reads as one line in words',
    (_code, refusal) => {
      const text = refusalText(refusal);
      expect(text).not.toMatch(/undefined|null|\[object Object\]/);
      expect(text).not.toContain(refusal.code);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may get through
      expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
    },
  );

  it('names the runs in the way and what to do', () => {
    expect(refusalText(EVERY_REFUSAL.later_cutovers)).toBe(
      'cutover 42 was followed by cutover 44, 45, which may have changed the same rows; undo those first (`erp undo` undoes the latest that changed something)',
    );
    expect(refusalText({ ...EVERY_REFUSAL.nothing_to_undo, unchanged: 2 })).toBe(
      'no committed cutover to undo changed anything: the last 2 changed no row',
    );
  });
});

describe('how a run stopped', () => {
  it('says that nothing was committed, or that the commit stands, first', () => {
    expect(stoppedText({ code: 'interrupted', signal: 'SIGTERM' })).toBe(
      'interrupted (SIGTERM): nothing was committed, the database is as it was',
    );
    expect(stoppedText({ code: 'connection_lost', mode: 'undo', error: 'terminated\u0000' })).toBe(
      'the connection to the database was lost during the undo (terminated␀); nothing was committed, so the database is as it was',
    );
    expect(committedThenFailedText('42', 'disk full')).toBe(
      'COMMITTED (run 42); then this failed: disk full',
    );
  });
});
