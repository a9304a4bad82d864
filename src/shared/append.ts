/**
 * `target.push(...items)` passes every item as an argument, and past about 100,000 of them the
 * call overflows the stack ("Maximum call stack size exceeded"). Lists of rows can be that long.
 */
export function appendAll<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item);
}
