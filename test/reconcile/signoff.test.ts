/**
 * What the owner signs off, through the CLI against a doc with a rejected parent and a NUL byte:
 * Coda's own totals bridged to Postgres by the rejected rows' shares, children of a rejected
 * parent rejected with the parent named (or loaded without the link when the mapping says so),
 * and one verdict: a reconcile right after a committed cutover agrees with it, lists what the
 * cutover accepted with that run, and exits 1 only for something new.
 * Every expected figure is derived from the fixture doc, never from a report.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { fixtureDoc, projectsTable, tasksTable } from '../../bench/coda-server/fixture-doc.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const PARENT = 'i-jNwDisc1A';
const PARENT_NAME = 'Northwind Discovery';

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let runs = 0;

const children = tasksTable.rows.filter(
  (row) => (row.values[tasksTable.columnIds.project] as { rowId?: string }).rowId === PARENT,
);
const nulTask = tasksTable.rows.find((row) => !children.includes(row))!;
/** Its hours read "twelve" in Coda: not a number, so it is rejected and its value cannot be added up. */
const wordyTask = tasksTable.rows.find(
  (row) =>
    !children.includes(row) &&
    row !== nulTask &&
    Number(row.values[tasksTable.columnIds.estimatedHours] || 0) !== 0,
)!;
const NUL_TITLE = 'Invoice\u0000run';
const hoursOf = (rows: typeof tasksTable.rows) =>
  rows.reduce((sum, row) => sum + Number(row.values[tasksTable.columnIds.estimatedHours] || 0), 0);

