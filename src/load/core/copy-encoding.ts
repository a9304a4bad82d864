/**
 * COPY text format, written by hand because its rules are few and exact: a NULL is \N, and a
 * backslash, newline, carriage return or tab inside a value is escaped. Any other Unicode passes
 * through as UTF-8. NUL cannot be stored in Postgres text at all; the transform stage rejects it
 * before a value gets here, and encoding one anyway is a bug, reported as such.
 */
import type { PgValue } from '../../transform/convert.ts';

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Most values hold none: a test is several times cheaper than a replace that finds nothing. */
const ESCAPED = /[\\\n\r\t]/;

function escapeCopy(text: string): string {
  if (text.includes('\u0000'))
    throw new Error('a NUL character reached COPY; the transform stage should have rejected it');
  return ESCAPED.test(text)
    ? text.replace(/[\\\n\r\t]/g, (character) => COPY_ESCAPES[character] ?? character)
    : text;
}

/** A Postgres array literal of text: every element quoted, so commas, braces and NULL-looking text stay text. */
function textArrayLiteral(items: string[]): string {
  return `{${items.map((item) => `"${item.replace(/[\\"]/g, (character) => `\\${character}`)}"`).join(',')}}`;
}

/**
 * One field. `columnType` is the staging column's type from the catalog: a list becomes a JSON
 * array for jsonb and an array literal for text[].
 */
export function encodeCopyField(value: PgValue | object, columnType: string): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'string') return escapeCopy(value);
  if (Array.isArray(value) && columnType.endsWith('[]')) return escapeCopy(textArrayLiteral(value));
  return escapeCopy(JSON.stringify(value));
}

export function encodeCopyRow(fields: string[]): string {
  return `${fields.join('\t')}\n`;
}
