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

/**
 * Files written before the habits below were checked, which validate a constraint in the file
 * that adds it NOT VALID (so the scan runs under the lock the migration already holds) or build
 * an index on an existing table without CONCURRENTLY. Applied files are never edited: they stay
 * as they are, named here; every later file follows the habits.
 */
const GRANDFATHERED: Record<string, ('validated in the same file' | 'index without CONCURRENTLY')[]> = {
  '006_reconcile_verdict': ['validated in the same file'],
  '007_row_history': ['validated in the same file'],
  '008_api_safety': ['validated in the same file', 'index without CONCURRENTLY'],
  '009_agent_memory': ['validated in the same file', 'index without CONCURRENTLY'],
  '015_kept_postgres_edits': ['validated in the same file'],
  '017_accepted_coverage': ['validated in the same file'],
  '018_recall_quality': ['validated in the same file', 'index without CONCURRENTLY'],
  '019_api_limits': ['validated in the same file'],
};

interface FileHabits {
  problems: string[];
  /** Constraints this file adds NOT VALID, for a later file to validate. */
  notValid: string[];
  validated: Set<string>;
}

/** Every way `sql` breaks the habits on its own, in words, and what it leaves for later files. */
function fileHabits(sql: string, grandfathered: string[] = []): FileHabits {
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
    const indexed = /^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?[\s\S]*? ON (?:ONLY )?([\w."]+)/i.exec(
      statement,
    );
    if (
      indexed &&
      !indexed[1] &&
      !createdHere.has(tableName(indexed[2] ?? '')) &&
      !grandfathered.includes('index without CONCURRENTLY')
    ) {
      problems.push(
        `an index on ${indexed[2]}, which exists already, is built without CONCURRENTLY (writes wait for the build); build it CONCURRENTLY in a file whose first line is ${NO_TRANSACTION_MARKER}`,
      );
    }
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
    if (validated.has(name) && !grandfathered.includes('validated in the same file'))
      problems.push(
        `${name} is validated in the file that adds it NOT VALID, so the scan holds the lock NOT VALID avoided; VALIDATE CONSTRAINT in a later file`,
      );
  }
  for (const name of checks) {
    if (!commented.has(name))
      problems.push(`CHECK ${name} has no COMMENT ON CONSTRAINT saying its rule in words`);
  }
  return { problems, notValid: notValid.filter((name) => !validated.has(name)), validated };
}

/** Per file, its problems, with each constraint left NOT VALID that no later file validates. */
function folderProblems(files: { name: string; sql: string }[]): Record<string, string[]> {
  const habits = files.map((file) => ({
    name: file.name,
    ...fileHabits(file.sql, GRANDFATHERED[file.name]),
  }));
  return Object.fromEntries(
    habits.map((file, index) => [
      file.name,
      [
        ...file.problems,
        ...file.notValid
          .filter((name) => !habits.slice(index + 1).some((later) => later.validated.has(name)))
          .map((name) => `${name} is added NOT VALID and no later file validates it (VALIDATE CONSTRAINT)`),
      ],
    ]),
  );
}