async function run(args: string[]) {
  runs += 1;
  const dir = path.join(workDir, `runs-${runs}`);
  const result = await erp([...args, '--snapshot', snapshot.dir, '--runs', dir], { DATABASE_URL: db.url });
  const [runDir] = await readdir(dir).catch(() => []);
  const reports: Record<string, string> = {};
  if (runDir)
    for (const name of REPORT_FILES)
      reports[name] = await readFile(path.join(dir, runDir, name), 'utf8').catch(() => '');
  return { ...result, reports };
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-signoff-'));
  snapshot = await snapshotOf(fixtureDoc, workDir, (server) => {
    // The project now ends before it starts: the database refuses it, and its tasks lose their parent.
    server.editRow(projectsTable.id, PARENT, {
      [projectsTable.columnIds.startDate]: '2024-03-15',
      [projectsTable.columnIds.endDate]: '2024-03-04',
    });
    server.editRow(tasksTable.id, nulTask.id, { [tasksTable.columnIds.title]: NUL_TITLE });
    server.editRow(tasksTable.id, wordyTask.id, { [tasksTable.columnIds.estimatedHours]: 'twelve' });
  });
}, 120_000);
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('a doc whose project is rejected, and a task with a NUL byte', () => {
  const rejected = 1 + children.length + 2;

  it('rolls back when the rejects exceed --max-rejects, the children grouped under the parent they lost', async () => {
    expect(children.length).toBeGreaterThan(1);
    const result = await run(['cutover']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('Cutover rolled back: nothing was written');
    expect(result.stdout).toContain(`${rejected} row(s) were rejected and at most 0 may be (--max-rejects)`);
    expect(result.stdout).toContain(
      `\n  ${children.length} Tasks rows rejected because Project links to "${PARENT_NAME}", which was rejected: Start Date is 2024-03-15, End Date is 2024-03-04, which breaks the rule "A project cannot end before it starts."`,
    );
    expect((await db.query(`SELECT count(*)::int AS n FROM erp.tasks`)).rows[0]?.n).toBe(0);
  });

  it('commits within --max-rejects, bridges Coda totals to Postgres by name, and never prints a raw NUL', async () => {
    const result = await run(['cutover', '--max-rejects', String(rejected)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Accepted with it: ${rejected} rows rejected.`);

    const json = JSON.parse(result.reports['report.json']!);
    const hours = json.reconciliation.totals.find(
      (total: { label: string }) => total.label === 'Total Estimated Hours of Tasks',
    );
    const rejectedTasks = [...children, nulTask];
    // Coda's figure is over every row read; "twelve" is no number, so it is listed, not added.
    const codaHours = hoursOf(tasksTable.rows.filter((row) => row !== wordyTask));
    expect(Number(hours.coda.amount)).toBe(codaHours);
    expect(Number(hours.postgres.amount)).toBe(codaHours - hoursOf(rejectedTasks));
    expect(hours.unexplained).toBe('0');
    expect(hours.notConverted.shares).toEqual([]);
    expect(hours.notANumber).toEqual([expect.objectContaining({ rowId: wordyTask.id, value: 'twelve' })]);
    expect(result.reports['report.md']).toContain(
      `- Not a number, on neither side: "twelve" in [${wordyTask.values[tasksTable.columnIds.title]}]`,
    );
    expect(hours.rejected.shares.map((share: { rowName: string }) => share.rowName).sort()).toEqual(
      rejectedTasks
        // Every number in the column counts, 0 too; an empty cell is no number.
        .filter(
          (row) => !['', null, undefined].includes(row.values[tasksTable.columnIds.estimatedHours] as never),
        )
        .map((row) => (row === nulTask ? NUL_TITLE : row.values[tasksTable.columnIds.title]))
        .sort(),
    );
    // Coda's status labels; the rejected project is counted on the Coda side and walked off by name.
    const parentStatus = projectsTable.rows.find((row) => row.id === PARENT)!.values[
      projectsTable.columnIds.status
    ];
    const statusTotal = json.reconciliation.totals.find(
      (total: { label: string; group: { name: string; text: string } }) =>
        total.label === 'Projects by Status' && total.group.text === parentStatus,
    );
    expect(Number(statusTotal.coda.amount) - Number(statusTotal.postgres.amount)).toBe(1);
    expect(statusTotal.rejected.shares).toEqual([
      expect.objectContaining({ rowId: PARENT, rowName: PARENT_NAME, share: '1' }),
    ]);
    // A share's reasons and a difference's are each a code and its data with the sentence beside it.
    const [shareReason] = statusTotal.rejected.shares[0].reasons;
    expect(shareReason.code).toBe('breaks_rule');
    expect(shareReason.text).toMatch(/^Start Date is 2024-03-15, .*which breaks /);
    const rejectedParent = json.differences.find(
      (item: { kind: string; row: { rowId: string } }) =>
        item.kind === 'rejected' && item.row.rowId === PARENT,
    );
    expect(rejectedParent.reasons).toEqual([
      expect.objectContaining({ code: 'breaks_rule', text: shareReason.text }),
    ]);
    expect(result.reports['report.md']).toMatch(
      new RegExp(
        `- − 1 \\[${PARENT_NAME}\\]\\(<https://coda\\.io/[^>]+>\\), rejected: Start Date is 2024-03-15`,
      ),
    );

    for (const [name, text = ''] of [['stdout', result.stdout], ...Object.entries(result.reports)])
      if (name !== 'report.json') {
        expect(text.includes('\u0000'), `${name} holds a raw NUL`).toBe(false);
        // The terminal shows the control picture; pages, read in a browser, name it.
        const pages: Record<string, string> = {
          'report.md': 'Invoice\\[NUL\\]run',
          'report.html': 'Invoice[NUL]run',
        };
        expect(text, name).toContain(pages[name!] ?? 'Invoice␀run');
      }
  });

  it('reconciles right after with exit 0, listing what the cutover accepted and the run that did', async () => {
    const { rows } = await db.query(
      `SELECT id::text FROM pipeline.runs WHERE mode = 'cutover' AND outcome = 'committed'`,
    );
    const result = await run(['reconcile']);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      `Postgres matches Coda, apart from ${rejected} differences accepted at cutover; nothing new differs.`,
    );
    expect(result.stdout).toContain(`(accepted by cutover run ${rows[0]!.id})`);
    expect(result.reports['report.md']).toContain(`## Differences accepted at cutover (${rejected})`);
  });

  it('exits 1 for a row typed into Postgres, counted and named as extra', async () => {
    await db.query(`INSERT INTO erp.tasks (title) VALUES ('Typed by hand')`);
    try {
      const result = await run(['reconcile']);
      expect(result.code, result.stdout).toBe(1);
      expect(result.stdout).toContain(
        `Postgres does not match Coda: 1 new difference to check (and ${rejected} accepted at cutover).`,
      );
      expect(result.stdout).toContain(
        'Tasks / Typed by hand: in Postgres, but no Coda row of this doc produced it',
      );
    } finally {
      await db.query(`DELETE FROM erp.tasks WHERE title = 'Typed by hand'`);
    }
  });

  it('loads the children without their link when the mapping says so, and says how many in the headline', async () => {
    const mappings = path.join(workDir, 'mappings');
    await cp('mappings', mappings, { recursive: true });
    const tasks = path.join(mappings, 'tasks.yaml');
    await writeFile(
      tasks,
      (await readFile(tasks, 'utf8')).replace(
        'people: { unknown: create }',
        'people: { unknown: create }\nlinks: { rejected_parent: load_without_link }',
      ),
    );
    const result = await run(['cutover', '--mappings', mappings, '--max-rejects', '3']);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      `Accepted with it: 3 rows rejected, ${children.length} links left empty (${children.length} because the linked row was rejected).`,
    );
    const linked = await db.query(
      `SELECT count(*)::int AS n FROM erp.tasks t JOIN pipeline.coda_lineage l ON l.target_table = 'erp.tasks' AND l.target_id = t.id
        WHERE l.coda_row_id = ANY ($1) AND t.project_id IS NULL`,
      [children.map((row) => row.id)],
    );
    expect(linked.rows[0]?.n).toBe(children.length);
    const again = await run(['reconcile', '--mappings', mappings]);
    expect(again.code, again.stdout).toBe(0);
  });
});

