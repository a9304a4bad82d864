import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSnapshot } from '../../src/extract/index.ts';
import { FIXTURE_DOC_ID, fixtureDoc } from '../../bench/coda-server/fixture-doc.ts';
import type { CliResult } from '../support/cli.ts';
import { collect } from '../support/collect.ts';
import { codaServer, readTree, runCli, startCli, tempDir, TOKEN, until } from './helpers.ts';

const baseTables = fixtureDoc.tables.filter((table) => table.tableType === 'table');
const totalRows = baseTables.reduce((sum, table) => sum + table.rowCount, 0);

function expectNoToken(result: CliResult, files: { file: string; content: string }[] = []): void {
  expect(result.stdout).not.toContain(TOKEN);
  expect(result.stderr).not.toContain(TOKEN);
  for (const { file, content } of files) expect(content, file).not.toContain(TOKEN);
}

describe('erp extract', () => {
  it('writes a complete snapshot through injected faults, with one summary line per table', async () => {
    const server = await codaServer({
      faults: [
        { kind: 'status', status: 503, path: /grid-T4sKs9Lm0\/rows/ },
        { kind: 'reset', path: /grid-Pr0j3ctS7\/columns/ },
        { kind: 'malformedJson', path: /grid-0fF3rs7kA\/rows/ },
        { kind: 'status', status: 429, retryAfter: '1', path: /grid-pE0pl3Zq1\/rows/ },
      ],
    });
    const root = await tempDir();
    const out = path.join(root, 'snapshot');
    const result = await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', out, '--rate-limit', '50/1s'], {
      CODA_API_BASE_URL: server.baseUrl,
      CODA_API_TOKEN: TOKEN,
    });

    expect(result.stderr).not.toMatch(/^erp:/m);
    expect(result.code).toBe(0);
    for (const table of baseTables) {
      expect(result.stderr).toMatch(
        new RegExp(`^${table.name}: ${table.rowCount} rows, 1 page, \\d+\\.\\d s$`, 'm'),
      );
    }
    expect(result.stdout).toMatch(
      new RegExp(
        `Snapshot of "${fixtureDoc.name}" \\(10 tables, ${totalRows} rows\\) written to ${out} \\(\\d+ requests, 1 rate-limited, 3 retried after a fault\\)`,
      ),
    );
    const snapshot = await readSnapshot(out);
    expect(snapshot.manifest().tables.map((table) => table.rowCount)).toEqual(
      baseTables.map((table) => table.rowCount),
    );
    expect(await readdir(root)).toEqual(['snapshot']);
    expectNoToken(result, await readTree(root));
  });

  it('exits non-zero on a 401 with a clear message, leaving no snapshot', async () => {
    const server = await codaServer();
    const root = await tempDir();
    const out = path.join(root, 'snapshot');
    const result = await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', out], {
      CODA_API_BASE_URL: server.baseUrl,
      CODA_API_TOKEN: `${TOKEN}-but-wrong`,
    });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /^erp: Coda rejected the API token \(401 Unauthorized\) while reading doc hR7tK2mQxZ\. Check CODA_API_TOKEN/m,
    );
    expect(existsSync(out)).toBe(false);
    expect(await readdir(root)).toEqual([]);
    expectNoToken(result);
  });

  it('fails on a deleted table without leaving anything that looks like a snapshot, and without the token', async () => {
    const server = await codaServer({
      faults: [{ kind: 'status', status: 410, path: /grid-ExRun5Qa9\/rows/, times: Infinity }],
    });
    const root = await tempDir();
    const result = await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', path.join(root, 'snapshot')], {
      CODA_API_BASE_URL: server.baseUrl,
      CODA_API_TOKEN: TOKEN,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /^erp: Table "Execution Runs" \(grid-ExRun5Qa9\) in doc hR7tK2mQxZ has been deleted in Coda \(410 Gone\)/m,
    );
    expect(await readdir(root)).toEqual([]);
    expectNoToken(result);
  });

  it('removes the unfinished snapshot when interrupted with Ctrl-C', async () => {
    const server = await codaServer({
      faults: [{ kind: 'slow', delayMs: 60_000, path: /\/rows/, times: Infinity }],
    });
    const root = await tempDir();
    const cli = startCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', path.join(root, 'snapshot')], {
      CODA_API_BASE_URL: server.baseUrl,
      CODA_API_TOKEN: TOKEN,
    });
    await until(async () => server.requests.some((request) => request.path.endsWith('/rows')));
    expect((await readdir(root))[0]).toMatch(/^snapshot\.partial-/);
    cli.child.kill('SIGINT');
    const result = await cli.result;
    expect(result.code).not.toBe(0);
    expect(await readdir(root)).toEqual([]);
  });

  it('reads the token from --token-file, and says how to provide one when there is none', async () => {
    const server = await codaServer();
    const root = await tempDir();
    const tokenFile = path.join(root, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const withFile = await runCli(
      [
        'extract',
        '--doc',
        FIXTURE_DOC_ID,
        '--out',
        path.join(root, 'snapshot'),
        '--token-file',
        tokenFile,
        '--base-url',
        server.baseUrl,
      ],
      {},
    );
    expect(withFile.code).toBe(0);
    expectNoToken(withFile);

    const without = await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--base-url', server.baseUrl], {});
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/erp: no Coda API token: set CODA_API_TOKEN .* or pass --token-file FILE/);
  });
});

