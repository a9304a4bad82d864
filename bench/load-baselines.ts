/**
 * The baselines of the load figure, fed the very rows the pipeline loaded (read back from the erp
 * tables after the cutover, so the values and their text encoding are the same):
 *
 * - raw COPY into an unindexed copy of each table (`LIKE … INCLUDING DEFAULTS`: columns, NOT NULL
 *   and defaults only), the floor of what any loader can do in Postgres;
 * - pgloader loading the same rows from CSV, when it is installed, twice: into another such
 *   unindexed copy, and into tables of the same definition as the erp ones (`LIKE … INCLUDING ALL`:
 *   indexes, CHECKs, defaults, identity, generated columns; plus the erp table's foreign keys,
 *   pointing at the erp tables the cutover filled). The second is what a user replacing our loader
 *   with pgloader would get, so it is the one the load is judged against.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const run = promisify(execFile);
const { escapeIdentifier: q } = pg;

const RAW_COPY_SCHEMA = 'bench_raw_copy';
const PGLOADER_SCHEMAS = {
  unindexed: 'bench_pgloader',
  'same tables': 'bench_pgloader_same_tables',
} as const;

/** Where pgloader loads: unindexed copies of the erp tables, or tables of their same definition. */
export type PgloaderTables = keyof typeof PGLOADER_SCHEMAS;

export interface ExportedTable {
  /** The erp table's schema ("erp") and name, apart. */
  schema: string;
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
    exported.push({ schema, table, columns, rows: rows[0]?.n ?? 0, copyTextFile, csvFile });
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
  for (const table of tables)
    await client.query(
      `CREATE TABLE ${q(schema)}.${q(table.table)} (LIKE ${q(table.schema)}.${q(table.table)} INCLUDING DEFAULTS)`,
    );
}

/**
 * Copies with the erp tables' whole definition: `LIKE … INCLUDING ALL` brings indexes, CHECKs,
 * defaults, identity and generated columns, but no foreign key, so each one is added as
 * `pg_get_constraintdef` prints it. With an empty search_path it names every table with its schema,
 * so the keys point at the erp tables, as the originals do.
 */
export async function createSameDefinitionCopies(
  client: pg.ClientBase,
  schema: string,
  tables: Pick<ExportedTable, 'schema' | 'table'>[],
): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
  await client.query(`CREATE SCHEMA ${q(schema)}`);
  await client.query('BEGIN');
  try {
    await client.query("SELECT set_config('search_path', '', true)");
    for (const table of tables) {
      const copy = `${q(schema)}.${q(table.table)}`;
      await client.query(`CREATE TABLE ${copy} (LIKE ${q(table.schema)}.${q(table.table)} INCLUDING ALL)`);
      const { rows: keys } = await client.query<{ name: string; definition: string }>(
        `SELECT con.conname AS name, pg_get_constraintdef(con.oid) AS definition
           FROM pg_constraint con
           JOIN pg_class rel ON rel.oid = con.conrelid
           JOIN pg_namespace nsp ON nsp.oid = rel.relnamespace
          WHERE nsp.nspname = $1 AND rel.relname = $2 AND con.contype = 'f'
          ORDER BY con.conname`,
        [table.schema, table.table],
      );
      for (const key of keys)
        await client.query(`ALTER TABLE ${copy} ADD CONSTRAINT ${q(key.name)} ${key.definition}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
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

/** pgloader's command language takes the names as they are: only plain lower-case ones go in. */
function plainName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`${JSON.stringify(name)} is not a plain lower-case name for a pgloader command file`);
  return name;
}

/**
 * Loads the CSV files with pgloader into `into` copies of the tables. The connection string (with
 * its password) goes in a command file only this user can read, never on a command line that
 * `ps` shows.
 */
export async function pgloaderSeconds(
  client: pg.ClientBase,
  databaseUrl: string,
  tables: ExportedTable[],
  workDir: string,
  into: PgloaderTables,
): Promise<number> {
  const schema = PGLOADER_SCHEMAS[into];
  if (into === 'same tables') await createSameDefinitionCopies(client, schema, tables);
  else await createUnindexedCopies(client, schema, tables);
  const loadDir = path.join(workDir, schema);
  await mkdir(loadDir, { recursive: true });
  const commandFiles: string[] = [];
  for (const { table, columns: allColumns, csvFile } of tables) {
    const columns = allColumns.map(plainName);
    const file = path.join(loadDir, `${plainName(table)}.load`);
    // Postgres writes NULL as an empty unquoted field; the rows hold no empty strings to keep apart.
    await writeFile(
      file,
      `LOAD CSV FROM '${csvFile}' (${columns.map((column) => `${column} [null if blanks]`).join(', ')})
       INTO ${databaseUrl}
       TARGET TABLE ${schema}.${table}
       TARGET COLUMNS (${columns.join(', ')})
       WITH fields optionally enclosed by '"', fields escaped by double-quote, fields terminated by ',';\n`,
      { mode: 0o600 },
    );
    commandFiles.push(file);
  }
  const { stdout, stderr } = await run(
    process.env.PGLOADER ?? 'pgloader',
    ['--root-dir', path.join(loadDir, 'pgloader'), ...commandFiles],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const outputs = `${stdout}\n${stderr}`;
  const loaded = await client.query<{ n: number }>(
    tables.map(({ table }) => `SELECT count(*)::int AS n FROM ${q(schema)}.${q(table)}`).join(' UNION ALL '),
  );
  // Its foreign keys would add checks to every later write of the erp tables (the plans measured next).
  if (into === 'same tables') await client.query(`DROP SCHEMA ${q(schema)} CASCADE`);
  const expected = tables.reduce((sum, table) => sum + table.rows, 0);
  const got = loaded.rows.reduce((sum, row) => sum + row.n, 0);
  if (got !== expected) throw new Error(`pgloader loaded ${got} of ${expected} rows:\n${outputs}`);
  return [...outputs.matchAll(/Total import time[^\n]*/g)].reduce(
    (sum, [line]) => sum + totalImportSeconds(line),
    0,
  );
}
