/**
 * report.html as the owner sees it: one self-contained page that shows the outcome, the totals and
 * the rejects, with Coda's text escaped. The page is opened in headless Chromium (Debian's
 * `chromium` package, driven by playwright-core; no browser is downloaded). Where chromium is not
 * installed the browser check is skipped with a notice, and the checks on the page's text still run.
 * The browser check keeps a screenshot of the page in test-artifacts/ (git-ignored) to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type RunReport } from '../../src/load/run.ts';
import { formatTerminalReport } from '../../src/report/terminal.ts';
import { writeRunReports } from '../../src/report/write.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc, offersTable, projectsTable } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `NOTICE: ${CHROMIUM} not found, so report.html is not checked in a browser; install it with: apt-get install -y chromium`,
  );

const SCRIPT_NAME = '<script>alert("owned")</script>';
const IMAGE_STATUS = '<img src=x onerror=alert(1)>';
/** A NUL and a bell in a row name: named on the page, never drawn as a missing-glyph box. */
const CONTROL_NAME = 'Invoice\u0000run\u0007 Q3';
const SCREENSHOT = path.join(REPO_ROOT, 'test-artifacts', 'report-plan.png');

let db: TestDatabase;
let workDir: string;
let mappings: LoadedMapping[];
let report: RunReport;
let htmlFile: string;
let html: string;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-report-html-'));
  mappings = await loadMappings();
  const source = await snapshotOf(fixtureDoc, workDir, (server) => {
    server.editRow(projectsTable.id, 'i-jNwDisc1A', { [projectsTable.columnIds.name]: SCRIPT_NAME });
    server.editRow(offersTable.id, 'i-fRetain5E', { [offersTable.columnIds.status]: IMAGE_STATUS });
    server.editRow(offersTable.id, 'i-fDashbd4D', { [offersTable.columnIds.name]: CONTROL_NAME });
  });
  report = await runLoad({
    databaseUrl: db.url,
    source,
    mappings,
    mode: 'plan',
    runDir: workDir,
  });
  const files = await writeRunReports(
    path.join(workDir, 'run'),
    report,
    formatTerminalReport(report, report.source),
  );
  htmlFile = files['report.html'];
  html = await readFile(htmlFile, 'utf8');
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('the report files', () => {
  it('are readable by their owner alone: the run folder 0700, every file 0600', async () => {
    const runDir = path.join(workDir, 'run');
    expect((await stat(runDir)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(runDir))
      expect((await stat(path.join(runDir, name))).mode & 0o777, name).toBe(0o600);
  });
});

describe('report.html', () => {
  it('is self-contained: no scripts, and nothing loaded from anywhere', () => {
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed|base)\b|<[^>]*\ssrc=|@import|url\(/i);
    expect(html).toMatch(/<style>[\s\S]+<\/style>/);
    expect(html).toMatch(/<svg [^>]*role="img"/);
  });

  it('escapes Coda text: a row named <script> is shown as text', () => {
    expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('holds no control character, nor a picture of one: a NUL in a Coda name is named', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the test
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    expect(html).not.toMatch(/[\u2400-\u2421]/);
    expect(html).toContain('Invoice[NUL]run[BEL] Q3');
  });

  it('keeps the run number, times, snapshot and request counts at the end, under technical details', () => {
    const details = html.indexOf('<h2>Technical details</h2>');
    expect(details).toBeGreaterThan(html.indexOf('Words used in this report'));
    for (const technical of [`Run number: ${report.runId}`, report.startedAt, report.source])
      expect(html.indexOf(technical), technical).toBeGreaterThan(details);
  });

  it.skipIf(!hasChromium)(
    'shows the outcome, the totals and the rejects in Chromium, and runs nothing',
    async () => {
      // A fresh profile each run (playwright passes it as --user-data-dir).
      const browser = await chromium.launchPersistentContext(
        await mkdtemp(path.join(workDir, 'chromium-profile-')),
        {
          executablePath: CHROMIUM,
          headless: true,
          viewport: { width: 1200, height: 900 },
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      );
      try {
        const page = await browser.newPage();
        const requested: string[] = [];
        const dialogs: string[] = [];
        page.on('request', (request) => requested.push(request.url()));
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });
        await page.goto(pathToFileURL(htmlFile).href);
        expect(requested).toEqual([pathToFileURL(htmlFile).href]);
        expect(dialogs).toEqual([]);

        // An empty database: every row of the doc would be inserted, except the offer with the odd
        // status and the one whose name holds a NUL (Postgres text cannot).
        const rowsInDoc = fixtureDoc.tables
          .filter((table) => mappings.some((mapping) => mapping.spec.coda.table === table.id))
          .reduce((sum, table) => sum + table.rowCount, 0);
        await expect
          .poll(() => page.locator('.outcome h1').innerText())
          .toBe('Not ready for the cutover yet: 1 thing to decide.');
        expect(await page.locator('.outcome').innerText()).toContain(
          `Dry run: nothing was written. A cutover now would insert ${rowsInDoc - 2} row(s), change 0, leave 0 unchanged and reject 2.`,
        );
        // The sign-off is the first thing on the page, in view without scrolling.
        const box = await page.locator('.outcome h1').boundingBox();
        expect(box!.y).toBeLessThan(200);
        const cards = await page.locator('.card').allInnerTexts();
        expect(cards.map((card) => card.replace(/\s+/g, ' '))).toEqual([
          `${rowsInDoc} read`,
          `${rowsInDoc - 2} inserted`,
          '0 updated',
          '0 unchanged',
          '2 rejected',
        ]);
        const rejects = page.locator('section', {
          hasText: 'Rows rejected (not loaded), with the reason (2)',
        });
        await expect
          .poll(() => rejects.innerText())
          .toContain(`Status "${IMAGE_STATUS}" is not one of the known choices`);
        const rejectLink = rejects.locator('a', { hasText: 'Ops Retainer (10 h/month)' });
        expect(await rejectLink.getAttribute('href')).toBe(offersTable.ref('i-fRetain5E').url);
        expect(await page.locator('main').textContent()).toContain(SCRIPT_NAME);
        expect(await page.locator('main').innerText()).toContain('Invoice[NUL]run[BEL] Q3');
        expect(await page.locator('svg rect').count()).toBeGreaterThanOrEqual(report.tables.length);
        // Tables by their Coda names, the erp name after them.
        expect(await page.locator('section', { hasText: 'Rows per table' }).innerText()).toMatch(
          /Offers erp\.offers/,
        );
        await mkdir(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        expect((await stat(SCREENSHOT)).size).toBeGreaterThan(10_000);
      } finally {
        await browser.close();
      }
    },
  );
});
