/**
 * How the owner is shown a row or a name: a blank Coda name never reaches a report as whitespace,
 * and a name that matches nothing is answered with the closest names there are.
 */

/** Whether a Coda row name says anything: "   " does not. */
export function hasName(name: string | null | undefined): name is string {
  return typeof name === 'string' && name.trim() !== '';
}

/** A row's name in a list, "(no name)" when it is blank. */
export function rowTitle(name: string | null | undefined): string {
  return hasName(name) ? name : '(no name)';
}

/** A row named in a sentence: "Alpha" in quotes, or "a Projects row with no name". */
export function namedRow(name: string | null | undefined, table: string): string {
  return hasName(name) ? `"${name}"` : `a ${table} row with no name`;
}

/** A person in a sentence: their name, else their email, else "a person with no name". */
export function personTitle(person: { name?: string | null; email?: string | null }): string {
  if (hasName(person.name)) return person.name;
  return hasName(person.email) ? person.email : 'a person with no name';
}

/** Edits (insert, delete, substitute) that turn one string into the other. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidates a mistyped name most likely meant, best first: the same name in another case,
 * one holding the other ("Task" and "Tasks"), or a few typing slips away ("Taks").
 */
export function closestNames(wanted: string, candidates: readonly string[], limit = 3): string[] {
  const key = wanted.trim().toLowerCase();
  if (!key) return [];
  const scored = candidates.flatMap((candidate) => {
    const other = candidate.trim().toLowerCase();
    if (!other) return [];
    if (other === key) return [{ candidate, score: 0 }];
    const distance = editDistance(key, other);
    if (distance <= Math.max(1, Math.floor(Math.max(key.length, other.length) / 3)))
      return [{ candidate, score: distance }];
    if (other.includes(key) || key.includes(other))
      return [{ candidate, score: 100 + Math.abs(other.length - key.length) }];
    return [];
  });
  return scored
    .sort((a, b) => a.score - b.score)
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

/** `did you mean "Tasks"? ` (to go before the full list), or nothing when no name is close. */
export function didYouMean(wanted: string, candidates: readonly string[]): string {
  const closest = closestNames(wanted, candidates);
  return closest.length ? `did you mean ${closest.map((name) => `"${name}"`).join(' or ')}? ` : '';
}
