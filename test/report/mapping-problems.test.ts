/**
 * Every mapping problem code, worded: under its file and what it was checked against, after its
 * field, with the fix; Coda names as the doc has them (unicode, blanks, control characters shown
 * as pictures), never a code or an undefined.
 */
import { describe, expect, it } from 'vitest';
import { mappingErrorText, mappingProblemsText } from '../../src/report/mapping-problems.ts';
import { FIELD_RULES, MappingError, type MappingProblem } from '../../src/transform/mapping-problems.ts';

const FILE = 'mappings/to-dos ✓.yaml';
const TABLE = { id: 'grid-tOdos001', name: 'To-dos ✓' };
const COLUMNS = [
  { id: 'c-what', name: 'What' },
  { id: 'c-when', name: 'Due\u0007 by' },
];

/** One problem of every code: a code missing here does not compile. */
const EVERY_CODE: { [C in MappingProblem['code']]: Extract<MappingProblem, { code: C }> } = {
  not_yaml: {
    code: 'not_yaml',
    file: FILE,
    line: 4,
    error: 'Flow sequence in block collection must be closed',
  },
  breaks_rule: {
    code: 'breaks_rule',
    file: FILE,
    field: 'columns.title.from',
    rule: 'coda_column_id_not_name',
  },
  invalid_field: {
    code: 'invalid_field',
    file: FILE,
    field: 'columns.title.required',
    detail: 'Invalid input: expected boolean, received string',
  },
  unknown_fields: { code: 'unknown_fields', file: FILE, field: 'columns.title', keys: ['requried'] },
  declared_skipped: { code: 'declared_skipped', file: FILE, codaTable: TABLE.name },
  skipped_and_loaded: { code: 'skipped_and_loaded', file: FILE, field: 'skip.c-what', target: 'title' },
  mapped_twice: {
    code: 'mapped_twice',
    what: 'coda_table',
    value: TABLE.id,
    files: [FILE, 'mappings/tasks.yaml'],
  },
  no_mappings_folder: { code: 'no_mappings_folder', dir: 'mappings-dOc' },
  no_mapping_files: { code: 'no_mapping_files', dir: 'mappings-dOc' },
  mappings_of_another_doc: {
    code: 'mappings_of_another_doc',
    dir: 'mappings',
    docId: 'dOc123',
    example: true,
  },
  no_such_coda_table: {
    code: 'no_such_coda_table',
    file: FILE,
    field: 'coda.table',
    docId: 'dOc123',
    table: { id: 'grid-gone', name: 'to-dos ✓' },
    tables: [TABLE],
  },
  no_such_coda_column: {
    code: 'no_such_coda_column',
    file: FILE,
    field: 'columns.title.from',
    table: TABLE,
    column: 'c-gone',
    label: 'what?',
    columns: COLUMNS,
  },
  skipped_column_gone: {
    code: 'skipped_column_gone',
    file: FILE,
    field: 'skip.c-old',
    table: TABLE,
    column: 'c-old',
    label: null,
    columns: COLUMNS,
  },
  other_coda_table: {
    code: 'other_coda_table',
    file: FILE,
    field: 'coda.table',
    mapped: TABLE.id,
    checked: 'grid-other',
  },
  choice_not_mapped: {
    code: 'choice_not_mapped',
    file: FILE,
    field: 'columns.status.values',
    choice: 'Blocked 🚧',
    rows: 1,
    allowed: ['todo', 'doing', 'done'],
  },
  column_left_behind: {
    code: 'column_left_behind',
    file: FILE,
    column: { id: 'c-budget', name: 'Budget (€)' },
    cells: 2,
    examples: ['1200 EUR', '800 EUR'],
  },
  table_left_behind: {
    code: 'table_left_behind',
    table: { id: 'grid-leads', name: 'Leads & Prospects' },
    rows: 3,
  },
  no_such_target_table: { code: 'no_such_target_table', file: FILE, field: 'target', target: 'erp.todos' },
  no_such_target_column: {
    code: 'no_such_target_column',
    file: FILE,
    field: 'columns.titel',
    target: 'erp.tasks',
    column: 'titel',
    columns: ['id', 'title', 'status'],
  },
  filled_by_database: {
    code: 'filled_by_database',
    file: FILE,
    field: 'columns.id',
    target: 'erp.tasks',
    column: 'id',
  },
  conversion_unfit: {
    code: 'conversion_unfit',
    file: FILE,
    field: 'columns.due_date',
    target: 'erp.tasks',
    column: 'due_date',
    as: 'number',
    type: 'date',
  },
  may_be_empty: {
    code: 'may_be_empty',
    file: FILE,
    field: 'columns.status',
    target: 'erp.tasks',
    column: 'status',
  },
  no_such_linked_table: {
    code: 'no_such_linked_table',
    file: FILE,
    field: 'columns.project_id.table',
    codaTable: 'grid-nope',
  },
  links_elsewhere: {
    code: 'links_elsewhere',
    file: FILE,
    field: 'columns.project_id',
    target: 'erp.tasks',
    column: 'project_id',
    as: 'person',
    references: 'erp.projects',
    resolvesTo: 'erp.people',
  },
  must_be_mapped: {
    code: 'must_be_mapped',
    file: FILE,
    field: 'columns',
    target: 'erp.tasks',
    column: 'title',
  },
  links_to_itself: { code: 'links_to_itself', file: FILE, target: 'erp.tasks' },
  link_cycle: {
    code: 'link_cycle',
    tables: [
      { file: 'a.yaml', target: 'erp.a' },
      { file: 'b.yaml', target: 'erp.b' },
    ],
  },
};

