/**
 * A list of rows that may be as long as a Coda table (the rows a cutover inserts, or changes):
 * the first rows stay in memory, for the capped lists of the Markdown, HTML and terminal reports;
 * the rest go to a file as they are produced, and are read back, in order, only by what needs
 * all of them (report.json, the differences of a reconcile). A million inserted rows then cost a
 * file on disk, not a gigabyte of memory.
 *
 * The file holds business data (row names, links): it is created 0600 in the system's temporary
 * folder and unlinked at once, so no other process can open it and nothing is left behind, even
 * when the process is killed. It is read and written through its descriptor, closed once the list
 * is garbage.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, read, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLines } from './read-lines.ts';

/** More than any report lists (LIST_LIMIT in src/report is 300). */
export const ROWS_KEPT_IN_MEMORY = 1_000;
/** About 64 k characters per write to the file. */
const WRITE_CHARACTERS = 64 * 1024;

/** What the capped report lists need of a list: arrays and spooled lists alike. */
export interface ListedRows<T> {
  readonly length: number;
  slice(start?: number, end?: number): readonly T[];
}

const closeWhenCollected = new FinalizationRegistry<number>((fd) => closeSync(fd));

function openUnlinkedFile(): number {
  const file = path.join(os.tmpdir(), `erp-rows-${randomUUID()}.ndjson`);
  const fd = openSync(file, 'wx+', 0o600);
  unlinkSync(file);
  return fd;
}

export class SpooledList<T> implements AsyncIterable<T>, ListedRows<T> {
  private readonly kept: T[] = [];
  private count = 0;
  private fd: number | null = null;
  private written = 0;
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
      this.fd = openUnlinkedFile();
      closeWhenCollected.register(this, this.fd);
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
    if (this.fd === null) return;
    this.flush();
    if (!this.written) return;
    const { fd, written } = this;
    const readAt = (buffer: Buffer, position: number) =>
      new Promise<number>((resolve, reject) =>
        read(fd, buffer, 0, Math.min(buffer.length, written - position), position, (error, bytesRead) =>
          error ? reject(error) : resolve(bytesRead),
        ),
      );
    for await (const line of readLines(readAt)) if (line) yield JSON.parse(line) as T;
  }

  /** Writes out what is buffered; more rows may still come. */
  private flush(): void {
    if (this.fd === null || !this.pending) return;
    this.written += writeSync(this.fd, this.pending, this.written);
    this.pending = '';
  }
}
