import { describe, expect, it } from 'vitest';
import {
  NO_TRANSACTION_MARKER,
  readMigrationFiles,
  runsOutsideTransaction,
} from '../../src/db/migrations.ts';
import { splitStatements } from '../../src/db/sql-statements.ts';

/**
 * The habits of docs/MIGRATIONS.md, checked on every migration file numbered after 005 (001–005
 * are applied in production and never edited).
 */
const LAST_FILE_BEFORE_THE_HABITS = 5;

const withoutComments = (statement: string) =>
  statement
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Table names as written, lower case, without quotes: "erp"."Offers" and erp.offers compare equal. */
const tableName = (name: string) => name.replace(/"/g, '').toLowerCase();

/** Every way `sql` breaks the habits, in words; an empty list when it follows them. */
function habitProblems(sql: string): string[] {
  const problems: string[] = [];
  const outside = runsOutsideTransaction({ sql });
  const statements = splitStatements(sql).map(withoutComments).filter(Boolean);

  if (!/^SET lock_timeout\s*(=|TO)\s*'\d+\s*(ms|s)?'/i.test(statements[0] ?? '')) {
    problems.push("the first statement is not SET lock_timeout = '…'");
  }

  const createdHere = new Set<string>();
  const validated = new Set<string>();
  const notValid: string[] = [];
  const commented = new Set<string>();
  const checks: string[] = [];
  for (const statement of statements) {
    if (/^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|END)\b/i.test(statement)) {
      problems.push(`"${statement}": the runner owns transactions; no BEGIN/COMMIT in a file`);
    }
    if (/\bCONCURRENTLY\b/i.test(statement) && !outside) {
      problems.push(
        `"${statement.slice(0, 60)}…": CONCURRENTLY needs a file whose first line is ${NO_TRANSACTION_MARKER}`,
      );
    }
    const created = /^CREATE TABLE (?:IF NOT EXISTS )?([\w."]+)/i.exec(statement)?.[1];
    if (created) createdHere.add(tableName(created));
    for (const [, name = ''] of statement.matchAll(/\bCONSTRAINT ("?[\w]+"?) CHECK\b/gi)) {
      checks.push(tableName(name));
    }
    for (const [, name = ''] of statement.matchAll(/^COMMENT ON CONSTRAINT ("?[\w]+"?) ON /gi)) {
      commented.add(tableName(name));
    }
    for (const [, name = ''] of statement.matchAll(/\bVALIDATE CONSTRAINT ("?[\w]+"?)/gi)) {
      validated.add(tableName(name));
    }

    const altered = /^ALTER TABLE (?:ONLY )?(?:IF EXISTS )?([\w."]+) ([\s\S]*)$/i.exec(statement);
    if (!altered || createdHere.has(tableName(altered[1] ?? ''))) continue;
    const table = altered[1] ?? '';
    // One ALTER TABLE may carry several actions; each ADD is judged on its own.
    for (const action of (altered[2] ?? '').split(/,\s*(?=ADD\b|DROP\b|ALTER\b|VALIDATE\b)/i)) {
      const constraint = /^ADD CONSTRAINT ("?[\w]+"?) (CHECK|FOREIGN KEY)\b/i.exec(action);
      if (constraint) {
        if (/\bNOT VALID\b/i.test(action)) notValid.push(tableName(constraint[1] ?? ''));
        else {
          problems.push(`${constraint[1]} on ${table} is added without NOT VALID (a full scan under lock)`);
        }
      } else if (/^ADD (?:COLUMN )?[\s\S]*\b(CHECK|REFERENCES)\b/i.test(action)) {
        problems.push(
          `a column added to ${table} carries a ${action.match(/\b(CHECK|REFERENCES)\b/i)?.[1]} inline; add it as a named constraint NOT VALID, then VALIDATE it`,
        );
      }
    }
  }
  for (const name of notValid) {
    if (!validated.has(name))
      problems.push(`${name} is added NOT VALID but never validated (VALIDATE CONSTRAINT)`);
  }
  for (const name of checks) {
    if (!commented.has(name))
      problems.push(`CHECK ${name} has no COMMENT ON CONSTRAINT saying its rule in words`);
  }
  return problems;
}

describe('migration files after 005 follow the habits of docs/MIGRATIONS.md', () => {
  it('each sets lock_timeout, adds constraints to existing tables NOT VALID then validates them, and uses CONCURRENTLY only outside a transaction', async () => {
    const files = (await readMigrationFiles()).filter(
      (file) => Number(file.name.split('_', 1)[0]) > LAST_FILE_BEFORE_THE_HABITS,
    );
    const problems = Object.fromEntries(files.map((file) => [file.name, habitProblems(file.sql)]));
    expect(problems).toEqual(Object.fromEntries(files.map((file) => [file.name, []])));
  });

  it('accepts a file that follows them', () => {
    const good = [
      '-- 099_example.sql: the header comment comes first',
      "SET lock_timeout = '5s';",
      "CREATE TABLE erp.notes (id bigint PRIMARY KEY, body text CONSTRAINT notes_body_check CHECK (body <> ''));",
      "COMMENT ON CONSTRAINT notes_body_check ON erp.notes IS 'A note has text.';",
      'ALTER TABLE erp.offers ADD CONSTRAINT offers_price_check CHECK (list_price < 1e9) NOT VALID;',
      'ALTER TABLE erp.offers VALIDATE CONSTRAINT offers_price_check;',
      "COMMENT ON CONSTRAINT offers_price_check ON erp.offers IS 'A price is below a billion.';",
      'ALTER TABLE erp.tasks ADD COLUMN note_id bigint;',
      'ALTER TABLE erp.tasks ADD CONSTRAINT tasks_note_fk FOREIGN KEY (note_id) REFERENCES erp.notes (id) NOT VALID;',
      'ALTER TABLE erp.tasks VALIDATE CONSTRAINT tasks_note_fk;',
    ].join('\n');
    expect(habitProblems(good)).toEqual([]);
    const concurrent = `${NO_TRANSACTION_MARKER}\nSET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_note ON erp.tasks (note_id);\n`;
    expect(habitProblems(concurrent)).toEqual([]);
  });

  it('names each habit a file breaks', () => {
    const bad = [
      'BEGIN;',
      'ALTER TABLE erp.offers ADD CONSTRAINT offers_price_check CHECK (list_price < 1e9);',
      'ALTER TABLE erp.tasks ADD CONSTRAINT tasks_note_fk FOREIGN KEY (note_id) REFERENCES erp.notes (id) NOT VALID;',
      'ALTER TABLE erp.people ADD COLUMN age int CHECK (age > 0);',
      'CREATE INDEX CONCURRENTLY people_age ON erp.people (age);',
      'COMMIT;',
    ].join('\n');
    expect(habitProblems(bad)).toEqual([
      "the first statement is not SET lock_timeout = '…'",
      '"BEGIN;": the runner owns transactions; no BEGIN/COMMIT in a file',
      'offers_price_check on erp.offers is added without NOT VALID (a full scan under lock)',
      'a column added to erp.people carries a CHECK inline; add it as a named constraint NOT VALID, then VALIDATE it',
      `"CREATE INDEX CONCURRENTLY people_age ON erp.people (age);…": CONCURRENTLY needs a file whose first line is ${NO_TRANSACTION_MARKER}`,
      '"COMMIT;": the runner owns transactions; no BEGIN/COMMIT in a file',
      'tasks_note_fk is added NOT VALID but never validated (VALIDATE CONSTRAINT)',
      'CHECK offers_price_check has no COMMENT ON CONSTRAINT saying its rule in words',
    ]);
  });

  it('splits statements without breaking strings, identifiers, comments or function bodies', () => {
    const sql = [
      "-- header; with a semicolon\nSET lock_timeout = '5s';",
      "COMMENT ON TABLE erp.notes IS 'one; two';",
      'CREATE FUNCTION erp.f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;',
      'CREATE FUNCTION erp.g(n int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN n > 0 THEN 1 END; SELECT 2; END;',
      'SELECT "odd;name" FROM erp.notes /* a; comment */;',
    ];
    expect(splitStatements(`${sql.join('\n')}\n-- trailing comment\n`)).toEqual(sql);
  });
});
