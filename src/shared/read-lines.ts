/**
 * The lines of a file, read in blocks and split on newline bytes. Node's readline (its events,
 * string decoder and line pattern) cost about as much per snapshot row as parsing the row's JSON.
 * Splitting the bytes is exact for UTF-8: a newline byte is never part of another character. A
 * line may end in \r\n, as readline accepts; the \r is not part of the line.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The next block is read while this one's lines are used: a read takes tens of microseconds. */
const BLOCK_BYTES = 64 * 1024;
/**
 * Lines are given out a few dozen at a time, then the event loop runs. A load transforms rows
 * while Postgres works on the chunk before, and Postgres's replies and the COPY it reads wait for
 * the loop: at 1M tasks, going back to it only once per megabyte made the load 30% slower.
 */
const TURN_BYTES = 16 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Reads into `buffer` from byte `position` of the file; resolves to the bytes read (0 at the end). */
export type ReadAt = (buffer: Buffer, position: number) => Promise<number>;

export async function* readLines(readAt: ReadAt): AsyncGenerator<string> {
  let blocks = [Buffer.allocUnsafe(BLOCK_BYTES), Buffer.allocUnsafe(BLOCK_BYTES)] as const;
  let position = 0;
  let reading = readAt(blocks[0], position);
  // The start of a line that the last block cut off.
  let carried = Buffer.alloc(0);
  for (;;) {
    const bytesRead = await reading;
    if (!bytesRead) break;
    position += bytesRead;
    const [block, spare] = blocks;
    reading = readAt(spare, position);
    // A failed read is thrown when the loop awaits it, not reported as unhandled meanwhile.
    reading.catch(() => {});
    blocks = [spare, block];
    const data = carried.length
      ? Buffer.concat([carried, block.subarray(0, bytesRead)])
      : block.subarray(0, bytesRead);
    let start = 0;
    let turnStart = 0;
    for (let end = data.indexOf(NEWLINE, start); end !== -1; end = data.indexOf(NEWLINE, start)) {
      yield lineText(data, start, end);
      start = end + 1;
      if (start - turnStart >= TURN_BYTES) {
        turnStart = start;
        await nextTurn();
      }
    }
    // Copied: the block is read into again.
    carried = Buffer.from(data.subarray(start));
  }
  if (carried.length) yield lineText(carried, 0, carried.length);
}

function lineText(data: Buffer, start: number, end: number): string {
  return data.toString('utf8', start, end > start && data[end - 1] === CARRIAGE_RETURN ? end - 1 : end);
}
