/**
 * The line reader under the snapshot and the spooled lists splits bytes, not characters: lines
 * that cross its megabyte blocks, characters whose bytes do, and the line endings readline takes.
 */
import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/shared/read-lines.ts';

/** Reads `text` as a file would be read, `chunk` bytes at most per read. */
async function linesOf(text: string | Buffer, chunk = Number.POSITIVE_INFINITY): Promise<string[]> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const lines: string[] = [];
  const readAt = async (buffer: Buffer, position: number) =>
    bytes.copy(buffer, 0, position, Math.min(bytes.length, position + Math.min(buffer.length, chunk)));
  for await (const line of readLines(readAt)) lines.push(line);
  return lines;
}

describe('readLines', () => {
  it('gives each line without its ending, \\n or \\r\\n, empty lines kept', async () => {
    expect(await linesOf('one\ntwo\r\n\nfour\n')).toEqual(['one', 'two', '', 'four']);
  });

  it('gives a last line that has no ending, and nothing for an empty file', async () => {
    expect(await linesOf('one\nlast')).toEqual(['one', 'last']);
    expect(await linesOf('')).toEqual([]);
  });

  it('joins a line and a character cut by the end of a read', async () => {
    // "é" and "€" are two and three bytes: reads of 5 bytes cut through them.
    const text = 'déjà vu\n€ 12,50\r\nnaïve — ok\n';
    expect(await linesOf(text, 5)).toEqual(['déjà vu', '€ 12,50', 'naïve — ok']);
    expect(await linesOf(text, 1)).toEqual(['déjà vu', '€ 12,50', 'naïve — ok']);
  });

  it('reads lines longer than its block, and many lines per block', async () => {
    const long = 'x'.repeat(200 * 1024);
    const short = Array.from({ length: 50_000 }, (_, index) => `{"row":${index}}`);
    const lines = await linesOf(`${short.join('\n')}\n${long}\n${short.join('\n')}`);
    expect(lines).toHaveLength(100_001);
    expect(lines[50_000]).toBe(long);
    expect(lines.slice(0, 3)).toEqual(short.slice(0, 3));
    expect(lines.at(-1)).toBe(short.at(-1));
  });

  it('throws a failed read where the lines stop, after the lines read before it', async () => {
    const block = Buffer.from(`${'a'.repeat(100)}\n`.repeat(1000));
    const readAt = (buffer: Buffer, position: number) =>
      position > 0
        ? Promise.reject(new Error('disk gone'))
        : Promise.resolve(block.copy(buffer, 0, 0, Math.min(buffer.length, block.length)));
    const lines: string[] = [];
    await expect(async () => {
      for await (const line of readLines(readAt)) lines.push(line);
    }).rejects.toThrow('disk gone');
    expect(lines).toHaveLength(Math.floor(Math.min(64 * 1024, block.length) / 101));
  });
});
