/**
 * A run of about 200,000 rows through the CLI writes all four reports: Markdown and HTML list the
 * first rows with a count of the rest, report.json holds every row. (A cutover of 172,530 rows
 * once committed and then died in the Markdown report with "Maximum call stack size exceeded".)
 * A plan runs the same load and the same report code as a cutover, without a backup or a commit.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { LIST_LIMIT } from '../../src/report/lists.ts';
import { syntheticDoc } from '../../bench/coda-server/synthetic.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const doc = syntheticDoc({ taskRows: 175_000 });
const ROWS = doc.tables.reduce((sum, table) => sum + table.rowCount, 0);

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-large-run-'));
  snapshot = await snapshotOf(doc, workDir, undefined, { maxPageSize: 1_000 });
}, 600_000);
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe(`a plan of ${ROWS.toLocaleString('en-US')} rows`, () => {
  it('writes every report: capped lists with counts in Markdown and HTML, every row in JSON', async () => {
    const runs = path.join(workDir, 'runs');
    const result = await erp(
      ['plan', '--snapshot', snapshot.dir, '--mappings', 'bench/mappings', '--runs', runs],
      { DATABASE_URL: db.url },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`A cutover now would insert ${ROWS} row(s)`);
    const [runDir] = await readdir(runs);
    const read = (name: string) => readFile(path.join(runs, runDir!, name), 'utf8');
    const more = `… and ${ROWS - LIST_LIMIT} more (all of them are in report.json)`;
    const markdown = await read('report.md');
    expect(markdown).toContain(`## Rows a cutover would insert (${ROWS})`);
    expect(markdown).toContain(more);
    expect(await read('report.html')).toContain(more);
    const json = JSON.parse(await read('report.json')) as { tables: { inserted: unknown[] }[] };
    expect(json.tables.reduce((sum, table) => sum + table.inserted.length, 0)).toBe(ROWS);
  }, 900_000);
});
