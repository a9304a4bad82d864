/** Code-unit order: the same on every machine, unlike the database's or the locale's collation. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
