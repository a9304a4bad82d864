/**
 * `erp mappings check`, the Coda side: each mapping against the table the doc holds (its columns
 * exist) and every choice in the doc that a value map leaves out, with how many rows hold it.
 * Nothing is loaded; the database side is the load stage's own check of the mappings.
 */
import type { Snapshot } from '../extract/index.ts';
import { toSelect, toTags } from '../transform/convert.ts';
import type { LoadedMapping, MappingFolder } from '../transform/mapping-spec.ts';
import { CoverageCounter, leftBehind } from '../transform/coverage.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { countChoices, describeChoice } from './choices.ts';
import { allowedValues } from './choice-matching.ts';
import type { TargetTable } from './target-schema.ts';

/** `schema`: the database's erp tables, so a missing choice is told which values it may map to. */
export async function checkMappingsAgainstDoc(
  source: Snapshot,
  mappings: LoadedMapping[],
  schema: TargetTable[],
): Promise<string[]> {
  const { doc, tables } = source.manifest();
  const problems: string[] = [];
  for (const mapping of mappings) {
    const { file, spec } = mapping;
    const found = mappingProblemsAgainstDoc([mapping], doc, tables);
    if (found.length) {
      problems.push(...found);
      continue;
    }
    const table = tables.find((candidate) => candidate.id === spec.coda.table)!;
    const choiceColumns = Object.entries(spec.columns).flatMap(([name, column]) =>
      (column.as === 'select' || column.as === 'tags') && column.values
        ? [{ name, id: column.from, multiple: column.as === 'tags', values: column.values }]
        : [],
    );
    const counts = await countChoices(source, table.id, choiceColumns);
    const target = schema.find((candidate) => candidate.name === spec.target);
    const uncovered = choiceColumns.flatMap(({ name, id, multiple, values }) =>
      [...(counts.get(id) ?? [])]
        .filter(([choice]) => !(multiple ? toTags([choice], values) : toSelect(choice, values)).ok)
        .map(([choice, rows]) => {
          const allowed = target && allowedValues(target, name);
          const value = allowed ? `one of ${allowed.join(', ')}` : '<database value>';
          return `  columns.${name}.values: ${describeChoice(choice, rows)} is not mapped, so those rows are rejected; add "${choice}": ${value}`;
        }),
    );
    if (uncovered.length) problems.push(`${file}:\n${uncovered.join('\n')}`);
  }
  return problems;
}

/**
 * Coda data the folder neither loads nor skips: each column holding data in a mapped table, and
 * each table with rows that no file names. Only tables with such a column are read.
 */
export async function checkCoverage(source: Snapshot, folder: MappingFolder): Promise<string[]> {
  const { tables } = source.manifest();
  const coverage = new CoverageCounter(tables, folder);
  for (const tableId of coverage.tablesWithUndeclaredColumns()) {
    const countCells = coverage.rowCounter(tableId)!;
    for await (const row of source.rows(tableId)) countCells(row);
  }
  return leftBehind(coverage.result()).map((item) => {
    if (item.kind === 'table')
      return `Coda table "${item.table.name}" (${item.table.id}) has ${item.rows} row(s), but no mapping names it: draft one (\`erp mappings draft --table "${item.table.name}"\`), or add a file with coda: { table: ${item.table.id}, name: "${item.table.name}" } and skip: "why it stays in Coda"`;
    const file = folder.mappings.find((mapping) => mapping.spec.coda.table === item.table.id)?.file ?? '';
    const examples = item.column.examples.map((text) => `"${text}"`).join(', ');
    return `${file}:\n  Coda column "${item.column.label}" (${item.column.id}) holds data in ${item.column.cells} row(s), e.g. ${examples}, but is neither loaded nor skipped: map it under columns:, or add it under skip: with the reason, e.g. ${item.column.id}: "kept in Coda"`;
  });
}
