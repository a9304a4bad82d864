/**
 * Every report opens with one sentence the owner can act on, and a refused cutover's page leads
 * with why and what to do, counting what it would have done and nothing as done. The doc is the
 * fixture renamed the way an owner might have it (a table "Engagements & Jobs", a status column
 * "Étape ✓"), with two offers sharing an unknown status: the reports must use those names, the
 * choice labels of the doc, and list the two rejects as one group.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import { runLoad, type RunMode, type RunReport } from '../../src/load/run.ts';
import { splitReport } from '../../src/report/document.ts';
import { htmlReport } from '../../src/report/html.ts';
import { markdownBody } from '../../src/report/markdown.ts';
import { SAFE_TO_SIGN } from '../../src/report/sign-off.ts';
import { formatTerminalReport } from '../../src/report/terminal.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc, offersTable, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import type { FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const TABLE_NAME = 'Engagements & Jobs';
const STATUS_NAME = 'Étape ✓';
const UNKNOWN_STATUS = 'Paused ✗';
const REJECTED_OFFERS = ['i-fRetain5E', 'i-fDashbd4D'];
const PROJECT = 'i-jNwDisc1A';

/** The fixture as an owner might have named it: another table name, another column name. */
function renamedDoc(): FixtureDoc {
  return {
    ...fixtureDoc,
    tables: fixtureDoc.tables.map((table) =>
      table.id === projectsTable.id
        ? {
            ...table,
            name: TABLE_NAME,
            columns: table.columns.map((column) =>
              column.id === projectsTable.columnIds.status ? { ...column, name: STATUS_NAME } : column,
            ),
          }
        : table,
    ),
  };
}

let db: TestDatabase;
let workDir: string;
let mappings: LoadedMapping[];
/** Two offers with a status the mapping does not know. */
let withRejects: Snapshot;
/** The same, and the project's status changed in Coda to Done. */
let projectDone: Snapshot;
let runs = 0;

const run = (mode: RunMode, source: Snapshot, options: Partial<Parameters<typeof runLoad>[0]> = {}) =>
  runLoad({
    databaseUrl: db.url,
    source,
    mappings,
    mode,
    withoutBackup: true,
    runDir: path.join(workDir, `run-${++runs}`),
    ...options,
  });

/** Every form of a report, as the owner reads it. */
function rendered(report: RunReport) {
  return {
    markdown: markdownBody(splitReport(report).body),
    html: htmlReport(report),
    terminal: formatTerminalReport(report, report.source),
  };
}

