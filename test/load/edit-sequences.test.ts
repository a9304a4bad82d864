/**
 * No owner edit is lost on any path: sequences of plan, cutover, undo and reconcile through the
 * CLI, from snapshots read off the local Coda server. Each sequence starts from its own database
 * holding one committed cutover, then edits rows in Postgres the way an owner would (psql or the
 * API, so no row history), with values that are awkward to carry: quotes, a line break, emoji,
 * right-to-left text and blanks.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { erpInRunFolders, RENAMED_PROJECT, renamedProjectSnapshot } from '../support/cutover-cli.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { copyOfDatabase, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const EDITED = 'Owner\'s "edit"\nשלום 🚀 ';
const EDITED_AGAIN = '  second edit ✎  ';

let workDir: string;
let original: Snapshot;
let renamed: Snapshot;
/** The fixture doc cut over once through the CLI; each sequence starts from a copy of it. */
let cutOver: TestDatabase;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-edit-sequences-'));
  original = await snapshotOf(fixtureDoc, workDir);
  renamed = await renamedProjectSnapshot(workDir);
  cutOver = await createTestDatabase();
  databases.push(cutOver);
  const cutover = erpInRunFolders(() => ({ databaseUrl: cutOver.url, root: workDir }));
  const first = await cutover(['cutover', '--snapshot', original.dir]);
  expect(first.code, first.output).toBe(0);
}, 120_000);
afterAll(async () => {
  for (const db of databases) await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

/** A database with the fixture doc cut over once, and the CLI pointed at it. */
async function loadedDatabase() {
  const db = await copyOfDatabase(cutOver);
  databases.push(db);
  const root = await mkdtemp(path.join(workDir, 'sequence-'));
  const erp = erpInRunFolders(() => ({ databaseUrl: db.url, root }));
  const task = (
    await db.query<{ row_id: string; title: string }>(
      `SELECT l.coda_row_id AS row_id, t.title FROM pipeline.coda_lineage l JOIN erp.tasks t ON t.id = l.target_id
        WHERE l.target_table = 'erp.tasks' ORDER BY l.coda_row_id LIMIT 1`,
    )
  ).rows[0]!;
  const title = async () =>
    (
      await db.query<{ title: string }>(
        `SELECT t.title FROM erp.tasks t JOIN pipeline.coda_lineage l ON l.target_table = 'erp.tasks' AND l.target_id = t.id WHERE l.coda_row_id = $1`,
        [task.row_id],
      )
    ).rows[0]?.title;
  const editTitle = (value: string) =>
    db.query(
      `UPDATE erp.tasks SET title = $2 WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.tasks' AND coda_row_id = $1)`,
      [task.row_id, value],
    );
  const decisions = async (side: string) => {
    const file = path.join(root, 'decisions.yaml');
    await writeFile(file, `${task.row_id}: ${side}\n`);
    return file;
  };
  return { db, erp, task, title, editTitle, decisions, root };
}

const json = async (runs: string) => {
  const [runDir] = await readdir(runs);
  return JSON.parse(await readFile(path.join(runs, runDir!, 'report.json'), 'utf8'));
};

/** The conflicts a run's report.json lists for erp.tasks. */
const taskConflicts = async (runs: string) =>
  (await json(runs)).tables.find((table: { target: string }) => table.target === 'erp.tasks').conflicts;

describe('an edit an undo restored', () => {
  it('stays a conflict for the next plan and cutover, and a decisions file settles it', async () => {
    const { erp, task, title, editTitle, decisions } = await loadedDatabase();
    await editTitle(EDITED);
    const overwritten = await erp(['cutover', '--snapshot', original.dir, '--prefer', 'coda']);
    expect(overwritten.code, overwritten.output).toBe(0);
    expect(await title()).toBe(task.title);
    const undo = await erp(['undo']);
    expect(undo.code, undo.output).toBe(0);
    expect(await title()).toBe(EDITED);

    const plan = await erp(['plan', '--snapshot', original.dir]);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.output).toContain('A cutover now would insert 0 row(s), change 1,');
    expect(await taskConflicts(plan.runs)).toEqual([
      expect.objectContaining({
        rowId: task.row_id,
        winner: null,
        fields: [
          expect.objectContaining({
            column: 'title',
            coda: task.title,
            postgres: EDITED,
            lastLoad: task.title,
          }),
        ],
      }),
    ]);

    const refused = await erp(['cutover', '--snapshot', original.dir]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain('1 row(s) were edited or deleted in Postgres since the last load');
    expect(await title()).toBe(EDITED);

    // The row's own choice wins over the run's.
    const kept = await erp([
      'cutover',
      '--snapshot',
      original.dir,
      '--prefer',
      'coda',
      '--decisions',
      await decisions('postgres'),
    ]);
    expect(kept.code, kept.output).toBe(0);
    expect(await title()).toBe(EDITED);
  });

  it('edited again after the undo, is still not overwritten', async () => {
    const { erp, task, title, editTitle } = await loadedDatabase();
    await editTitle(EDITED);
    expect((await erp(['cutover', '--snapshot', original.dir, '--prefer', 'coda'])).code).toBe(0);
    expect((await erp(['undo'])).code).toBe(0);
    await editTitle(EDITED_AGAIN);

    const refused = await erp(['cutover', '--snapshot', original.dir]);
    expect(refused.code, refused.output).toBe(1);
    expect(await taskConflicts(refused.runs)).toEqual([
      expect.objectContaining({
        fields: [expect.objectContaining({ postgres: EDITED_AGAIN, lastLoad: task.title })],
      }),
    ]);
    expect(await title()).toBe(EDITED_AGAIN);
  });
});

describe('an edit kept with --prefer postgres', () => {
  it('is an accepted difference: a reconcile right after agrees with the cutover', async () => {
    const { db, erp, task, title, editTitle } = await loadedDatabase();
    await editTitle(EDITED);
    const cutover = await erp(['cutover', '--snapshot', original.dir, '--prefer', 'postgres']);
    expect(cutover.code, cutover.output).toBe(0);
    expect(await title()).toBe(EDITED);
    const runId = (
      await db.query<{ id: string }>(`SELECT max(id)::text AS id FROM pipeline.runs WHERE mode = 'cutover'`)
    ).rows[0]!.id;

    const reconcile = await erp(['reconcile', '--snapshot', original.dir]);
    expect(reconcile.code, reconcile.output).toBe(0);
    const report = await json(reconcile.runs);
    expect(report.outcome).toBe('reconciled');
    expect(report.differences).toEqual([
      expect.objectContaining({ kind: 'kept_in_postgres', rowKey: task.row_id, acceptedByRun: runId }),
    ]);
    expect(reconcile.output).toContain('edited in Postgres, kept by the owner');
  });

  it('is kept by later runs while neither side changes, and asked again when Coda changes it', async () => {
    const { db, erp } = await loadedDatabase();
    const description = () =>
      db.query<{ description: string | null; name: string }>(
        `SELECT p.description, p.name FROM erp.projects p JOIN pipeline.coda_lineage l ON l.target_table = 'erp.projects' AND l.target_id = p.id WHERE l.coda_row_id = $1`,
        [RENAMED_PROJECT],
      );
    const before = (await description()).rows[0]!;
    await db.query(
      `UPDATE erp.projects SET description = $2 WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.projects' AND coda_row_id = $1)`,
      [RENAMED_PROJECT, EDITED],
    );
    // Coda renames the project: the row is updated, and the edited field is kept.
    const kept = await erp(['cutover', '--snapshot', renamed.dir, '--prefer', 'postgres']);
    expect(kept.code, kept.output).toBe(0);
    expect((await description()).rows[0]).toEqual({ description: EDITED, name: 'Northwind (renamed)' });

    // The field was never Coda's value: the next run still sees the edit, and keeps it as chosen.
    const plan = await erp(['plan', '--snapshot', renamed.dir]);
    const projects = (await json(plan.runs)).tables.find(
      (table: { target: string }) => table.target === 'erp.projects',
    );
    expect(projects.conflicts).toEqual([
      expect.objectContaining({
        rowId: RENAMED_PROJECT,
        winner: 'postgres',
        fields: [
          expect.objectContaining({ column: 'description', postgres: EDITED, lastLoad: before.description }),
        ],
      }),
    ]);
    const again = await erp(['cutover', '--snapshot', renamed.dir]);
    expect(again.code, again.output).toBe(0);
    expect((await description()).rows[0]?.description).toBe(EDITED);

    // Coda changed back (the original snapshot renames nothing, but the field's Coda value is the
    // same): still kept. An edit made since the choice is a new question.
    await db.query(
      `UPDATE erp.projects SET description = $2 WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.projects' AND coda_row_id = $1)`,
      [RENAMED_PROJECT, EDITED_AGAIN],
    );
    const refused = await erp(['cutover', '--snapshot', renamed.dir]);
    expect(refused.code, refused.output).toBe(1);
    expect((await description()).rows[0]?.description).toBe(EDITED_AGAIN);
  });
});

describe('a row added by hand in Postgres', () => {
  it('survives cutovers, an undo and a reconcile, listed as a row no Coda row produced', async () => {
    const { db, erp } = await loadedDatabase();
    await db.query(`INSERT INTO erp.tasks (title) VALUES ($1)`, [EDITED]);
    const byHand = async () =>
      (await db.query(`SELECT title FROM erp.tasks WHERE title = $1`, [EDITED])).rowCount;
    expect((await erp(['cutover', '--snapshot', renamed.dir])).code).toBe(0);
    expect((await erp(['undo'])).code).toBe(0);
    expect((await erp(['cutover', '--snapshot', renamed.dir])).code).toBe(0);
    expect(await byHand()).toBe(1);
    const reconcile = await erp(['reconcile', '--snapshot', renamed.dir]);
    expect(reconcile.code, reconcile.output).toBe(0);
    expect((await json(reconcile.runs)).differences).toContainEqual(
      expect.objectContaining({
        kind: 'extra',
        target: 'erp.tasks',
        row: expect.objectContaining({ rowName: EDITED }),
      }),
    );
    expect(await byHand()).toBe(1);
  });
});
