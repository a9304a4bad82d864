/**
 * `erp mappings check`, the Coda side: each mapping against the table the doc holds (its columns
 * exist) and every choice in the doc that a value map leaves out, with how many rows hold it.
 * Nothing is loaded; the database side is the load stage's own check of the mappings.
 */
import type { Snapshot } from '../extract/index.ts';
import { toSelect, toTags } from '../transform/convert.ts';
import type { LoadedMapping, MappingFolder } from '../transform/mapping-spec.ts';
import { CoverageCounter, leftBehind } from '../transform/coverage.ts';
import type { DocProblem } from '../transform/mapping-problems.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { countChoices } from './choices.ts';
import { allowedValues } from './choice-matching.ts';
import type { TargetTable } from './target-schema.ts';

/** `schema`: the database's erp tables, so a missing choice is told which values it may map to. */
export async function checkMappingsAgainstDoc(
  source: Snapshot,
  mappings: LoadedMapping[],
  schema: TargetTable[],
): Promise<DocProblem[]> {
  const { doc, tables } = source.manifest();
  const problems: DocProblem[] = [];
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
    for (const { name, id, multiple, values } of choiceColumns)
      for (const [choice, rows] of counts.get(id) ?? [])
        if (!(multiple ? toTags([choice], values) : toSelect(choice, values)).ok)
          problems.push({
            code: 'choice_not_mapped',
            file,
            field: `columns.${name}.values`,
            choice,
            rows,
            allowed: (target && allowedValues(target, name)) ?? null,
          });
  }
  return problems;
}

/**
 * Coda data the folder neither loads nor skips: each column holding data in a mapped table, and
 * each table with rows that no file names. Only tables with such a column are read.
 */
export async function checkCoverage(source: Snapshot, folder: MappingFolder): Promise<DocProblem[]> {
  const { tables } = source.manifest();
  const coverage = new CoverageCounter(tables, folder);
  for (const tableId of coverage.tablesWithUndeclaredColumns()) {
    const countCells = coverage.rowCounter(tableId)!;
    for await (const row of source.rows(tableId)) countCells(row);
  }
  return leftBehind(coverage.result()).map((item): DocProblem => {
    if (item.kind === 'table') return { code: 'table_left_behind', table: item.table, rows: item.rows };
    const file = folder.mappings.find((mapping) => mapping.spec.coda.table === item.table.id)?.file ?? '';
    const { id, label, cells, examples } = item.column;
    return { code: 'column_left_behind', file, column: { id, name: label }, cells, examples };
  });
}