describe('erp extract after an earlier snapshot', () => {
  const env = (server: { baseUrl: string }) => ({ CODA_API_BASE_URL: server.baseUrl, CODA_API_TOKEN: TOKEN });

  it("reads only what changed since the doc's latest snapshot beside the new one, says so, and reads all with --full", async () => {
    const server = await codaServer();
    const root = await tempDir();
    const extract = (out: string, ...more: string[]) =>
      runCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', path.join(root, out), ...more], env(server));
    expect((await extract('first')).code).toBe(0);
    const [edited] = baseTables;
    if (!edited) throw new Error('the fixture has no tables');
    server.editRow(edited.id, edited.rowAt(0).id, { [edited.columns[0]?.id ?? '']: 'edited since' });

    const second = await extract('second');
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(
      new RegExp(`^${edited.name}: ${edited.rowCount} rows, changes only, 1 page,`, 'm'),
    );
    for (const table of baseTables.slice(1)) {
      expect(second.stderr).toContain(
        `${table.name}: ${table.rowCount} rows, unchanged since the previous snapshot`,
      );
    }
    expect(second.stdout).toContain(
      `rows; since ${path.join(root, 'first')}: ${baseTables.length - 1} unchanged, 1 read for their changes only)`,
    );

    const requestsBefore = server.requests.length;
    const full = await extract('third', '--full');
    expect(full.code).toBe(0);
    expect(full.stderr).not.toMatch(/unchanged|changes only/);
    const rowReads = server.requests
      .slice(requestsBefore)
      .filter((request) => request.path.endsWith('/rows'));
    expect(rowReads.map((request) => request.path).sort()).toEqual(
      baseTables.map((table) => `/apis/v1/docs/${FIXTURE_DOC_ID}/tables/${table.id}/rows`).sort(),
    );
    expect(rowReads.some((request) => request.query.includes('syncToken'))).toBe(false);
    expect(await readFile(path.join(root, 'third', 'tables', `${edited.id}.jsonl`), 'utf8')).toContain(
      'edited since',
    );
  });

  it('says when Coda refuses the sync token of --since, and reads that table whole', async () => {
    const server = await codaServer();
    const root = await tempDir();
    const first = path.join(root, 'elsewhere', 'first');
    expect((await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--out', first], env(server))).code).toBe(0);
    const [edited] = baseTables;
    if (!edited) throw new Error('the fixture has no tables');
    server.editRow(edited.id, edited.rowAt(0).id, { [edited.columns[0]?.id ?? '']: 'edited since' });
    server.expireSyncTokens();

    const out = path.join(root, 'second');
    const result = await runCli(
      ['extract', '--doc', FIXTURE_DOC_ID, '--out', out, '--since', first],
      env(server),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `Reading ${edited.name} whole: Coda refused the sync token of the previous snapshot (expired or no longer valid)`,
    );
    expect(result.stderr).toMatch(new RegExp(`^${edited.name}: ${edited.rowCount} rows, 1 page,`, 'm'));
    const rows = await collect((await readSnapshot(out)).rows(edited.id));
    expect(rows[0]?.values[edited.columns[0]?.id ?? '']).toBe('edited since');

    const both = await runCli(['extract', '--doc', FIXTURE_DOC_ID, '--since', first, '--full'], env(server));
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/option '--full' cannot be used with option '--since <dir>'/);
  });
});
