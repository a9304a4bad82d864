/**
 * The owner's words for what the load writes: each erp table by its Coda table, each erp column by
 * the Coda column it reads, each database value of a choice by Coda's label. The reports name
 * everything this way; the load works in erp names. Pure: built from the mappings and the doc.
 */
import type { SnapshotTable } from '../extract/index.ts';
import { codaColumnLabel } from './column-labels.ts';
import type { LoadedMapping } from './mapping-spec.ts';

export interface ColumnWords {
  /** The Coda column's name as the doc has it now, else as the mapping remembers it. */
  label: string;
  /** For a select or tags column: each database value and the Coda choice label(s) that load as it. */
  choices?: Record<string, string[]>;
}

export interface TableWords {
  target: string;
  codaTable: { id: string; name: string };
  mappingFile: string;
  /** By erp column name. */
  columns: Record<string, ColumnWords>;
}

export interface Vocabulary {
  /** The folder the mapping files were read from, as given: the next command names it. */
  mappingsFolder: string | null;
  tables: TableWords[];
}

/** Where a mapping file lives, up to its last separator ("mappings" for "mappings/tasks.yaml"). */
function folderOf(file: string): string {
  const at = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return at < 0 ? '.' : file.slice(0, at) || '/';
}

export function vocabularyOf(
  mappings: readonly LoadedMapping[],
  docTables: readonly Pick<SnapshotTable, 'id' | 'name' | 'columns'>[],
): Vocabulary {
  return {
    mappingsFolder: mappings[0] ? folderOf(mappings[0].file) : null,
    tables: mappings.map((mapping) => {
      const { file, spec } = mapping;
      const table = docTables.find((candidate) => candidate.id === spec.coda.table);
      const columns: Record<string, ColumnWords> = {};
      for (const [column, columnSpec] of Object.entries(spec.columns)) {
        if (columnSpec.as === 'constant') continue;
        const label = codaColumnLabel(mapping, column, table?.columns);
        const values = 'values' in columnSpec ? columnSpec.values : undefined;
        const choices: Record<string, string[]> = {};
        for (const [codaLabel, value] of Object.entries(values ?? {}))
          choices[value] = [...(choices[value] ?? []), codaLabel];
        columns[column] = values ? { label, choices } : { label };
      }
      return {
        target: spec.target,
        codaTable: { id: spec.coda.table, name: table?.name ?? spec.coda.name },
        mappingFile: file,
        columns,
      };
    }),
  };
}
