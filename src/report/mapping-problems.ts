/**
 * What is wrong with the mappings, in the words of whoever edits them: every problem code of
 * src/transform/mapping-problems.ts worded once, here, with its file, its field and the fix. The
 * problems of one file are listed under it, by what they were checked against.
 */
import type { FieldRule, MappingError, MappingProblem } from '../transform/mapping-problems.ts';
import { didYouMean } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
import { plural } from './lists.ts';

const CONVERSIONS =
  'text, number, currency, percent, date, datetime, checkbox, select, tags, list, person, lookup, constant';

/** What a field must hold, after its name and a colon. */
const RULES: Record<FieldRule, string> = {
  coda_column_id: 'must be a Coda column id such as c-AbC123xyz (the mapping bootstrap writes them)',
  coda_column_id_not_name:
    'must be a Coda column id such as c-AbC123xyz, not a column name (names change, ids do not)',
  coda_table_id: 'must be a Coda table id such as grid-AbC123xyz',
  coda_base_table_id: 'must be a Coda base table id such as grid-AbC123xyz (views, table-…, hide columns)',
  person_policy: 'must be "create" (add unknown people to erp.people) or "reject" (reject the row)',
  multiple_policy:
    'must be "reject" (reject a row naming several people) or "first" (load the first, list the others on the row)',
  rejected_parent_policy:
    'must be "reject" (reject the row too) or "load_without_link" (load it with the link empty)',
  value_map: 'must map each Coda choice to a database value, e.g. "In Progress": active',
  currency_code: 'must be a currency code such as USD',
  needs_as: `needs "as:" set to one of ${CONVERSIONS}`,
  skip_reason: 'must say why the column stays in Coda, e.g. "kept in Coda: no place for it in erp"',
  target_column_name: 'must be a column name of the target table (lowercase, e.g. owner_person_id)',
  target_table: 'must name a table in the erp schema, e.g. erp.projects',
  some_column: 'must map at least one column',
  required:
    'must be given: every mapping has it (`erp mappings draft` writes a complete file to compare with)',
};

/** What a file's problems were found against, after its name. */
type Against = 'file' | 'doc' | 'database';
const HEADINGS: Record<Against, string> = {
  file: 'is not a valid mapping',
  doc: 'does not match the Coda doc',
  database: 'does not fit the database',
};

const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');
const codaNamed = (items: readonly { id: string; name: string }[]) =>
  items.map((item) => `"${item.name}" (${item.id})`).join(', ');

/** A Coda column a mapping names by id, with the name the mapping remembers for it. */
function codaColumn(id: string, label: string | null): string {
  return `${id}${label ? ` ("${label}")` : ''}`;
}

/** A column the doc now has under the mapping's name for it, but under a new id. */
function recreatedColumn(label: string | null, columns: readonly { id: string; name: string }[]) {
  const sameName = label === null ? undefined : columns.find((column) => column.name === label);
  return sameName && `a column named "${sameName.name}" now has id ${sameName.id}: use that id`;
}

