/**
 * Turns the mapping files into an ordered list of table loads, after checking every mapping
 * against the live catalog: target tables and columns exist, conversions fit the column types,
 * links point where the foreign keys point, and columns that may not be empty cannot be.
 *
 * Tables load parents first, in the order the mappings' links imply. A cycle is an error that
 * names it: loading a cycle would need a second pass, and the owner's doc has none.
 */
import type pg from 'pg';
import {
  MappingError,
  TARGET_TYPES,
  type ColumnSpec,
  type LoadedMapping,
} from '../../transform/mapping-spec.ts';
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
  problems: string[],
): void {
  const { mapping, target } = load;
  for (const [name, column] of Object.entries(mapping.spec.columns)) {
    const where = `columns.${name}`;
    const targetColumn = target.columns.get(name);
    if (!targetColumn) {
      problems.push(
        `${where}: ${target.name} has no column ${name}; its columns are ${[...target.columns.keys()].join(', ')}`,
      );
      continue;
    }
    if (targetColumn.generated) {
      problems.push(`${where}: ${target.name}.${name} is filled by the database; remove it from the mapping`);
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
      problems.push(
        `${where}: "as: ${column.as}" cannot fill ${target.name}.${name}, which is ${targetColumn.type}; use a conversion that produces ${targetColumn.type}`,
      );
      continue;
    }
    if (targetColumn.notNull && !neverEmpty(column)) {
      problems.push(
        `${where}: ${target.name}.${name} may not be empty; add a default (default: …) or mark it required (required: true) so such rows are rejected`,
      );
    }
    if (column.as === 'person' || column.as === 'lookup') {
      const referenced = target.references.get(name);
      // A Coda table that no mapping of this run loads still resolves through earlier runs' lineage.
      const wanted =
        column.as === 'person'
          ? PEOPLE_TABLE
          : (byCodaTable.get(column.table)?.spec.target ??
            (docTables.has(column.table) ? referenced : undefined));
      if (column.as === 'lookup' && !wanted) {
        problems.push(
          `${where}.table: the doc has no table ${column.table}; use the id of the table this column links to`,
        );
      } else if (!wanted || referenced !== wanted) {
        problems.push(
          `${where}: ${target.name}.${name} references ${referenced ?? 'nothing'}, but the ${column.as} resolves to ${wanted}`,
        );
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
    if (column.notNull && !column.hasDefault && !column.generated && !(column.name in mapping.spec.columns)) {
      problems.push(
        `columns: ${target.name}.${column.name} must be filled, but the mapping does not map it; add columns.${column.name}`,
      );
    }
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
      throw new MappingError(
        `${load.mapping.file}: ${load.target.name} links to itself; self-links are not supported yet, map that column as text`,
      );
    }
  }
  const ordered: TableLoad[] = [];
  const placed = new Set<TableLoad>();
  while (ordered.length < loads.length) {
    const ready = loads.filter(
      (load) => !placed.has(load) && [...(parents.get(load) ?? [])].every((parent) => placed.has(parent)),
    );
    if (!ready.length) {
      const stuck = loads
        .filter((load) => !placed.has(load))
        .map((load) => `${load.mapping.file} (${load.target.name})`);
      throw new MappingError(
        `the mappings link in a cycle, so no table can load first: ${stuck.join(', ')}; make one of those links a text column`,
      );
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
  const errors: string[] = [];
  for (const mapping of mappings) {
    const target = await readTargetTable(client, mapping.spec.target);
    if (!target) {
      errors.push(
        `${mapping.file}:\n  target: there is no table ${mapping.spec.target}; run \`erp migrate\`, or fix the name`,
      );
      continue;
    }
    const load: TableLoad = { mapping, target, columns: Object.keys(mapping.spec.columns), references: [] };
    const problems: string[] = [];
    checkColumns(load, byCodaTable, docTables, problems);
    if (problems.length)
      errors.push(`${mapping.file}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    loads.push(load);
  }
  if (errors.length) throw new MappingError(`The mappings do not fit the database:\n${errors.join('\n')}`);
  return dependencyOrder(loads);
}
