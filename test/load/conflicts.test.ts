/**
 * Edits made in Postgres are never silently overwritten: a plan shows the conflict (field, Coda
 * value, Postgres value, value at the last load, the row's name and Coda link), a cutover refuses
 * while one is unsettled, and `--prefer coda|postgres` or a decisions file says which side wins.
 * Through the CLI, from snapshots read off the local Coda server.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { erpInRunFolders, RENAMED_PROJECT, renamedProjectSnapshot } from '../support/cutover-cli.ts';
import { fixtureDoc, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const PROJECT = RENAMED_PROJECT;
const LINK = projectsTable.ref(PROJECT).url;

let db: TestDatabase;
let workDir: string;
let original: Snapshot;
let renamed: Snapshot;
const erp = erpInRunFolders(() => ({ databaseUrl: db.url, root: workDir }));

const projectName = async () =>
  (
    await db.query(
      `SELECT p.name FROM erp.projects p JOIN pipeline.coda_lineage l ON l.target_table = 'erp.projects' AND l.target_id = p.id WHERE l.coda_row_id = $1`,
      [PROJECT],
    )
  ).rows[0]?.name;

const editInPostgres = (name: string) =>
  db.query(
    `UPDATE erp.projects SET name = $2 WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.projects' AND coda_row_id = $1)`,
    [PROJECT, name],
  );

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-conflicts-'));
  original = await snapshotOf(fixtureDoc, workDir);
  renamed = await renamedProjectSnapshot(workDir);
  const first = await erp(['cutover', '--snapshot', original.dir]);
  expect(first.code, first.output).toBe(0);
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('a row edited in Postgres that Coda would change', () => {
  const conflictLine = (postgres: string, lastLoad: string, coda = 'Northwind (renamed)') =>
    `Name: Coda "${coda}", Postgres "${postgres}", at the last load "${lastLoad}"`;

  it('is shown as a conflict by a plan, with the three values, the row name and its Coda link', async () => {
    await editInPostgres('Edited in Postgres');
    const plan = await erp(['plan', '--snapshot', renamed.dir]);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.output).toContain(
      'Conflicts: fields edited in Postgres since the last load that Coda would change (1):',
    );
    expect(plan.output).toContain('Projects / Northwind (renamed): nobody chose which side wins');
    expect(plan.output).toContain(conflictLine('Edited in Postgres', 'Northwind Discovery'));
    const [runDir] = await readdir(plan.runs);
    const markdown = await readFile(path.join(plan.runs, runDir!, 'report.md'), 'utf8');
    expect(markdown).toContain(
      `- [Northwind (renamed)](<${LINK}>) (${PROJECT}): nobody chose which side wins`,
    );
    expect(markdown).toContain(`  - ${conflictLine('Edited in Postgres', 'Northwind Discovery')}`);
    const json = JSON.parse(await readFile(path.join(plan.runs, runDir!, 'report.json'), 'utf8'));
    const projects = json.tables.find((table: { target: string }) => table.target === 'erp.projects');
    expect(projects.conflicts).toEqual([
      expect.objectContaining({
        rowId: PROJECT,
        browserLink: LINK,
        winner: null,
        fields: [
          {
            column: 'name',
            label: 'Name',
            coda: 'Northwind (renamed)',
            postgres: 'Edited in Postgres',
            lastLoad: 'Northwind Discovery',
          },
        ],
      }),
    ]);
  });

  it('makes a cutover refuse, changing nothing, while nobody said which side wins', async () => {
    const cutover = await erp(['cutover', '--snapshot', renamed.dir]);
    expect(cutover.code).toBe(1);
    expect(cutover.output).toContain(
      '1 row(s) were edited or deleted in Postgres since the last load and Coda would change them; say which side wins with --prefer coda|postgres',
    );
    expect(await projectName()).toBe('Edited in Postgres');
  });

  it('keeps the edited value with --prefer postgres, and next time too while neither side changes', async () => {
    const cutover = await erp(['cutover', '--snapshot', renamed.dir, '--prefer', 'postgres']);
    expect(cutover.code, cutover.output).toBe(0);
    expect(cutover.output).toContain('Postgres wins: the edited value is kept');
    expect(await projectName()).toBe('Edited in Postgres');
    const plan = await erp(['plan', '--snapshot', renamed.dir]);
    expect(plan.output).toContain(conflictLine('Edited in Postgres', 'Northwind Discovery'));
    expect(plan.output).toMatch(
      /Postgres wins, as chosen at cutover run \d+ \(neither side changed since\): the edited value is kept/,
    );
  });

  it("overwrites the edit with Coda's value with --prefer coda", async () => {
    const cutover = await erp(['cutover', '--snapshot', renamed.dir, '--prefer', 'coda']);
    expect(cutover.code, cutover.output).toBe(0);
    expect(cutover.output).toContain("Coda wins: the edit is overwritten with Coda's value");
    expect(await projectName()).toBe('Northwind (renamed)');
    const plan = await erp(['plan', '--snapshot', renamed.dir]);
    expect(plan.output).not.toContain('Conflicts');
  });

  it('follows a decisions file per row, over --prefer; an edit Coda has not changed is a conflict too', async () => {
    await editInPostgres('Edited again');
    const decisions = path.join(workDir, 'decisions.yaml');
    await writeFile(decisions, `# Coda row id: which side wins\n${PROJECT}: postgres\n`);
    const cutover = await erp([
      'cutover',
      '--snapshot',
      renamed.dir,
      '--prefer',
      'coda',
      '--decisions',
      decisions,
    ]);
    expect(cutover.code, cutover.output).toBe(0);
    expect(cutover.output).toContain(conflictLine('Edited again', 'Northwind (renamed)'));
    expect(await projectName()).toBe('Edited again');

    await writeFile(decisions, `${PROJECT}: maybe\n`);
    const wrong = await erp(['plan', '--snapshot', renamed.dir, '--decisions', decisions]);
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain('each line must be a Coda row id, a colon, and coda or postgres');
  });

  it('counts a row deleted in Postgres as a conflict: postgres leaves it deleted, coda adds it again', async () => {
    const task = (
      await db.query<{ row_id: string; title: string }>(
        `SELECT l.coda_row_id AS row_id, t.title FROM pipeline.coda_lineage l JOIN erp.tasks t ON t.id = l.target_id
          WHERE l.target_table = 'erp.tasks' ORDER BY l.coda_row_id LIMIT 1`,
      )
    ).rows[0]!;
    await db.query(
      `DELETE FROM erp.tasks WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.tasks' AND coda_row_id = $1)`,
      [task.row_id],
    );
    const taskIsThere = async () =>
      (await db.query(`SELECT FROM erp.tasks WHERE title = $1`, [task.title])).rowCount === 1;
    // The project edited earlier keeps its edit; the deleted task is the question.
    const decisions = path.join(workDir, 'decisions.yaml');
    await writeFile(decisions, `${PROJECT}: postgres\n`);

    const plan = await erp(['plan', '--snapshot', renamed.dir, '--decisions', decisions]);
    expect(plan.output).toContain(
      `Tasks / ${task.title}: deleted in Postgres since the last load, still in Coda; nobody chose which side wins`,
    );
    const kept = await erp([
      'cutover',
      '--snapshot',
      renamed.dir,
      '--decisions',
      decisions,
      '--prefer',
      'postgres',
    ]);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.output).toContain(
      `${task.title}: deleted in Postgres since the last load, still in Coda; Postgres wins: the row stays deleted`,
    );
    expect(await taskIsThere()).toBe(false);

    const added = await erp([
      'cutover',
      '--snapshot',
      renamed.dir,
      '--decisions',
      decisions,
      '--prefer',
      'coda',
    ]);
    expect(added.code, added.output).toBe(0);
    expect(added.output).toContain('Coda wins: the row is added again');
    expect(await taskIsThere()).toBe(true);
  });
});
