/**
 * Where a cutover's time goes, against the load it includes: one cutover into an empty database
 * and one plan into another (every row new), in the same process, with the time of every
 * statement summed by its opening text, and when the cutover's transaction began (after its
 * backup) and its reconcile pass began and ended. `npm run bench:profile-cutover -- [taskRows]`;
 * the machine is shared: compare the shares within one run, not seconds across runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, SUPERUSER } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrations.ts';
import { connectionUrl, ensureOwnedDatabase, OWNER_ROLE } from '../src/db/target.ts';
import { runLoad, type RunMode } from '../src/load/run.ts';
import { formatTerminalReport } from '../src/report/terminal.ts';
import { writeRunReports } from '../src/report/write.ts';
import { loadMappings } from '../src/transform/mapping-spec.ts';
import { snapshotOf } from './coda-server/fixture-snapshot.ts';
import { syntheticDoc } from './coda-server/synthetic.ts';

const taskRows = Number(process.argv[2] ?? 100_000);
const statements = new Map<string, { seconds: number; calls: number }>();
/** When the run began its transaction (after the backup), its reconcile pass began and ended, and it committed. */
const marks: [string, number][] = [];
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function timedQuery(this: pg.Client, ...args: unknown[]) {
  const text =
    typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? 'COPY stream');
  const key = text.replace(/\s+/g, ' ').slice(0, 140);
  const started = performance.now();
  if (/^(BEGIN|SAVEPOINT reconcile|ROLLBACK TO SAVEPOINT reconcile|COMMIT)$/.test(key))
    marks.push([key, started]);
  const result = (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
  const add = () => {
    const entry = statements.get(key) ?? { seconds: 0, calls: 0 };
    entry.seconds += (performance.now() - started) / 1000;
    entry.calls += 1;
    statements.set(key, entry);
  };
  if (result && typeof (result as Promise<unknown>).then === 'function')
    (result as Promise<unknown>).then(add, add);
  return result;
} as typeof pg.Client.prototype.query;

function topStatements(label: string, total: number): void {
  const sorted = [...statements.entries()].sort((a, b) => b[1].seconds - a[1].seconds).slice(0, 25);
  console.log(`\n## ${label}: ${total.toFixed(2)} s`);
  for (const [text, { seconds, calls }] of sorted)
    console.log(`${seconds.toFixed(2).padStart(7)} s ${String(calls).padStart(5)}x  ${text}`);
  statements.clear();
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'erp-profile-pg-'));
const workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-profile-'));
const server = await startEmbeddedPostgres({ dataDir, persistent: false });
try {
  const at = (user: string, password: string, database: string) =>
    connectionUrl({ user, password, host: server.host, port: server.port, database });
  const adminUrl = at(SUPERUSER, server.superuserPassword, 'postgres');
  const ownerPassword = randomBytes(18).toString('base64url');
  const fresh = async (database: string) => {
    await ensureOwnedDatabase(adminUrl, { database, owner: OWNER_ROLE, ownerPassword });
    const url = at(OWNER_ROLE, ownerPassword, database);
    await migrate(url);
    return url;
  };
  const source = await snapshotOf(syntheticDoc({ taskRows }), workDir, undefined, { maxPageSize: 1000 });
  const mappings = await loadMappings(path.join(import.meta.dirname, 'mappings'));
  const run = async (mode: RunMode, database: string) => {
    const databaseUrl = await fresh(database);
    statements.clear();
    marks.length = 0;
    const started = performance.now();
    const report = await runLoad({
      databaseUrl,
      source,
      mappings,
      mode,
      acceptUnmapped: true,
      runDir: path.join(workDir, `${mode}-${database}`),
    });
    const loaded = (performance.now() - started) / 1000;
    const reportStarted = performance.now();
    const summary = formatTerminalReport(report, report.source);
    await writeRunReports(path.join(workDir, `${mode}-${database}`), report, summary);
    const reported = (performance.now() - reportStarted) / 1000;
    const tableSeconds = report.tables.reduce((sum, table) => sum + table.seconds, 0);
    console.log(
      `\n${mode}: ${marks.map(([mark, at]) => `${mark} at ${((at - started) / 1000).toFixed(2)} s`).join(', ')}`,
    );
    topStatements(
      `${mode} (${report.outcome}); tables ${tableSeconds.toFixed(2)} s, reports ${reported.toFixed(2)} s`,
      loaded,
    );
    return { loaded, reported, tableSeconds };
  };
  const plan = await run('plan', 'profile_plan');
  const cutover = await run('cutover', 'profile_cutover');
  console.log(
    `\ncutover ${(cutover.loaded + cutover.reported).toFixed(2)} s / plan ${plan.loaded.toFixed(2)} s = ${((cutover.loaded + cutover.reported) / plan.loaded).toFixed(2)}`,
  );
} finally {
  await server.stop();
  await rm(workDir, { recursive: true, force: true });
}
