/**
 * Rendering without a database: the report data of a run, as report.json keeps it (the golden
 * bodies of test/report/golden, which golden.test.ts checks a real run produces), rendered to
 * Markdown, HTML and the terminal summary. Rejects are added by the transform itself from
 * awkward rows, so they have whatever shape the load gives them; only the report words them.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CodaRow, PublicApiColumn } from '../../src/extract/index.ts';
import type { RunReport } from '../../src/load/run.ts';
import type { ReportBody, ReportHeader } from '../../src/report/document.ts';
import { htmlReport } from '../../src/report/html.ts';
import { markdownBody, markdownReport } from '../../src/report/markdown.ts';
import { formatTerminalReport } from '../../src/report/terminal.ts';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import { transformTable, type Reject } from '../../src/transform/transform.ts';
import { collect } from '../support/collect.ts';

const golden = (name: string) => readFile(new URL(`golden/${name}`, import.meta.url), 'utf8');
const bodyOf = async (name: string) => JSON.parse(await golden(`${name}.json`)) as ReportBody;

const HEADER: ReportHeader = {
  runId: '4242',
  codaRequests: null,
  startedAt: '2024-05-01T12:00:00.000Z',
  finishedAt: '2024-05-01T12:00:07.000Z',
  source: 'snapshots/hR7tK2mQxZ-20240501T120000Z',
  backup: null,
  abandonedRuns: [],
  secondsByTable: {},
};

/** A run's report as the load hands it over, rebuilt from what report.json keeps of it. */
function reportFrom(body: ReportBody, header = HEADER): RunReport {
  return {
    ...header,
    ...body,
    tables: body.tables.map((table) => ({ ...table, seconds: header.secondsByTable[table.target] ?? 0 })),
  } as unknown as RunReport;
}

/** Rejects of the fixture's Tasks table, made by the transform from rows an owner could have. */
async function tasksRejects(): Promise<Reject[]> {
  const titleColumn = { id: 'c-Kt1tL1kS1a', name: 'Title' } as PublicApiColumn;
  const mapping = parseMappingSpec(
    'mappings/tasks.yaml',
    `coda: { table: grid-T4sKs9Lm0, name: Tasks }
target: erp.tasks
columns:
  title: { from: c-Kt1tL1kS1a, as: text, required: true }
`,
  );
  const awkward = [
    ['i-zReject01', '<script>alert("x")</script> | *not bold*', ''],
    ['i-zReject02', 'Zoë ✓ 名前', ['one', 'two']],
  ] as const;
  async function* rows(): AsyncGenerator<CodaRow> {
    yield* awkward.map(
      ([id, name, title]) =>
        ({
          id,
          name,
          browserLink: `https://coda.io/d/_dhR7tK2mQxZ/#Tasks_tuT4sKs9Lm0/_ru${id}`,
          values: { 'c-Kt1tL1kS1a': title },
        }) as unknown as CodaRow,
    );
  }
  const results = await collect(
    transformTable(
      {
        mapping,
        docId: 'hR7tK2mQxZ',
        table: { id: 'grid-T4sKs9Lm0', name: 'Tasks', columns: [titleColumn] },
      },
      rows(),
    ),
  );
  return results.map((result) => {
    if (!('reject' in result)) throw new Error('every awkward row is a reject');
    return result.reject;
  });
}

describe('the golden bodies, rendered from JSON alone', () => {
  it.each(['plan', 'reconcile'])('%s.json renders to %s.md, byte for byte', async (name) => {
    expect(markdownBody(await bodyOf(name))).toBe(await golden(`${name}.md`));
  });

  it('renders the same Markdown after a JSON round trip of the report', async () => {
    const report = reportFrom(await bodyOf('plan'));
    const again = reportFrom(JSON.parse(JSON.stringify(await bodyOf('plan'))) as ReportBody);
    expect(markdownReport(again)).toBe(markdownReport(report));
    expect(htmlReport(again)).toBe(htmlReport(report));
  });
});

describe('a report with rejects, in every form', () => {
  async function rendered() {
    const body = await bodyOf('plan');
    const tasks = body.tables.find((table) => table.target === 'erp.tasks')!;
    const rejects = await tasksRejects();
    tasks.rejects = rejects;
    tasks.read += rejects.length;
    const report = reportFrom(body, { ...HEADER, secondsByTable: { 'erp.tasks': 1.5 } });
    return {
      rejects,
      markdown: markdownReport(report),
      html: htmlReport(report),
      terminal: formatTerminalReport(report, report.source),
    };
  }

  it('counts them in the rows per table', async () => {
    const { markdown, html } = await rendered();
    expect(markdown).toContain('| Tasks <sub>erp.tasks</sub> | 26 | 24 | 0 | 0 | 2 |');
    expect(markdown).toMatch(/\| \*\*Total\*\* \| 113 \| 111 \| 0 \| 0 \| 2 \|/);
    expect(html).toMatch(/Tasks[\s\S]*26[\s\S]*24/);
  });

  it('links every rejected row to Coda, its name kept as text in each form', async () => {
    const { rejects, markdown, html, terminal } = await rendered();
    for (const { source } of rejects) {
      expect(markdown).toContain(`(<${source.browserLink}>)`);
      expect(html).toContain(`href="${source.browserLink}"`);
    }
    // Markup in a row's name stays text: escaped in HTML, no live tag in Markdown.
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(');
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toMatch(/(^|[^\\])\*not bold\*/);
    for (const form of [markdown, html, terminal]) expect(form).toContain('Zoë ✓ 名前');
  });

  it("names the Coda column of each problem, not the erp column's id alone", async () => {
    const { markdown, terminal } = await rendered();
    expect(markdown).toContain('Title');
    expect(terminal).toContain('Title');
  });

  it('keeps the run id and times to the technical details, and the body free of them', async () => {
    const { markdown } = await rendered();
    const [body, details] = markdown.split('\n## Technical details\n');
    expect(details).toContain(HEADER.runId);
    expect(details).toContain(HEADER.startedAt);
    expect(body).not.toContain(HEADER.startedAt);
  });
});