describe('mapping problems in words', () => {
  it.each(Object.values(EVERY_CODE))(
    '$code: a sentence with what to do, no code and no undefined',
    (problem) => {
      const text = mappingProblemsText([problem]);
      expect(text).not.toMatch(/undefined|null|\[object/);
      expect(text).not.toContain(problem.code);
      expect(text).not.toContain('\u0007');
      if ('file' in problem)
        expect(text.split('\n')[0]).toMatch(
          /^mappings\/to-dos ✓\.yaml (is not a valid mapping|does not match the Coda doc|does not fit the database):$/,
        );
      if ('field' in problem)
        expect(text.split('\n')[1]).toMatch(new RegExp(`^ {2}${problem.field.replaceAll('.', '\\.')}: `));
    },
  );

  it('says what each rule of the file wants', () => {
    const texts = FIELD_RULES.map((rule) =>
      mappingProblemsText([{ code: 'breaks_rule', file: FILE, field: 'f', rule }]),
    );
    for (const text of texts) expect(text).toMatch(/\n {2}f: (must|needs) /);
    expect(new Set(texts).size).toBe(FIELD_RULES.length);
  });

  it('answers a column the doc lacks with its new id, or the closest names', () => {
    expect(mappingProblemsText([EVERY_CODE.no_such_coda_column])).toBe(
      `${FILE} does not match the Coda doc:\n  columns.title.from: Coda table "To-dos ✓" (grid-tOdos001) has no column c-gone ("what?"); did you mean "What"? the table's columns are "What" (c-what), "Due␇ by" (c-when)`,
    );
    const recreated = { ...EVERY_CODE.skipped_column_gone, label: 'What' };
    expect(mappingProblemsText([recreated])).toContain(
      'skip.c-old: Coda table "To-dos ✓" (grid-tOdos001) has no column c-old ("What"); a column named "What" now has id c-what: use that id',
    );
    expect(mappingProblemsText([EVERY_CODE.skipped_column_gone])).toMatch(
      /has no column c-old; remove the entry$/,
    );
  });

  it("lists a file's problems under one line per check, in the order found, the folder's own apart", () => {
    const { breaks_rule, unknown_fields, may_be_empty, mapped_twice, conversion_unfit } = EVERY_CODE;
    expect(
      mappingProblemsText([breaks_rule, may_be_empty, mapped_twice, unknown_fields, conversion_unfit]),
    ).toBe(
      [
        `${FILE} is not a valid mapping:`,
        '  columns.title.from: must be a Coda column id such as c-AbC123xyz, not a column name (names change, ids do not)',
        '  columns.title: unknown field "requried": check the spelling, or remove it',
        `${FILE} does not fit the database:`,
        '  columns.status: erp.tasks.status may not be empty; add a default (default: …) or mark it required (required: true) so such rows are rejected',
        '  columns.due_date: "as: number" cannot fill erp.tasks.due_date, which is date; use a conversion that produces date',
        `${FILE} and mappings/tasks.yaml both map grid-tOdos001; keep one mapping per Coda table`,
      ].join('\n'),
    );
  });

  it('says that a refused run read and wrote nothing, and where to fix the mappings', () => {
    const problems = [EVERY_CODE.no_such_coda_column];
    expect(mappingErrorText(new MappingError(problems))).toBe(mappingProblemsText(problems));
    expect(mappingErrorText(new MappingError(problems, 'mappings-dOc'))).toMatch(
      /\nNo row was read and nothing was written: fix the mappings in mappings-dOc and run again\.$/,
    );
  });
});
