/**
 * A list of rows that may be as long as a Coda table (the rows a cutover inserts, or changes):
 * the first rows stay in memory, for the capped lists of the Markdown, HTML and terminal reports;
 * the rest go to a file as they are produced, and are read back, in order, only by what needs
 * all of them (report.json, the differences of a reconcile). A million inserted rows then cost a
 * file on disk, not a gigabyte of memory.
 *
 * The file holds business data (row names, links): it is 0600 in a 0700 folder of the system's
 * temporary folder, removed when the process exits.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** More than any report lists (LIST_LIMIT in src/report is 300). */
export const ROWS_KEPT_IN_MEMORY = 1_000;
/** About 64 k characters per write to the file. */
const WRITE_CHARACTERS = 64 * 1024;

/** What the capped report lists need of a list: arrays and spooled lists alike. */
export interface ListedRows<T> {
  readonly length: number;
  slice(start?: number, end?: number): readonly T[];
}

let spoolDir: string | null = null;

function spoolFile(): string {
  if (!spoolDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'erp-rows-'));
    spoolDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return path.join(spoolDir, `${process.hrtime.bigint()}.ndjson`);
}

export class SpooledList<T> implements AsyncIterable<T>, ListedRows<T> {
  private readonly kept: T[] = [];
  private count = 0;
  private file: string | null = null;
  private fd: number | null = null;
  private pending = '';

  constructor(rows: Iterable<T> = []) {
    for (const row of rows) this.push(row);
  }

  get length(): number {
    return this.count;
  }

  push(row: T): void {
    this.count += 1;
    if (this.kept.length < ROWS_KEPT_IN_MEMORY) {
      this.kept.push(row);
      return;
    }
    if (this.fd === null) {
      this.file = spoolFile();
      this.fd = openSync(this.file, 'wx', 0o600);
    }
    this.pending += `${JSON.stringify(row)}\n`;
    if (this.pending.length >= WRITE_CHARACTERS) this.flush();
  }

  /** Rows from the start, as arrays do; only the rows kept in memory can be sliced. */
  slice(start = 0, end = this.count): T[] {
    if (Math.min(end, this.count) > this.kept.length)
      throw new RangeError(
        `only the first ${ROWS_KEPT_IN_MEMORY} rows of a spooled list can be sliced; iterate it for the rest`,
      );
    return this.kept.slice(start, end);
  }

  /** JSON.stringify of a list that fits in memory; a longer one is written by the streaming report.json. */
  toJSON(): T[] {
    return this.slice();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* this.kept;
    if (!this.file) return;
    this.flush();
    const handle = await open(this.file, 'r');
    try {
      for await (const line of handle.readLines()) if (line) yield JSON.parse(line) as T;
    } finally {
      await handle.close();
    }
  }

  /** Writes what is buffered; the file stays open for more rows. */
  private flush(): void {
    if (this.fd === null || !this.pending) return;
    writeSync(this.fd, this.pending);
    this.pending = '';
  }

  /** Closes the file once no more rows come (the rows stay readable). */
  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
