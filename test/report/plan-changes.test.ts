/**
 * A plan after the owner changed the doc shows exactly those changes, and writes nothing.
 *
 * The changed doc is a copy of the fixture with: a value edited, a column renamed (same id), a
 * row deleted, a row added, and a select option Coda gained that the mapping does not know.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { runLoad, type RunReport } from '../../src/load/run.ts';
import { splitReport } from '../../src/report/document.ts';
import { markdownBody } from '../../src/report/markdown.ts';
import { reasonText } from '../../src/report/reasons.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc, offersTable, projectsTable, tasksTable } from '../../bench/coda-server/fixture-doc.ts';
import type {
  FixtureColumn,
  FixtureDoc,
  FixtureRow,
  FixtureTable,
} from '../../bench/coda-server/fixture-types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const DELETED_TASK = 'i-kTask024Z';
const ADDED_TASK = 'i-kTask025A';
const EDITED_PROJECT = 'i-jNwDisc1A';
const REJECTED_OFFER = 'i-fRetain5E';

/** A copy of a fixture table with other rows or columns, as Coda would serve it after the edit. */
function changedTable(
  table: FixtureTable,
  { rows, columns = table.columns }: { rows: FixtureRow[]; columns?: FixtureColumn[] },
): FixtureTable {
  return {
    ...table,
    columns,
    rowCount: rows.length,
    rowAt: (index) => {
      const row = rows[index];
      if (!row) throw new RangeError(`${table.name} has no row ${index}`);
      return row;
    },
  };
}

function changedDoc(): FixtureDoc {
  const template = tasksTable.rows[0]!;
  const added: FixtureRow = {
    ...template,
    id: ADDED_TASK,
    values: { ...template.values, [tasksTable.columnIds.title]: 'Send thank-you notes' },
  };
  const tasks = changedTable(tasksTable, {
    rows: [...tasksTable.rows.filter((row) => row.id !== DELETED_TASK), added],
    columns: tasksTable.columns.map((column) =>
      column.id === tasksTable.columnIds.estimatedHours ? { ...column, name: 'Estimate (hours)' } : column,
    ),
  });
  const offers = changedTable(offersTable, {
    rows: [...offersTable.rows],
    columns: offersTable.columns.map((column) =>
      column.id === offersTable.columnIds.status
        ? { ...column, format: { ...column.format, options: [...(column.format.options ?? []), 'Paused'] } }
        : column,
    ),
  });
  const replaced = new Map([tasks, offers].map((table) => [table.id, table]));
  return { ...fixtureDoc, tables: fixtureDoc.tables.map((table) => replaced.get(table.id) ?? table) };
}

let db: TestDatabase;
let workDir: string;
let mappings: LoadedMapping[];
let plan: RunReport;
let before: Record<string, unknown[]>;