/** The text of the page's lead box, and its tone. */
function lead(html: string): { tone: string; sentence: string; text: string } {
  const found = /<div class="outcome (\w+)"><h1>([^<]*)<\/h1>([\s\S]*?)<\/div>/.exec(html);
  expect(found, 'the lead box').not.toBeNull();
  return { tone: found![1]!, sentence: found![2]!, text: found![3]! };
}

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-sign-off-'));
  mappings = await loadMappings();
  const rejectOffers = (server: Parameters<NonNullable<Parameters<typeof snapshotOf>[2]>>[0]) => {
    for (const offer of REJECTED_OFFERS)
      server.editRow(offersTable.id, offer, { [offersTable.columnIds.status]: UNKNOWN_STATUS });
  };
  withRejects = await snapshotOf(renamedDoc(), await mkdtemp(path.join(workDir, 'a-')), rejectOffers);
  projectDone = await snapshotOf(renamedDoc(), await mkdtemp(path.join(workDir, 'b-')), (server) => {
    rejectOffers(server);
    server.editRow(projectsTable.id, PROJECT, { [projectsTable.columnIds.status]: 'Done' });
  });
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('the sign-off line', () => {
  it('of a plan with rejects says it is not ready, what to decide and the exact commands', async () => {
    const report = await run('plan', withRejects);
    const { markdown, html, terminal } = rendered(report);
    const { tone, sentence, text } = lead(html);
    expect(tone).toBe('warn');
    expect(sentence).toBe('Not ready for the cutover yet: 1 thing to decide.');
    expect(text).toContain('2 rows would be rejected');
    expect(text).toContain('<code>npm run erp -- plan --mappings mappings</code>');
    expect(markdown.split('\n')[0]).toBe(`**${sentence}**`);
    expect(markdown).toContain('accept them with npm run erp -- cutover --mappings mappings --max-rejects 2');
    expect(terminal.split('\n')[2]).toBe(sentence);
  });

  it('of a cutover refused for too many rejects leads with why, counts what it would have done, and shows nothing as done', async () => {
    const report = await run('cutover', withRejects);
    expect(report.outcome).toBe('rolled_back');
    const { markdown, html } = rendered(report);
    const { tone, sentence, text } = lead(html);
    expect(tone).toBe('bad');
    expect(sentence).toBe('Not yet: the cutover was refused and nothing was written; 1 thing to decide.');
    expect(text).toContain('Why: 2 row(s) were rejected and at most 0 may be');
    expect(text).toContain('<code>npm run erp -- cutover --mappings mappings</code>');
    const cards = [...html.matchAll(/<div class="what">([^<]*)<\/div>/g)].map((match) => match[1]);
    expect(cards).toEqual(['read', 'would have inserted', 'would have updated', 'unchanged', 'rejected']);
    for (const done of ['<h2>Rows inserted', '<h2>Rows changed', '>inserted<', '>updated<'])
      expect(html).not.toContain(done);
    expect(markdown).toContain('## Rows the cutover would have inserted (nothing was written)');
    // What refused it comes before what it would have done.
    expect(html.indexOf('Rows rejected (not loaded)')).toBeLessThan(html.indexOf('Rows per table'));
    expect(markdown.indexOf('## Rows rejected')).toBeLessThan(markdown.indexOf('## Rows per table'));
  });

  it('of a cutover refused for Coda data left behind names the data and the command that accepts it', async () => {
    // The projects mapping without its Tags column: Coda's tags are left behind.
    const withoutTags = mappings.map((mapping) => {
      if (mapping.spec.target !== 'erp.projects') return mapping;
      const { tags: _tags, ...columns } = mapping.spec.columns;
      return { ...mapping, spec: { ...mapping.spec, columns } };
    });
    const report = await run('cutover', withRejects, { mappings: withoutTags });
    expect(report.outcome).toBe('rolled_back');
    const { markdown, html } = rendered(report);
    const { tone, sentence, text } = lead(html);
    expect(tone).toBe('bad');
    expect(sentence).toMatch(/^Not yet: the cutover was refused and nothing was written; /);
    expect(text).toContain('1 Coda column or table holds data no mapping loads');
    expect(text).toContain('npm run erp -- cutover --mappings mappings --accept-unmapped');
    // Refused before loading: no counters at all, the data left behind right under the lead.
    expect(html).not.toContain('class="card"');
    expect(html).toContain(`${TABLE_NAME.replace('&', '&amp;')}: Tags`);
    expect(markdown.indexOf('## Coda data left behind')).toBeGreaterThan(0);
    expect(markdown).not.toContain('## Rows per table');
  });

  it('of a committed cutover is green: safe to sign off, and says how to check again', async () => {
    const report = await run('cutover', withRejects, { maxRejects: 2 });
    expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('committed');
    const { markdown, html } = rendered(report);
    const { tone, sentence, text } = lead(html);
    expect([tone, sentence]).toEqual(['good', SAFE_TO_SIGN]);
    expect(text).toContain('<code>npm run erp -- reconcile --mappings mappings</code>');
    expect(markdown.split('\n')[0]).toBe(`**${SAFE_TO_SIGN}**`);
  });

  it("of a reconcile that matches apart from accepted differences is green, and groups the two rejects with Coda's names", async () => {
    const report = await run('reconcile', withRejects);
    expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('reconciled');
    const { markdown, html, terminal } = rendered(report);
    const { tone, sentence, text } = lead(html);
    expect([tone, sentence]).toEqual(['good', SAFE_TO_SIGN]);
    expect(text).toContain(
      'Postgres matches Coda, apart from 2 differences accepted at cutover; nothing new differs.',
    );
    // One line for the two offers, the rows behind a disclosure; the reason said once.
    const group = new RegExp(
      `<li>2 Offers rows rejected: [^<]*${UNKNOWN_STATUS}[^<]*<details class="rows"><summary>the 2 rows</summary>`,
    );
    expect(html).toMatch(group);
    expect(markdown).toMatch(/\n- 2 Offers rows rejected: [^\n]+\n {2}- \[/);
    expect(terminal).toMatch(/\n {2}2 Offers rows rejected: [^\n]+\n {4}The rows: /);
    expect(html).toContain(`${TABLE_NAME.replace('&', '&amp;')} <span class="id">erp.projects</span>`);
    // The business totals are named by the doc's table and column, as renamed.
    expect(report.reconciliation!.totals.map((total) => total.label)).toContain(
      `${TABLE_NAME} by ${STATUS_NAME}`,
    );
    expect(terminal).toContain(`${TABLE_NAME} by ${STATUS_NAME}: `);
  });

  it("of a cutover refused for an edit in Postgres leads with the conflict, in the doc's column name and choice labels", async () => {
    await db.query(
      `UPDATE erp.projects SET status = 'on_hold' WHERE id = (SELECT target_id FROM pipeline.coda_lineage WHERE target_table = 'erp.projects' AND coda_row_id = $1)`,
      [PROJECT],
    );
    const report = await run('cutover', projectDone, { maxRejects: 2 });
    expect(report.outcome).toBe('rolled_back');
    const { markdown, html, terminal } = rendered(report);
    const { sentence, text } = lead(html);
    expect(sentence).toBe('Not yet: the cutover was refused and nothing was written; 1 thing to decide.');
    expect(text).toContain(
      'choose which side wins with npm run erp -- cutover --mappings mappings --prefer coda',
    );
    const field = `${STATUS_NAME}: Coda "Done", Postgres "On Hold", at the last load "In Progress"`;
    for (const form of [markdown, terminal]) expect(form).toContain(field);
    expect(html).toContain(field.replaceAll('"', '&quot;'));
    expect(html.indexOf('Conflicts:')).toBeLessThan(html.indexOf('Rows per table'));
    // What the mappings skip on purpose is information, not a decision: it comes after.
    expect(markdown.indexOf('## Coda data skipped on purpose')).toBeGreaterThan(
      markdown.indexOf('## Rows per table'),
    );
  });

  it('of a reconcile that finds new differences is red, not yet, with the next command', async () => {
    const report = await run('reconcile', projectDone);
    expect(report.outcome).toBe('differences');
    const { tone, sentence, text } = lead(rendered(report).html);
    expect(tone).toBe('bad');
    expect(sentence).toMatch(/^Not yet: \d+ things? to decide\.$/);
    expect(text).toContain('<code>npm run erp -- plan --mappings mappings</code>');
  });
});
