/**
 * The bridge of every business total adds up as printed, in every report form: each line of the
 * terminal, Markdown, HTML and JSON totals is read back from the rendered text and
 * Coda − rejected − not converted + extra = Postgres + unexplained is recomputed from it.
 * The doc is generated, with awkward numbers edited in: a negative number a CHECK rule refuses,
 * a comma decimal ("3,5") and a word in a number column, an amount in another currency, and
 * decimals that binary floating point cannot add. Coda's figures are derived from the doc.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import type { BusinessTotal } from '../../src/load/reconcile/types.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { addDecimals, subtractDecimals } from '../../src/shared/decimal.ts';
import { syntheticDoc } from '../../bench/coda-server/synthetic.ts';
import { money } from '../../bench/coda-server/rich-values.ts';
import type { FixtureCellValue, FixtureTable } from '../../bench/coda-server/fixture-types.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const doc = syntheticDoc({ taskRows: 48 });
const tableNamed = (name: string) => doc.tables.find((table) => table.name === name)!;
const columnNamed = (table: FixtureTable, name: string) =>
  table.columns.find((column) => column.name === name)!.id;
const tasks = tableNamed('Tasks');
const engagements = tableNamed('Engagements');
const HOURS = columnNamed(tasks, 'Estimated Hours');
const VALUE = columnNamed(engagements, 'Value');
const taskId = (index: number) => tasks.rowAt(index).id;

/** Cells as the owner typed them in Coda, by task index. */
const hourEdits = new Map<number, FixtureCellValue>([
  [3, -2],
  [5, '3,5'],
  [8, 'about four'],
  [11, 0.1],
  [12, 0.2],
  [13, 1 / 3],
]);
const NOT_NUMBERS = ['3,5', 'about four'];

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let runs = 0;

async function run(args: string[]) {
  runs += 1;
  const dir = path.join(workDir, `runs-${runs}`);
  const result = await erp(
    [...args, '--snapshot', snapshot.dir, '--mappings', 'bench/mappings', '--runs', dir],
    {
      DATABASE_URL: db.url,
    },
  );
  const [runDir] = await readdir(dir);
  const reports: Record<string, string> = {};
  for (const name of REPORT_FILES) reports[name] = await readFile(path.join(dir, runDir!, name), 'utf8');
  return { ...result, reports };
}

/** The number a printed cell starts with ("-2 (1 row)", "**5**", "3 DIFFERENT"). */
function leadingNumber(cell: string): string {
  const number = /^-?\d+(\.\d+)?/.exec(cell.replace(/\*\*/g, '').trim())?.[0];
  expect(number, `"${cell}" starts with no number`).toBeDefined();
  return number!;
}

/** Coda, rejected, not converted, extra, Postgres, unexplained, as printed on one line. */
type PrintedLine = { name: string; figures: string[] };

function expectBridgeHolds(form: string, lines: PrintedLine[], count: number): void {
  expect(lines, form).toHaveLength(count);
  for (const { name, figures } of lines) {
    const [coda, rejected, notConverted, extra, postgres, unexplained] = figures.map(leadingNumber) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const walked = addDecimals(subtractDecimals(subtractDecimals(coda, rejected), notConverted), extra);
    expect(walked, `${form}: ${name}`).toBe(addDecimals(postgres, unexplained));
  }
}

const htmlText = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

function terminalLines(text: string): PrintedLine[] {
  const start = text.split('\n').findIndex((line) => line.startsWith('Business totals'));
  const lines: PrintedLine[] = [];
  for (const line of text.split('\n').slice(start + 3)) {
    if (!line.includes(' | ')) break;
    const [name = '', ...cells] = line.split(' | ');
    lines.push({ name: name.trim(), figures: cells.slice(0, 6) });
  }
  return lines;
}

function markdownLines(text: string): PrintedLine[] {
  const table = text.slice(text.indexOf('| Total | Coda |'));
  const lines: PrintedLine[] = [];
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [name = '', ...cells] = line.slice(1, -1).split(' | ');
    lines.push({ name: name.trim(), figures: cells.slice(0, 6) });
  }
  return lines;
}

