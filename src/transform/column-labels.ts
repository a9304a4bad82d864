/**
 * The Coda column an erp column is loaded from, by the name the owner knows it by: as the doc
 * names it now when the doc is at hand, else as the mapping remembers it (`label`), else the erp
 * column itself (a constant has no Coda column). Never the Coda column's id.
 */
import type { LoadedMapping } from './mapping-spec.ts';

export function codaColumnLabel(
  mapping: LoadedMapping,
  column: string,
  docColumns: readonly { id: string; name: string }[] = [],
): string {
  const spec = mapping.spec.columns[column];
  if (!spec || spec.as === 'constant') return column;
  return docColumns.find((candidate) => candidate.id === spec.from)?.name ?? spec.label ?? column;
}
