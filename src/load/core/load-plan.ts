/**
 * Turns the mapping files into an ordered list of table loads, after checking every mapping
 * against the live catalog: target tables and columns exist, conversions fit the column types,
 * links point where the foreign keys point, and columns that may not be empty cannot be. Each
 * problem is a code with its file and field (src/transform/mapping-problems.ts); report words it.
 *
 * Tables load parents first, in the order the mappings' links imply. A cycle is an error that
 * names it: loading a cycle would need a second pass, and the owner's doc has none.
 */
import type pg from 'pg';
import { MappingError, type DatabaseProblem } from '../../transform/mapping-problems.ts';
import { TARGET_TYPES, type ColumnSpec, type LoadedMapping } from '../../transform/mapping-spec.ts';
import { readTargetTable, type TargetTable } from '../../catalog/target-tables.ts';

export const PEOPLE_TABLE = 'erp.people';

export interface ReferenceColumn {
  column: string;
  kind: 'row' | 'person';
  /** The erp table the foreign key points at. */
  referencedTable: string;
  /** For row links: the Coda table whose lineage resolves them. */
  codaTable?: string;
}

export interface TableLoad {
  mapping: LoadedMapping;
  target: TargetTable;
  /** Every mapped target column, in mapping order (references included). */
  columns: string[];
  references: ReferenceColumn[];
}

/** Conversions that always produce a value, even from an empty cell. */
function neverEmpty(column: ColumnSpec): boolean {
  if (column.as === 'constant') return column.value !== undefined;
  return (
    column.as === 'tags' ||
    column.as === 'list' ||
    column.as === 'checkbox' ||
    column.required ||
    column.default !== undefined
  );
}

function checkColumns(
  load: TableLoad,
  byCodaTable: Map<string, LoadedMapping>,
  docTables: Set<string>,
  problems: DatabaseProblem[],
): void {
  const { mapping, target } = load;
  const { file } = mapping;
  for (const [name, column] of Object.entries(mapping.spec.columns)) {
    const at = { file, field: `columns.${name}`, target: target.name, column: name };
    const targetColumn = target.columns.get(name);
    if (!targetColumn) {
      problems.push({ ...at, code: 'no_such_target_column', columns: [...target.columns.keys()] });
      continue;
    }
    if (targetColumn.generated) {
      problems.push({ ...at, code: 'filled_by_database' });
      continue;
    }
    const baseType = targetColumn.type.replace(/\(.*\)/, '');
    const produces =
      column.as === 'currency' && column.part === 'code'
        ? TARGET_TYPES.text
        : column.as === 'constant'
          ? undefined
          : TARGET_TYPES[column.as];
    if (produces && !produces.includes(baseType)) {
      problems.push({ ...at, code: 'conversion_unfit', as: column.as, type: targetColumn.type });
      continue;
    }
    if (targetColumn.notNull && !neverEmpty(column)) problems.push({ ...at, code: 'may_be_empty' });
    if (column.as === 'person' || column.as === 'lookup') {
      const referenced = target.references.get(name);
      // A Coda table that no mapping of this run loads still resolves through earlier runs' lineage.
      const wanted =
        column.as === 'person'
          ? PEOPLE_TABLE
          : (byCodaTable.get(column.table)?.spec.target ??
            (docTables.has(column.table) ? referenced : undefined));
      if (column.as === 'lookup' && !wanted) {
        problems.push({
          code: 'no_such_linked_table',
          file,
          field: `${at.field}.table`,
          codaTable: column.table,
        });
      } else if (!wanted || referenced !== wanted) {
        problems.push({
          ...at,
          code: 'links_elsewhere',
          as: column.as,
          references: referenced ?? null,
          resolvesTo: wanted ?? null,
        });
      } else {
        load.references.push({
          column: name,
          kind: column.as === 'person' ? 'person' : 'row',
          referencedTable: wanted,
          ...(column.as === 'lookup' ? { codaTable: column.table } : {}),
        });
      }
    }
  }
  for (const column of target.columns.values()) {
    if (column.notNull && !column.hasDefault && !column.generated && !(column.name in mapping.spec.columns))
      problems.push({
        code: 'must_be_mapped',
        file,
        field: 'columns',
        target: target.name,
        column: column.name,
      });
  }
}

export function dependencyOrder(loads: TableLoad[]): TableLoad[] {
  const byTarget = new Map(loads.map((load) => [load.target.name, load]));
  const parents = new Map(
    loads.map((load) => [
      load,
      new Set(
        load.references
          .map((reference) => byTarget.get(reference.referencedTable))
          .filter((parent): parent is TableLoad => parent !== undefined && parent !== load),
      ),
    ]),
  );
  for (const load of loads) {
    if (
      load.references.some(
        (reference) => reference.kind === 'row' && reference.referencedTable === load.target.name,
      )
    ) {
      throw new MappingError([
        { code: 'links_to_itself', file: load.mapping.file, target: load.target.name },
      ]);
    }
  }
  const ordered: TableLoad[] = [];
  const placed = new Set<TableLoad>();
  while (ordered.length < loads.length) {
    const ready = loads.filter(
      (load) => !placed.has(load) && [...(parents.get(load) ?? [])].every((parent) => placed.has(parent)),
    );
    if (!ready.length) {
      const tables = loads
        .filter((load) => !placed.has(load))
        .map((load) => ({ file: load.mapping.file, target: load.target.name }));
      throw new MappingError([{ code: 'link_cycle', tables }]);
    }
    for (const load of ready) {
      ordered.push(load);
      placed.add(load);
    }
  }
  return ordered;
}

/** `docTables`: the ids of the Coda tables in the source, so a link to a table that no mapping loads can still be checked. */
export async function prepareLoads(
  client: pg.ClientBase,
  mappings: LoadedMapping[],
  docTables: Set<string>,
): Promise<TableLoad[]> {
  const byCodaTable = new Map(mappings.map((mapping) => [mapping.spec.coda.table, mapping]));
  const loads: TableLoad[] = [];
  const problems: DatabaseProblem[] = [];
  for (const mapping of mappings) {
    const target = await readTargetTable(client, mapping.spec.target);
    if (!target) {
      problems.push({
        code: 'no_such_target_table',
        file: mapping.file,
        field: 'target',
        target: mapping.spec.target,
      });
      continue;
    }
    const load: TableLoad = { mapping, target, columns: Object.keys(mapping.spec.columns), references: [] };
    checkColumns(load, byCodaTable, docTables, problems);
    loads.push(load);
  }
  if (problems.length) throw new MappingError(problems);
  return dependencyOrder(loads);
}
