/**
 * What a Coda column is, as a draft needs to know it: its format, the conversion that loads it,
 * and the choices its format lists.
 */
import type { PublicApiColumn } from '../extract/index.ts';
import type { ColumnSpec } from '../transform/mapping-spec.ts';

export type Conversion = Exclude<ColumnSpec['as'], 'constant'>;

interface ColumnFormat {
  type: string;
  isArray?: boolean;
  table?: { id?: string; name?: string };
  options?: unknown;
  currencyCode?: string;
}

export const formatOf = (column: PublicApiColumn) => column.format as ColumnFormat;

export function conversionFor(column: PublicApiColumn): Conversion | undefined {
  const format = formatOf(column);
  switch (format.type) {
    case 'text':
    case 'email':
    case 'link':
    case 'canvas':
      return format.isArray ? 'list' : 'text';
    case 'select':
      return format.isArray ? 'tags' : 'select';
    case 'number':
    case 'slider':
    case 'scale':
      return 'number';
    case 'currency':
      return 'currency';
    case 'percent':
      return 'percent';
    case 'date':
      return 'date';
    case 'dateTime':
      return 'datetime';
    case 'checkbox':
      return 'checkbox';
    case 'person':
      return 'person';
    case 'lookup':
      return 'lookup';
    default:
      return undefined;
  }
}

export function isChoiceColumn(column: PublicApiColumn): boolean {
  return formatOf(column).type === 'select';
}

export function formatOptions(column: PublicApiColumn): string[] {
  const options = formatOf(column).options;
  if (!Array.isArray(options)) return [];
  return options.map((option) =>
    typeof option === 'object' && option && 'name' in option ? String(option.name) : String(option),
  );
}
