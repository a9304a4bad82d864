/**
 * Splits a SQL file into its statements, for migrations that run outside a transaction: Postgres
 * runs a multi-statement query string as one implicit transaction, where statements such as
 * CREATE INDEX CONCURRENTLY are refused, so each statement must be sent on its own.
 *
 * Semicolons inside quotes, quoted identifiers, comments, dollar-quoted bodies and SQL-standard
 * function bodies (BEGIN ATOMIC ... END, whose CASE ... END pairs are counted too) do not end a
 * statement. Comments stay with the statement they precede; empty statements are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let at = 0;
  /** Open BEGIN ATOMIC bodies, and CASE expressions inside them, each closed by an END. */
  let openBodies = 0;
  const skipPast = (closing: string) => {
    const end = sql.indexOf(closing, at);
    at = end < 0 ? sql.length : end + closing.length;
  };
  while (at < sql.length) {
    const rest = sql.slice(at);
    const dollarTag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)?.[0];
    if (rest.startsWith('--')) skipPast('\n');
    else if (rest.startsWith('/*')) skipPast('*/');
    else if (rest[0] === "'" || rest[0] === '"') {
      // A doubled quote inside is two quoted runs back to back, which this loop also skips.
      at += 1;
      skipPast(rest[0]);
    } else if (dollarTag) {
      at += dollarTag.length;
      skipPast(dollarTag);
    } else if (/[A-Za-z_]/.test(rest[0] ?? '') && !/[A-Za-z0-9_$]/.test(sql[at - 1] ?? '')) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest)![0];
      const upper = word.toUpperCase();
      if (upper === 'BEGIN' && /^BEGIN\s+ATOMIC\b/i.test(rest)) openBodies += 1;
      else if (upper === 'CASE' && openBodies > 0) openBodies += 1;
      else if (upper === 'END' && openBodies > 0) openBodies -= 1;
      at += word.length;
    } else if (rest[0] === ';' && openBodies > 0) {
      at += 1;
    } else if (rest[0] === ';') {
      statements.push(sql.slice(start, at + 1));
      at += 1;
      start = at;
    } else at += 1;
  }
  statements.push(sql.slice(start));
  return statements.map((statement) => statement.trim()).filter((statement) => !isOnlyComments(statement));
}

function isOnlyComments(statement: string): boolean {
  return (
    statement
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/--[^\n]*/g, '')
      .replace(/;/g, '')
      .trim() === ''
  );
}