/** One problem, as what was found against, and the sentence said under its file and field. */
function worded(problem: MappingProblem): { against: Against; text: string } {
  const file = (text: string) => ({ against: 'file' as const, text });
  const doc = (text: string) => ({ against: 'doc' as const, text });
  const database = (text: string) => ({ against: 'database' as const, text });
  switch (problem.code) {
    case 'not_yaml':
      return file(
        `${problem.line === null ? 'it' : `line ${problem.line}`} is not valid YAML: ${problem.error}. Fix the indentation or quoting there.`,
      );
    case 'breaks_rule':
      return file(RULES[problem.rule]);
    case 'invalid_field':
      return file(problem.detail);
    case 'unknown_fields':
      return file(`unknown field ${quoted(problem.keys)}: check the spelling, or remove it`);
    case 'declared_skipped':
      return file(
        `it declares the Coda table "${problem.codaTable}" skipped; a mapping needs target: and columns:`,
      );
    case 'skipped_and_loaded':
      return file(`the column is also loaded into columns.${problem.target}; remove it from one of them`);
    case 'mapped_twice':
      return file(
        `${problem.files[0]} and ${problem.files[1]} both map ${problem.value}; keep one mapping per ${problem.what === 'coda_table' ? 'Coda table' : 'target table'}`,
      );
    case 'no_mappings_folder':
      return file(
        `there is no mappings folder ${problem.dir}; write drafts into it with \`npm run erp -- mappings draft --table <names...> --mappings ${problem.dir}\`, or pass the folder that holds your mappings with --mappings DIR`,
      );
    case 'no_mapping_files':
      return file(
        `${problem.dir} holds no mapping files (*.yaml); run \`erp mappings draft\` to write drafts`,
      );
    case 'mappings_of_another_doc':
      return doc(
        `none of the mappings in ${problem.dir}${problem.example ? ` (${problem.dir}/ holds the example doc's)` : ''} is for a table of doc ${problem.docId}; draft yours with \`npm run erp -- mappings draft --table <names...>\` and pass its folder with --mappings DIR`,
      );
    case 'no_such_coda_table': {
      const { table, tables } = problem;
      const closest = didYouMean(
        table.name,
        tables.map((candidate) => candidate.name),
      );
      return doc(
        `doc ${problem.docId} has no table ${table.id} ("${table.name}"); ${closest}its tables are ${tables.map((candidate) => `${candidate.id} (${candidate.name})`).join(', ')}`,
      );
    }
    case 'no_such_coda_column': {
      const { table, label, columns } = problem;
      const closest = label
        ? didYouMean(
            label,
            columns.map((column) => column.name),
          )
        : '';
      const hint =
        recreatedColumn(label, columns) ?? `${closest}the table's columns are ${codaNamed(columns)}`;
      return doc(
        `Coda table "${table.name}" (${table.id}) has no column ${codaColumn(problem.column, label)}; ${hint}`,
      );
    }
    case 'skipped_column_gone': {
      const { table, label } = problem;
      const hint = recreatedColumn(label, problem.columns) ?? 'remove the entry';
      return doc(
        `Coda table "${table.name}" (${table.id}) has no column ${codaColumn(problem.column, label)}; ${hint}`,
      );
    }
    case 'other_coda_table':
      return doc(
        `the mapping is for Coda table ${problem.mapped} but was checked against ${problem.checked}`,
      );
    case 'choice_not_mapped': {
      const value = problem.allowed ? `one of ${problem.allowed.join(', ')}` : '<database value>';
      return doc(
        `"${problem.choice}" (${plural(problem.rows, 'row')}) is not mapped, so those rows are rejected; add "${problem.choice}": ${value}`,
      );
    }
    case 'column_left_behind': {
      const { column } = problem;
      return doc(
        `Coda column "${column.name}" (${column.id}) holds data in ${problem.cells} row(s), e.g. ${quoted(problem.examples)}, but is neither loaded nor skipped: map it under columns:, or add it under skip: with the reason, e.g. ${column.id}: "kept in Coda"`,
      );
    }
    case 'table_left_behind': {
      const { table } = problem;
      return doc(
        `Coda table "${table.name}" (${table.id}) has ${problem.rows} row(s), but no mapping names it: draft one (\`erp mappings draft --table "${table.name}"\`), or add a file with coda: { table: ${table.id}, name: "${table.name}" } and skip: "why it stays in Coda"`,
      );
    }
    case 'no_such_target_table':
      return database(`there is no table ${problem.target}; run \`erp migrate\`, or fix the name`);
    case 'no_such_target_column':
      return database(
        `${problem.target} has no column ${problem.column}; its columns are ${problem.columns.join(', ')}`,
      );
    case 'filled_by_database':
      return database(
        `${problem.target}.${problem.column} is filled by the database; remove it from the mapping`,
      );
    case 'conversion_unfit':
      return database(
        `"as: ${problem.as}" cannot fill ${problem.target}.${problem.column}, which is ${problem.type}; use a conversion that produces ${problem.type}`,
      );
    case 'may_be_empty':
      return database(
        `${problem.target}.${problem.column} may not be empty; add a default (default: …) or mark it required (required: true) so such rows are rejected`,
      );
    case 'no_such_linked_table':
      return database(
        `the doc has no table ${problem.codaTable}; use the id of the table this column links to`,
      );
    case 'links_elsewhere':
      return database(
        `${problem.target}.${problem.column} references ${problem.references ?? 'nothing'}, but the ${problem.as} resolves to ${problem.resolvesTo ?? 'the rows of another table'}`,
      );
    case 'must_be_mapped':
      return database(
        `${problem.target}.${problem.column} must be filled, but the mapping does not map it; add columns.${problem.column}`,
      );
    case 'links_to_itself':
      return database(
        `${problem.target} links to itself; self-links are not supported yet, map that column as text`,
      );
    case 'link_cycle':
      return database(
        `the mappings link in a cycle, so no table can load first: ${problem.tables.map((table) => `${table.file} (${table.target})`).join(', ')}; make one of those links a text column`,
      );
  }
}

/**
 * Every problem, one a line: those of a file under a line naming it and what it was checked
 * against, each after its field; the folder's own problems on lines of their own. A Coda name is
 * quoted as the doc has it, a control character in it shown as its picture.
 */
export function mappingProblemsText(problems: readonly MappingProblem[]): string {
  const blocks: { heading: string | null; lines: string[] }[] = [];
  const byHeading = new Map<string, string[]>();
  for (const problem of problems) {
    const { against, text } = worded(problem);
    if (!('file' in problem)) {
      blocks.push({ heading: null, lines: [visible(text)] });
      continue;
    }
    const heading = `${problem.file} ${HEADINGS[against]}:`;
    let lines = byHeading.get(heading);
    if (!lines) {
      lines = [];
      byHeading.set(heading, lines);
      blocks.push({ heading, lines });
    }
    lines.push(`  ${'field' in problem ? `${problem.field}: ` : ''}${visible(text)}`);
  }
  return blocks.flatMap(({ heading, lines }) => (heading === null ? lines : [heading, ...lines])).join('\n');
}

/** A mapping error as the command line says it: its problems, and when a run refused, that nothing was done. */
export function mappingErrorText(error: MappingError): string {
  const refused = error.refusedRun
    ? `\nNo row was read and nothing was written: fix the mappings in ${error.refusedRun} and run again.`
    : '';
  return `${mappingProblemsText(error.problems)}${refused}`;
}
