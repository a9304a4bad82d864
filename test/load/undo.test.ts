/**
 * `erp undo` as the owner runs it (the CLI in a child process) against cutovers of the fixture
 * doc, read from the local Coda server: the erp schema comes back exactly as it was, agent data
 * is left alone, and the undo refuses, naming the rows, when something since depends on the
 * change.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { erpInRunFolders, RENAMED_PROJECT, renamedProjectSnapshot } from '../support/cutover-cli.ts';
import { fixtureDoc, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

let db: TestDatabase;
let workDir: string;
let original: Snapshot;
let renamed: Snapshot;
const erp = erpInRunFolders(() => ({ databaseUrl: db.url, root: workDir }));

const cutover = async (source: Snapshot) => {
  const result = await erp(['cutover', '--snapshot', source.dir]);
  expect(result.code, result.output).toBe(0);
  return (await db.query<{ id: string }>(`SELECT max(id) AS id FROM pipeline.runs WHERE mode = 'cutover'`))
    .rows[0]!.id;
};

/** Every erp table and the lineage, row by row, in a stable order. */
async function dumpErp(): Promise<Record<string, unknown[]>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'erp' AND c.relkind = 'r' ORDER BY 1`,
  );
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables)
    dump[`erp.${name}`] = (await db.query(`SELECT * FROM erp.${name} ORDER BY id`)).rows;
  dump.lineage = (
    await db.query(`SELECT * FROM pipeline.coda_lineage ORDER BY coda_doc_id, coda_table_id, coda_row_id`)
  ).rows;
  return dump;
}

const agentData = async () => (await db.query(`SELECT * FROM agent.events ORDER BY id`)).rows;

async function reports(runs: string): Promise<Record<string, string>> {
  const [runDir] = await readdir(runs);
  expect(runDir).toMatch(/^\d{8}T\d{6}Z-undo$/);
  return Object.fromEntries(
    await Promise.all(
      REPORT_FILES.map(async (name) => [name, await readFile(path.join(runs, runDir!, name), 'utf8')]),
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-undo-'));
  original = await snapshotOf(fixtureDoc, workDir);
  renamed = await renamedProjectSnapshot(workDir);
  // Data that is not Coda's: a row added by hand and an agent's memory.
  await db.query(`INSERT INTO erp.organizations (name, org_type) VALUES ('Added by hand', 'internal')`);
  await db.query(
    `INSERT INTO agent.events (client_id, event_type, payload) VALUES ('acme', 'observation', '{"text": "remember this"}')`,
  );
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('erp undo', () => {
  let beforeAnyCutover: Record<string, unknown[]>;
  let agentBefore: unknown[];
  let afterFirstCutover: Record<string, unknown[]>;

  it('shows first, with --dry-run, what undoing the last cutover would do, and changes nothing', async () => {
    beforeAnyCutover = await dumpErp();
    agentBefore = await agentData();
    await cutover(original);
    afterFirstCutover = await dumpErp();
    const dryRun = await erp(['undo', '--dry-run']);
    expect(dryRun.code, dryRun.output).toBe(0);
    expect(dryRun.output).toMatch(
      /Dry run: nothing was changed\. Undoing cutover \d+ of \d{4}-\d\d-\d\d now would have \d+ row\(s\) the cutover inserted removed/,
    );
    const files = await reports(dryRun.runs);
    expect(files['report.md']).toContain('## Rows removed (the cutover inserted them)');
    expect(files['report.md']).toContain(
      `[Northwind Discovery](<${projectsTable.ref(RENAMED_PROJECT).url}>)`,
    );
    expect(files['report.html']).toContain('Dry run: nothing was changed.');
    // Every report opens with what to do: here, the command that takes the cutover back.
    expect(files['report.md']).toMatch(
      /^# Undo of cutover (\d+)[^\n]*\n\n\*\*Nothing was changed: this is what the undo would do\.\*\*[\s\S]*Next: `npm run erp -- undo --run \1`/,
    );
    expect(JSON.parse(files['report.json']!)).toMatchObject({
      mode: 'undo',
      outcome: 'planned',
      dryRun: true,
    });
    expect(await dumpErp()).toEqual(afterFirstCutover);
  });

  it('reverts a first cutover: the erp schema and the lineage are exactly as before, agent data untouched', async () => {
    const undo = await erp(['undo']);
    expect(undo.code, undo.output).toBe(0);
    expect(undo.output).toMatch(/Undone: cutover \d+/);
    expect(await dumpErp()).toEqual(beforeAnyCutover);
    expect(await agentData()).toEqual(agentBefore);
    const { rows } = await db.query(
      `SELECT mode, outcome, undone_by_run_id IS NOT NULL AS undone FROM pipeline.runs WHERE mode IN ('cutover', 'undo') ORDER BY id`,
    );
    expect(rows).toEqual([
      { mode: 'cutover', outcome: 'committed', undone: true },
      { mode: 'undo', outcome: 'planned', undone: false },
      { mode: 'undo', outcome: 'undone', undone: false },
    ]);
    // Nothing left to undo.
    const again = await erp(['undo']);
    expect(again.code).toBe(1);
    expect(again.output).toContain('no committed cutover to undo');
  });

  let secondCutover: string;
  let afterSecondCutover: Record<string, unknown[]>;

  it('gives rows a second cutover changed their earlier values back, updated_at included', async () => {
    secondCutover = await cutover(original);
    afterSecondCutover = await dumpErp();
    await cutover(renamed);
    const name = async () =>
      (
        await db.query(
          `SELECT p.name FROM erp.projects p JOIN pipeline.coda_lineage l ON l.target_table = 'erp.projects' AND l.target_id = p.id WHERE l.coda_row_id = $1`,
          [RENAMED_PROJECT],
        )
      ).rows[0]?.name;
    expect(await name()).toBe('Northwind (renamed)');

    const earlier = await erp(['undo', '--run', secondCutover]);
    expect(earlier.code).toBe(1);
    expect(earlier.output).toMatch(new RegExp(`cutover ${secondCutover} was followed by cutover \\d+`));

    const undo = await erp(['undo']);
    expect(undo.code, undo.output).toBe(0);
    expect(undo.output).toMatch(
      /0 row\(s\) the cutover inserted removed, 1 row\(s\) it changed given their earlier values back/,
    );
    expect(await name()).toBe('Northwind Discovery');
    expect(await dumpErp()).toEqual(afterSecondCutover);
  });

  it('skips later cutovers that changed nothing, says so, and reaches the last one that changed something', async () => {
    const noOp = await cutover(original);
    const before = await dumpErp();
    const dryRun = await erp(['undo', '--dry-run']);
    expect(dryRun.code, dryRun.output).toBe(0);
    expect(dryRun.output).toMatch(
      new RegExp(
        `Skipped cutover ${noOp} of \\d{4}-\\d\\d-\\d\\d: it changed no row, so the undo reaches cutover ${secondCutover} of`,
      ),
    );
    expect(dryRun.output).toMatch(new RegExp(`Undoing cutover ${secondCutover} of .* would have`));
    expect(JSON.parse((await reports(dryRun.runs))['report.json']!)).toMatchObject({
      undoneRun: { id: secondCutover },
      skippedRuns: [{ id: noOp }],
    });
    expect(await dumpErp()).toEqual(before);
  });

  it('refuses, naming the rows, when a row was edited in Postgres or an agent row points at an inserted row', async () => {
    const person = (
      await db.query<{ id: string; full_name: string }>(
        `SELECT p.id, p.full_name FROM erp.people p JOIN pipeline.coda_lineage l ON l.target_table = 'erp.people' AND l.target_id = p.id ORDER BY p.id LIMIT 1`,
      )
    ).rows[0]!;
    await db.query(`INSERT INTO agent.sessions (client_id, client_person_id) VALUES ('acme', $1)`, [
      person.id,
    ]);
    // An agent's memory names a task by kind and id, without a foreign key.
    const task = (
      await db.query<{ id: string; title: string }>(`SELECT id, title FROM erp.tasks ORDER BY id LIMIT 1`)
    ).rows[0]!;
    await db.query(
      `INSERT INTO agent.events (client_id, event_type, subject_type, subject_id) VALUES ('acme', 'observation', 'task', $1)`,
      [task.id],
    );
    agentBefore = await agentData();
    await db.query(`UPDATE erp.projects SET name = 'Edited in Postgres' WHERE name = 'Northwind Discovery'`);
    const before = await dumpErp();

    const refused = await erp(['undo']);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('Undo refused: nothing was changed. 3 row(s)');
    expect(refused.output).toContain(
      `Projects: Edited in Postgres ${projectsTable.ref(RENAMED_PROJECT).url}: edited in Postgres after the cutover: Name "Northwind Discovery" -> "Edited in Postgres"`,
    );
    expect(refused.output).toMatch(
      new RegExp(
        `People: ${person.full_name} \\S+: other rows point at it \\(1 row\\(s\\) of agent\\.sessions\\)`,
      ),
    );
    expect(refused.output).toMatch(
      new RegExp(`Tasks: ${task.title} \\S+: other rows point at it \\(1 row\\(s\\) of agent\\.events\\)`),
    );
    expect(refused.output).toMatch(
      /\nNot yet: the undo was refused and nothing was changed; 1 thing to decide\.\n {2}- 3 rows changed in Postgres or needed by other rows since the cutover[^\n]*\nNext: npm run erp -- undo --run \d+ --keep-changed/,
    );
    expect(await dumpErp()).toEqual(before);

    const kept = await erp(['undo', '--keep-changed']);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.output).toContain('3 row(s) changed since were kept as they are now');
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM erp.projects WHERE name = 'Edited in Postgres')::int AS edited_project,
              (SELECT client_person_id::text FROM agent.sessions) AS session_person,
              (SELECT count(*) FROM pipeline.coda_lineage)::int AS lineage`,
    );
    expect(rows[0]).toEqual({
      edited_project: 1,
      session_person: person.id,
      lineage: expect.any(Number),
    });
    // Kept: the three rows, and the rows they link to (the project's owner, organization...), each
    // with its lineage, so a next cutover updates them instead of adding copies. All else is gone.
    const left = await dumpErp();
    const erpRows = Object.entries(left)
      .filter(([table]) => table.startsWith('erp.'))
      .reduce((sum, [, tableRows]) => sum + tableRows.length, 0);
    expect(erpRows - 1).toBe(rows[0]?.lineage);
    expect(left['erp.tasks']).toEqual([expect.objectContaining({ id: task.id, title: task.title })]);
    expect(await agentData()).toEqual(agentBefore);

    // The cutover that changed nothing after it was skipped, and is undone with it.
    const standing = await db.query(
      `SELECT id FROM pipeline.runs WHERE mode = 'cutover' AND outcome = 'committed' AND undone_by_run_id IS NULL`,
    );
    expect(standing.rows).toEqual([]);

    // The next cutover finds the kept rows through their lineage: no copies.
    const next = await erp(['cutover', '--snapshot', original.dir, '--prefer', 'postgres']);
    expect(next.code, next.output).toBe(0);
    expect((await dumpErp())['erp.tasks']).toHaveLength(afterSecondCutover['erp.tasks']!.length);
  });

  it('refuses a cutover that ran before row history was kept, pointing to its backup', async () => {
    await db.query(
      `DELETE FROM pipeline.row_changes WHERE run_id = (SELECT max(id) FROM pipeline.runs WHERE mode = 'cutover')`,
    );
    await db.query(
      `UPDATE pipeline.runs SET counts = '{"erp.tasks": {"inserted": 1, "updated": 0}}' WHERE id = (SELECT max(id) FROM pipeline.runs WHERE mode = 'cutover')`,
    );
    const undo = await erp(['undo']);
    expect(undo.code).toBe(1);
    expect(undo.output).toMatch(
      /ran before row history was kept \(migration 007\), so it cannot be undone row by row; restore the backup it took instead/,
    );
  });

  it('never gives a run the id of one that an in-place restore took away', async () => {
    const lastId = async () =>
      (await db.query<{ id: string }>(`SELECT max(id)::text AS id FROM pipeline.runs`)).rows[0]!.id;
    expect((await erp(['plan', '--snapshot', original.dir])).code).toBe(0);
    const taken = await lastId();
    expect(taken).toMatch(/^20\d{15}$/);
    // What restoring a backup taken before that plan does: the run is gone, its id sequence set back.
    await db.query(`DELETE FROM pipeline.runs WHERE id = $1`, [taken]);
    await db.query(`ALTER TABLE pipeline.runs ALTER COLUMN id RESTART WITH 1`);
    expect((await erp(['plan', '--snapshot', original.dir])).code).toBe(0);
    expect(BigInt(await lastId())).toBeGreaterThan(BigInt(taken));
  });
});
