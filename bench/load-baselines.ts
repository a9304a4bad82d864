/**
 * The two baselines of the load figure, fed the very rows the pipeline loaded (read back from
 * the erp tables after the cutover, so the values and their text encoding are the same):
 *
 * - raw COPY into an unindexed copy of each table (`LIKE … INCLUDING DEFAULTS`: columns, NOT NULL
 *   and defaults only), the floor of what any loader can do in Postgres;
 * - pgloader loading the same rows from CSV into another such copy, when it is installed.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const run = promisify(execFile);
const { escapeIdentifier: q } = pg;

const RAW_COPY_SCHEMA = 'bench_raw_copy';
const PGLOADER_SCHEMA = 'bench_pgloader';

export interface ExportedTable {
  /** The erp table's name without its schema. */
  table: string;
  columns: string[];
  rows: number;
  copyTextFile: string;
  csvFile: string;
}

/** `targets`: erp tables ("erp.tasks") and the columns the load writes (the id and the mapped ones). */
export async function exportLoadedRows(
  client: pg.ClientBase,
  targets: { target: string; columns: string[] }[],
  dir: string,
): Promise<ExportedTable[]> {
  const exported: ExportedTable[] = [];
  for (const { target, columns } of targets) {
    const [schema = '', table = ''] = target.split('.');
    const select = `SELECT ${columns.map(q).join(', ')} FROM ${q(schema)}.${q(table)} ORDER BY id`;
    const copyTextFile = path.join(dir, `${table}.copy`);
    const csvFile = path.join(dir, `${table}.csv`);
    await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT`)), createWriteStream(copyTextFile));
    await pipeline(
      client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv)`)),
      createWriteStream(csvFile),
    );
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${q(schema)}.${q(table)}`,
    );
    exported.push({ table, columns, rows: rows[0]?.n ?? 0, copyTextFile, csvFile });
  }
  return exported;
}

async function createUnindexedCopies(
  client: pg.ClientBase,
  schema: string,
  tables: ExportedTable[],
): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
  await client.query(`CREATE SCHEMA ${q(schema)}`);
  for (const { table } of tables)
    await client.query(`CREATE TABLE ${q(schema)}.${q(table)} (LIKE erp.${q(table)} INCLUDING DEFAULTS)`);
}

/** Seconds to COPY every exported table into its unindexed copy. */
export async function rawCopySeconds(client: pg.ClientBase, tables: ExportedTable[]): Promise<number> {
  await createUnindexedCopies(client, RAW_COPY_SCHEMA, tables);
  const started = performance.now();
  for (const { table, columns, copyTextFile } of tables) {
    await pipeline(
      createReadStream(copyTextFile),
      client.query(
        copyFrom(`COPY ${q(RAW_COPY_SCHEMA)}.${q(table)} (${columns.map(q).join(', ')}) FROM STDIN`),
      ),
    );
  }
  return (performance.now() - started) / 1000;
}

export async function pgloaderVersion(): Promise<string | null> {
  try {
    const { stdout } = await run(process.env.PGLOADER ?? 'pgloader', ['--version']);
    return stdout.split('\n')[0]?.trim() ?? 'pgloader';
  } catch {
    return null;
  }
}

/** pgloader's own "Total import time" (its start-up and catalog reads excluded), in seconds. */
function totalImportSeconds(output: string): number {
  const match = /Total import time\s+\S+\s+(\d+)\s+.*?(\d+(?:\.\d+)?)s\s*$/m.exec(output);
  if (!match) throw new Error(`pgloader printed no "Total import time" line:\n${output}`);
  return Number(match[2]);
}

/**
 * Loads the CSV files with pgloader. The connection string (with its password) goes in a command
 * file only this user can read, never on a command line that `ps` shows.
 */
export async function pgloaderSeconds(
  client: pg.ClientBase,
  databaseUrl: string,
  tables: ExportedTable[],
  workDir: string,
): Promise<number> {
  await createUnindexedCopies(client, PGLOADER_SCHEMA, tables);
  const commandFiles: string[] = [];
  for (const { table, columns, csvFile } of tables) {
    const file = path.join(workDir, `${table}.load`);
    // Postgres writes NULL as an empty unquoted field; the rows hold no empty strings to keep apart.
    await writeFile(
      file,
      `LOAD CSV FROM '${csvFile}' (${columns.map((column) => `${column} [null if blanks]`).join(', ')})
       INTO ${databaseUrl}
       TARGET TABLE ${PGLOADER_SCHEMA}.${table}
       TARGET COLUMNS (${columns.join(', ')})
       WITH fields optionally enclosed by '"', fields escaped by double-quote, fields terminated by ',';\n`,
      { mode: 0o600 },
    );
    commandFiles.push(file);
  }
  const { stdout, stderr } = await run(
    process.env.PGLOADER ?? 'pgloader',
    ['--root-dir', path.join(workDir, 'pgloader'), ...commandFiles],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const outputs = `${stdout}\n${stderr}`;
  const loaded = await client.query<{ n: number }>(
    tables
      .map(({ table }) => `SELECT count(*)::int AS n FROM ${q(PGLOADER_SCHEMA)}.${q(table)}`)
      .join(' UNION ALL '),
  );
  const expected = tables.reduce((sum, table) => sum + table.rows, 0);
  const got = loaded.rows.reduce((sum, row) => sum + row.n, 0);
  if (got !== expected) throw new Error(`pgloader loaded ${got} of ${expected} rows:\n${outputs}`);
  return [...outputs.matchAll(/Total import time[^\n]*/g)].reduce(
    (sum, [line]) => sum + totalImportSeconds(line),
    0,
  );
}