describe('a plan after a task moved to another project', () => {
  it("shows the link change by the projects' names, not their ids", async () => {
    const projectOf = (row: (typeof tasksTable.rows)[number]) =>
      (row.values[tasksTable.columnIds.project] as { rowId?: string }).rowId;
    const moved = tasksTable.rows.find(
      (row) => row !== nulTask && row !== wordyTask && projectOf(row) && projectOf(row) !== PARENT,
    )!;
    const nameOf = (rowId: string | undefined) =>
      projectsTable.rows.find((row) => row.id === rowId)!.values[projectsTable.columnIds.name];
    const target = projectsTable.rows.find((row) => row.id !== PARENT && row.id !== projectOf(moved))!;
    snapshot = await snapshotOf(fixtureDoc, workDir, (server) => {
      server.editRow(projectsTable.id, PARENT, {
        [projectsTable.columnIds.startDate]: '2024-03-15',
        [projectsTable.columnIds.endDate]: '2024-03-04',
      });
      server.editRow(tasksTable.id, nulTask.id, { [tasksTable.columnIds.title]: NUL_TITLE });
      server.editRow(tasksTable.id, moved.id, {
        [tasksTable.columnIds.project]: projectsTable.ref(target.id),
      });
    });
    const result = await run(['plan']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.reports['report.md']).toContain(
      `  - Project: "${nameOf(projectOf(moved))}" (before) → "${nameOf(target.id)}" (after)`,
    );
  }, 120_000);
});

describe('migration 006', () => {
  it('explains every CHECK of erp in a sentence the reports can show', async () => {
    const { rows } = await db.query(
      `SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE n.nspname = 'erp' AND con.contype = 'c' AND coalesce(obj_description(con.oid, 'pg_constraint'), '') !~ '^[A-Z].*\\.$'`,
    );
    expect(rows).toEqual([]);
  });
});