function htmlLines(html: string): PrintedLine[] {
  const section = html.slice(html.indexOf('<h2>Business totals</h2>'));
  const table = section.slice(0, section.indexOf('</table>'));
  return [...table.matchAll(/<tr>(.*?)<\/tr>/g)]
    .map(([, row = '']) => [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map(([, cell = '']) => htmlText(cell)))
    .filter((cells) => cells.length)
    .map(([name = '', ...cells]) => ({ name, figures: cells.slice(0, 6) }));
}

function jsonLines(totals: BusinessTotal[]): PrintedLine[] {
  return totals.map((total) => ({
    name: `${total.label} ${total.group?.name ?? ''}`,
    figures: [
      total.coda.amount,
      total.rejected.amount,
      total.notConverted.amount,
      total.extra.amount,
      total.postgres.amount,
      total.unexplained,
    ],
  }));
}

/**
 * The Markdown walk of a total, step by step: Coda, each share taken off, extra added, the
 * unexplained rest taken off, must land on the printed Postgres figure.
 */
function expectWalkAddsUp(markdown: string, title: string): void {
  const start = markdown.indexOf(`### ${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const steps = markdown.slice(start).split('\n\n')[1]!.split('\n');
  expect(steps.at(-1)).toMatch(/^- = Postgres: |^- Not a number/);
  let figure = leadingNumber(steps[0]!.replace('- Coda: ', ''));
  for (const step of steps.slice(1)) {
    const text = step.replace(/^- (\*\*)?/, '');
    if (text.startsWith('− ')) {
      const shown = text.slice(2);
      figure = subtractDecimals(figure, leadingNumber(shown.replace(/^\((-[^)]+)\)/, '$1')));
    } else if (text.startsWith('+ ')) figure = addDecimals(figure, leadingNumber(text.slice(2)));
    else if (text.startsWith('= Postgres: ')) expect(figure, title).toBe(leadingNumber(text.slice(12)));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-bridge-'));
  snapshot = await snapshotOf(doc, workDir, (server) => {
    for (const [index, value] of hourEdits) server.editRow(tasks.id, taskId(index), { [HOURS]: value });
    // A euro amount in a dollar column, and a negative value the database refuses.
    server.editRow(engagements.id, engagements.rowAt(2).id, { [VALUE]: money(1500, 'EUR') });
    server.editRow(engagements.id, engagements.rowAt(4).id, { [VALUE]: money('-250.25') });
  });
}, 120_000);
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('business totals of a generated doc with awkward numbers', () => {
  it("counts every number Coda shows on Coda's side, and text in a number column on neither", async () => {
    const cutover = await run(['cutover', '--max-rejects', '10']);
    expect(cutover.code, cutover.stdout + cutover.stderr).toBe(0);
    const totals = JSON.parse(cutover.reports['report.json']!).reconciliation.totals as BusinessTotal[];

    const hours = totals.find((total) => total.label === 'Total Estimated Hours of Tasks')!;
    const cells = Array.from({ length: tasks.rowCount }, (_, index) =>
      hourEdits.has(index) ? hourEdits.get(index)! : tasks.rowAt(index).values[HOURS]!,
    );
    const numbers = cells.filter((cell): cell is number => typeof cell === 'number');
    expect(hours.coda).toEqual({
      amount: numbers.map(String).reduce(addDecimals, '0'),
      rows: numbers.length,
    });
    expect(hours.rejected.shares).toEqual([expect.objectContaining({ rowId: taskId(3), share: '-2' })]);
    expect(hours.notANumber.map((cell) => cell.value).sort()).toEqual(NOT_NUMBERS);
    expect(hours.unexplained).toBe('0');
    // Listed with their count, never read as 35.
    expect(cutover.stdout).toMatch(/Total Estimated Hours of Tasks .*\|\s+2 rows\s*$/m);
    expect(cutover.reports['report.md']).toContain('- Not a number, on neither side: "3,5" in [Task 6');

    const value = totals.find((total) => total.label === 'Total Value of Engagements')!;
    expect(value.rejected.shares).toEqual([expect.objectContaining({ share: '-250.25' })]);
    expect(value.notConverted.shares).toEqual([expect.objectContaining({ share: '1500' })]);
    expect(value.unexplained).toBe('0');
  });

  it('adds up on every line of every form, as printed, with extra rows and unexplained differences', async () => {
    // A task typed into Postgres (extra) and one whose hours were edited there (unexplained).
    await db.query(`INSERT INTO erp.tasks (title, estimated_hours) VALUES ('Typed in Postgres', 4.25)`);
    await db.query(
      `UPDATE erp.tasks SET estimated_hours = estimated_hours + 0.7
        WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE coda_row_id = $1)`,
      [taskId(20)],
    );
    const reconcile = await run(['reconcile']);
    expect(reconcile.code, reconcile.stderr).toBe(1);
    const totals = JSON.parse(reconcile.reports['report.json']!).reconciliation.totals as BusinessTotal[];
    const hours = totals.find((total) => total.label === 'Total Estimated Hours of Tasks')!;
    expect(hours.extra).toEqual({ amount: '4.25', rows: 1 });
    expect(hours.unexplained).toBe('-0.7');

    expectBridgeHolds('terminal', terminalLines(reconcile.stdout), totals.length);
    expectBridgeHolds('summary.txt', terminalLines(reconcile.reports['summary.txt']!), totals.length);
    expectBridgeHolds('Markdown', markdownLines(reconcile.reports['report.md']!), totals.length);
    expectBridgeHolds('HTML', htmlLines(reconcile.reports['report.html']!), totals.length);
    expectBridgeHolds('JSON', jsonLines(totals), totals.length);
    expectWalkAddsUp(reconcile.reports['report.md']!, 'Total Estimated Hours of Tasks');
    expectWalkAddsUp(reconcile.reports['report.md']!, 'Total Value of Engagements');
    // The rows behind a figure stand beside it, never in its place.
    expect(reconcile.reports['report.md']).toMatch(
      /\| Total Estimated Hours of Tasks \| [\d.]+ \(\d+ rows\) \| -2 \(1 row\) \|/,
    );
  });
});