describe('migration files after 005 follow the habits of docs/MIGRATIONS.md', () => {
  it('each sets lock_timeout, adds constraints to existing tables NOT VALID then validates them, and uses CONCURRENTLY only outside a transaction', async () => {
    const files = (await readMigrationFiles()).filter(
      (file) => Number(file.name.split('_', 1)[0]) > LAST_FILE_BEFORE_THE_HABITS,
    );
    expect(folderProblems(files)).toEqual(Object.fromEntries(files.map((file) => [file.name, []])));
    // A grandfathered file that no longer breaks the habit it is named for: the entry goes.
    const stale = Object.entries(GRANDFATHERED).filter(
      ([name]) =>
        !files.some((file) => file.name === name) ||
        fileHabits(files.find((file) => file.name === name)!.sql).problems.length === 0,
    );
    expect(stale).toEqual([]);
  });

  it('accepts files that follow them: a constraint validated by a later file, an index built concurrently', () => {
    const adding = [
      '-- 099_example.sql: the header comment comes first',
      "SET lock_timeout = '5s';",
      "CREATE TABLE erp.notes (id bigint PRIMARY KEY, body text CONSTRAINT notes_body_check CHECK (body <> ''));",
      "COMMENT ON CONSTRAINT notes_body_check ON erp.notes IS 'A note has text.';",
      'CREATE INDEX notes_body ON erp.notes (body);',
      'ALTER TABLE erp.offers ADD CONSTRAINT offers_price_check CHECK (list_price < 1e9) NOT VALID;',
      "COMMENT ON CONSTRAINT offers_price_check ON erp.offers IS 'A price is below a billion.';",
      'ALTER TABLE erp.tasks ADD COLUMN note_id bigint;',
      'ALTER TABLE erp.tasks ADD CONSTRAINT tasks_note_fk FOREIGN KEY (note_id) REFERENCES erp.notes (id) NOT VALID;',
    ].join('\n');
    const validating = [
      "SET lock_timeout = '5s';",
      'ALTER TABLE erp.offers VALIDATE CONSTRAINT offers_price_check;',
      'ALTER TABLE erp.tasks VALIDATE CONSTRAINT tasks_note_fk;',
    ].join('\n');
    const concurrent = `${NO_TRANSACTION_MARKER}\nSET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_note ON erp.tasks (note_id);\n`;
    const files = [
      { name: '099_example.sql', sql: adding },
      { name: '100_validate.sql', sql: validating },
      { name: '101_index.sql', sql: concurrent },
    ];
    expect(folderProblems(files)).toEqual({
      '099_example.sql': [],
      '100_validate.sql': [],
      '101_index.sql': [],
    });
  });

  it('names each habit a file breaks', () => {
    const bad = [
      'BEGIN;',
      'ALTER TABLE erp.offers ADD CONSTRAINT offers_price_check CHECK (list_price < 1e9);',
      'ALTER TABLE erp.tasks ADD CONSTRAINT tasks_note_fk FOREIGN KEY (note_id) REFERENCES erp.notes (id) NOT VALID;',
      'ALTER TABLE erp.people ADD COLUMN age int CHECK (age > 0);',
      'ALTER TABLE erp.people ADD CONSTRAINT people_age_check CHECK (age < 200) NOT VALID;',
      "COMMENT ON CONSTRAINT people_age_check ON erp.people IS 'An age is below 200.';",
      'ALTER TABLE erp.people VALIDATE CONSTRAINT people_age_check;',
      'CREATE INDEX people_name ON erp.people (full_name);',
      'CREATE INDEX CONCURRENTLY people_age ON erp.people (age);',
      'COMMIT;',
    ].join('\n');
    expect(folderProblems([{ name: '099_bad.sql', sql: bad }])).toEqual({
      '099_bad.sql': [
        "the first statement is not SET lock_timeout = '…'",
        '"BEGIN;": the runner owns transactions; no BEGIN/COMMIT in a file',
        'offers_price_check on erp.offers is added without NOT VALID (a full scan under lock)',
        'a column added to erp.people carries a CHECK inline; add it as a named constraint NOT VALID, then VALIDATE it',
        `an index on erp.people, which exists already, is built without CONCURRENTLY (writes wait for the build); build it CONCURRENTLY in a file whose first line is ${NO_TRANSACTION_MARKER}`,
        `"CREATE INDEX CONCURRENTLY people_age ON erp.people (age);…": CONCURRENTLY needs a file whose first line is ${NO_TRANSACTION_MARKER}`,
        '"COMMIT;": the runner owns transactions; no BEGIN/COMMIT in a file',
        'people_age_check is validated in the file that adds it NOT VALID, so the scan holds the lock NOT VALID avoided; VALIDATE CONSTRAINT in a later file',
        'CHECK offers_price_check has no COMMENT ON CONSTRAINT saying its rule in words',
        'tasks_note_fk is added NOT VALID and no later file validates it (VALIDATE CONSTRAINT)',
      ],
    });
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
