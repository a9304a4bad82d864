/**
 * A value as the JSON text a jsonb (or text) column of the run's record stores: Postgres holds no
 * U+0000 in either, so one in a Coda value or a row name is stored as the visible symbol ␀.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/\\u0000/g, '\u2400');
}
