/**
 * The Markdown and JSON reports of the fixture doc, compared with golden files, and the promise
 * behind them: the same input gives the same report body byte for byte.
 *
 * After an intended change to the reports, rewrite the goldens with
 *   npx vitest run test/report -u
 * and review the diff of test/report/golden/.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/extract/index.ts';
import type { ChunkRows } from '../../src/load/core/context.ts';
import { runLoad, type RunMode, type RunReport } from '../../src/load/run.ts';
import { splitReport } from '../../src/report/document.ts';
import { markdownBody } from '../../src/report/markdown.ts';
import { formatTerminalReport } from '../../src/report/terminal.ts';
import { writeRunReports } from '../../src/report/write.ts';
import { loadMappings, type LoadedMapping } from '../../src/transform/mapping-spec.ts';
import { fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { snapshotOf } from '../../bench/coda-server/fixture-snapshot.ts';

let db: TestDatabase;
let workDir: string;
let snapshot: Snapshot;
let mappings: LoadedMapping[];
let runs = 0;

const run = (mode: RunMode, chunkRows?: ChunkRows) =>
  runLoad({
    databaseUrl: db.url,
    source: snapshot,
    mappings,
    mode,
    runDir: path.join(workDir, `run-${++runs}`),
    chunkRows,
  });
/** A row, then two, then three at a time: every step of the load crosses chunk boundaries. */
const TINY_CHUNKS: ChunkRows = { first: 1, largest: 3 };
const bodyJson = (report: RunReport) => `${JSON.stringify(splitReport(report).body, null, 2)}\n`;

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-report-golden-'));
  snapshot = await snapshotOf(fixtureDoc, workDir);
  mappings = await loadMappings();
});
afterAll(async () => {
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('the reports of the fixture doc', () => {
  it('match the golden plan, and a second plan gives the same body byte for byte', async () => {
    const first = await run('plan');
    const second = await run('plan');
    expect(first.runId).not.toBe(second.runId);
    await expect(markdownBody(splitReport(first).body)).toMatchFileSnapshot('golden/plan.md');
    await expect(bodyJson(first)).toMatchFileSnapshot('golden/plan.json');
    expect(markdownBody(splitReport(second).body)).toBe(markdownBody(splitReport(first).body));
    expect(bodyJson(second)).toBe(bodyJson(first));
  });

  it('are the same when the rows are staged a few at a time', async () => {
    const whole = await run('plan');
    const chunked = await run('plan', TINY_CHUNKS);
    expect(bodyJson(chunked)).toBe(bodyJson(whole));
    expect(markdownBody(splitReport(chunked).body)).toBe(markdownBody(splitReport(whole).body));
  });

  it('keep the run id, times, source and backup out of the body, in the technical details at the end', async () => {
    const report = await run('cutover');
    expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('committed');
    expect(
      report.reconciliation!.totals.filter((total) => total.coda.amount !== total.postgres.amount),
    ).toEqual([]);
    const files = await writeRunReports(
      path.join(workDir, 'reports'),
      report,
      formatTerminalReport(report, report.source),
    );
    const { header, body } = splitReport(report);
    const markdown = await readFile(files['report.md'], 'utf8');
    const [before, details] = markdown.split('\n## Technical details\n');
    expect(before!.endsWith(markdownBody(body, header))).toBe(true);
    for (const varying of [report.runId, report.startedAt, report.finishedAt, report.backup!.path])
      expect(details).toContain(varying);
    const json = JSON.parse(await readFile(files['report.json'], 'utf8')) as Record<string, unknown>;
    expect(json.header).toEqual(header);
    const bodyText = JSON.stringify(body) + markdownBody(body);
    for (const varying of [
      report.startedAt,
      report.finishedAt,
      report.source,
      report.backup!.path,
      workDir,
    ]) {
      expect(bodyText).not.toContain(varying);
    }
    expect(JSON.stringify(body)).not.toMatch(/"(runId|seconds)"/);
  });

  it('match the golden reconciliation after the cutover', async () => {
    const report = await run('reconcile');
    expect(report.outcome, JSON.stringify(report.outcomeNote)).toBe('reconciled');
    await expect(markdownBody(splitReport(report).body)).toMatchFileSnapshot('golden/reconcile.md');
    await expect(bodyJson(report)).toMatchFileSnapshot('golden/reconcile.json');
    const chunked = await run('reconcile', TINY_CHUNKS);
    expect(bodyJson(chunked)).toBe(bodyJson(report));
  });
});