/** Every row of every erp table and of the lineage, in full. */
async function contents(): Promise<Record<string, unknown[]>> {
  const { rows } = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname = 'erp' OR (n.nspname = 'pipeline' AND c.relname = 'coda_lineage')) AND c.relkind = 'r' ORDER BY 1, 2`,
  );
  const all: Record<string, unknown[]> = {};
  for (const { schema, name } of rows) {
    const relation = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    all[`${schema}.${name}`] = (
      await db.query(`SELECT to_jsonb(t) AS row FROM ${relation} t ORDER BY to_jsonb(t)::text`)
    ).rows.map((row) => row.row);
  }
  return all;
}

let source: Snapshot;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-plan-changes-'));
  mappings = await loadMappings();
  const baseline = await runLoad({
    databaseUrl: db.url,
    source: await snapshotOf(fixtureDoc, workDir),
    mappings,
    mode: 'cutover',
    runDir: path.join(workDir, 'cutover'),
  });
  expect(baseline.outcome, JSON.stringify(baseline.outcomeNote)).toBe('committed');
  before = await contents();
  source = await snapshotOf(changedDoc(), workDir, (server) => {
    server.editRow(projectsTable.id, EDITED_PROJECT, {
      [projectsTable.columnIds.name]: 'Northwind Discovery Sprint',
    });
    server.editRow(offersTable.id, REJECTED_OFFER, { [offersTable.columnIds.status]: 'Paused' });
  });
  plan = await runLoad({
    databaseUrl: db.url,
    source,
    mappings,
    mode: 'plan',
    runDir: path.join(workDir, 'plan'),
  });
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

const table = (target: string) => plan.tables.find((entry) => entry.target === target)!;

describe('a plan after the doc changed', () => {
  it('writes nothing: every erp row and the lineage are as they were', async () => {
    expect(plan.outcome).toBe('planned');
    expect(await contents()).toEqual(before);
  });

  it('shows the edited value as a change of that one field, old and new', () => {
    expect(table('erp.projects').updated.slice()).toEqual([
      {
        rowId: EDITED_PROJECT,
        rowName: 'Northwind Discovery Sprint',
        browserLink: expect.stringContaining(EDITED_PROJECT),
        changes: [{ column: 'name', before: 'Northwind Discovery', after: 'Northwind Discovery Sprint' }],
      },
    ]);
  });

  it('shows the added row as an insert and the deleted row as gone from Coda, kept in Postgres', () => {
    const tasks = table('erp.tasks');
    expect(tasks.inserted.slice().map((row) => row.rowId)).toEqual([ADDED_TASK]);
    expect(tasks.goneFromCoda.slice().map((row) => row.rowId)).toEqual([DELETED_TASK]);
    expect(tasks.goneFromCoda.slice()[0]!.browserLink).toContain(DELETED_TASK);
  });

  it('rejects the row with the select value the mapping does not know, and says why', () => {
    expect(
      table('erp.offers').rejects.map((reject) => [
        reject.source.rowId,
        reject.problems.map((problem) => reasonText(problem.reason)),
      ]),
    ).toEqual([[REJECTED_OFFER, [expect.stringMatching(/"Paused" is not one of the known choices/)]]]);
  });

  it('changes nothing else: the renamed column keeps its rows unchanged', () => {
    const changes = plan.tables.map((entry) => ({
      target: entry.target,
      inserted: entry.inserted.slice().map((row) => row.rowId),
      updated: entry.updated.slice().map((row) => row.rowId),
      rejected: entry.rejects.map((reject) => reject.source.rowId),
      gone: entry.goneFromCoda.slice().map((row) => row.rowId),
      unresolved: entry.unresolved.length,
    }));
    const expected: Record<string, Partial<(typeof changes)[number]>> = {
      'erp.projects': { updated: [EDITED_PROJECT] },
      'erp.tasks': { inserted: [ADDED_TASK], gone: [DELETED_TASK] },
      'erp.offers': { rejected: [REJECTED_OFFER] },
    };
    expect(changes).toEqual(
      changes.map(({ target }) => ({
        target,
        inserted: [],
        updated: [],
        rejected: [],
        gone: [],
        unresolved: 0,
        ...expected[target],
      })),
    );
    expect(table('erp.tasks').unchanged).toBe(tasksTable.rows.length - 1);
  });

  it("puts the same in the Markdown report, in Coda's words, with old and new values and the Coda links", () => {
    const markdown = markdownBody(splitReport(plan).body);
    // The doc's rows, less the three the test changed: the added task, the edited project, the rejected offer.
    const rowsInDoc = changedDoc()
      .tables.filter((table) => mappings.some((mapping) => mapping.spec.coda.table === table.id))
      .reduce((sum, table) => sum + table.rowCount, 0);
    expect(markdown).toContain(
      `A cutover now would insert 1 row(s), change 1, leave ${rowsInDoc - 3} unchanged and reject 1.`,
    );
    // The erp column `name` by the Coda column it reads.
    const nameLabel = projectsTable.columns.find(
      (column) => column.id === projectsTable.columnIds.name,
    )!.name;
    expect(markdown).toContain(
      `${nameLabel}: "Northwind Discovery" (before) → "Northwind Discovery Sprint" (after)`,
    );
    expect(markdown).toMatch(
      /## Rows in Postgres whose Coda row is gone \(kept, never deleted\) \(1\)\n\n### Tasks <sub>erp\.tasks<\/sub>\n\n- \[[^\]\n]+\]\(<https:\/\/coda\.io\/[^>]+_rui-kTask024Z>\) \(erp id \d+\)/,
    );
    expect(markdown).toMatch(
      /- \[Ops Retainer \(10 h\/month\)\]\(<https:\/\/coda\.io\/[^>]+>\): Status "Paused" is not one of the known choices[^\n]*\n {2}- To load it, fix it in Coda, or change the mapping /,
    );
    expect(markdown).not.toContain('(i-fRetain5E)');
  });

  it('says the same when the rows are staged a row or two at a time', async () => {
    const chunked = await runLoad({
      databaseUrl: db.url,
      source,
      mappings,
      mode: 'plan',
      runDir: path.join(workDir, 'plan-in-chunks'),
      chunkRows: { first: 1, largest: 2 },
    });
    expect(JSON.stringify(splitReport(chunked).body)).toBe(JSON.stringify(splitReport(plan).body));
  });
});
