/**
 * The pure pieces of a load, without Postgres: COPY text (escaping, a round trip, pieces), cursor
 * batches against a stand-in client, and the chunk read ahead while the current one is loaded.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CopyText, inPieces } from '../../src/load/core/copy.ts';
import { encodeCopyField, encodeCopyRow } from '../../src/load/core/copy-encoding.ts';
import { forEachBatch } from '../../src/load/core/cursor-batches.ts';
import { transformedAhead } from '../../src/load/table/chunks.ts';

describe('COPY text', () => {
  it('escapes what COPY reads specially, writes NULL as \\N, and lists for their column type', () => {
    expect(encodeCopyField(null, 'text')).toBe('\\N');
    expect(encodeCopyField('\\N', 'text')).toBe('\\\\N');
    expect(encodeCopyField('a\tb\nc\rd\\e', 'text')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(encodeCopyField('Zürich ✓', 'text')).toBe('Zürich ✓');
    expect(encodeCopyField(true, 'boolean')).toBe('t');
    expect(encodeCopyField(false, 'boolean')).toBe('f');
    // The array literal escapes the quote with a backslash, which COPY's text format escapes again.
    expect(encodeCopyField(['a,b', 'NULL', 'say "hi"'], 'text[]')).toBe('{"a,b","NULL","say \\\\"hi\\\\""}');
    expect(encodeCopyField(['a', 'b'], 'jsonb')).toBe('["a","b"]');
    expect(encodeCopyRow(['1', '\\N'])).toBe('1\t\\N\n');
    expect(() => encodeCopyField('a\u0000b', 'text')).toThrow(/NUL/);
  });

  it('reads back as the values it was given, whatever characters they hold', () => {
    /** COPY's text format as Postgres reads it: fields split on tabs, \\N a NULL, escapes undone. */
    const decode = (line: string): (string | null)[] =>
      line
        .replace(/\n$/, '')
        .split('\t')
        .map((field) =>
          field === '\\N'
            ? null
            : field.replace(
                /\\(.)/g,
                (_, escaped: string) => ({ n: '\n', r: '\r', t: '\t' })[escaped] ?? escaped,
              ),
        );
    const pieces = [
      'a',
      '\\',
      '\n',
      '\r',
      '\t',
      '\\N',
      'N',
      '"',
      ',',
      '{',
      '}',
      'é',
      '名',
      '🚀',
      '\u2028',
      ' ',
      '',
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    for (let round = 0; round < 500; round += 1) {
      const values = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
        next() < 0.1
          ? null
          : Array.from(
              { length: Math.floor(next() * 8) },
              () => pieces[Math.floor(next() * pieces.length)],
            ).join(''),
      );
      const line = encodeCopyRow(values.map((value) => encodeCopyField(value, 'text')));
      // One line per row: no raw newline or tab inside a field.
      expect(line.indexOf('\n'), JSON.stringify(values)).toBe(line.length - 1);
      expect(decode(line), JSON.stringify(values)).toEqual(values);
    }
  });

  it('gathers lines into pieces of about 64 k characters, in order, none lost', async () => {
    const lines = Array.from({ length: 3_000 }, (_, index) => `${index}\t${'x'.repeat(40)}\n`);
    const text = new CopyText();
    for (const line of lines.slice(0, 2_000)) text.add(line);
    const full = text.takeFull();
    expect(full.length).toBeGreaterThan(0);
    for (const piece of full) expect(piece.length).toBeGreaterThanOrEqual(64 * 1024);
    for (const line of lines.slice(2_000)) text.add(line);
    expect([...full, ...text.take()].join('')).toBe(lines.join(''));
    expect(text.take()).toEqual([]);

    async function* stream() {
      yield* lines;
    }
    const pieces: string[] = [];
    for await (const piece of inPieces(stream())) pieces.push(piece);
    expect(pieces.join('')).toBe(lines.join(''));
    expect(pieces.slice(0, -1).every((piece) => piece.length >= 64 * 1024)).toBe(true);
  });
});

describe('cursor batches', () => {
  it('reads a cursor to its end a batch at a time, then closes it', async () => {
    const statements: string[] = [];
    const remaining = [5_000, 5_000, 3];
    const client = {
      query: (text: string) => {
        statements.push(text.replace(/\s+/g, ' '));
        const size = text.startsWith('FETCH') ? (remaining.shift() ?? 0) : 0;
        return Promise.resolve({ rows: Array.from({ length: size }, (_, index) => ({ index })) });
      },
    } as unknown as pg.ClientBase;
    const batches: number[] = [];
    await forEachBatch(client, 'my cursor', { text: 'SELECT 1' }, (rows) => {
      batches.push(rows.length);
    });
    expect(batches).toEqual([5_000, 5_000, 3]);
    expect(statements).toEqual([
      'DECLARE "my cursor" NO SCROLL CURSOR FOR SELECT 1',
      'FETCH 5000 FROM "my cursor"',
      'FETCH 5000 FROM "my cursor"',
      'FETCH 5000 FROM "my cursor"',
      'CLOSE "my cursor"',
    ]);
  });
  it('fetches once more after a full last batch, finds it empty, and hands on no empty batch', async () => {
    const statements: { text: string; values?: unknown[] }[] = [];
    const remaining = [5_000, 5_000];
    const client = {
      query: (text: string, values?: unknown[]) => {
        statements.push({ text: text.replace(/\s+/g, ' '), values });
        const size = text.startsWith('FETCH') ? (remaining.shift() ?? 0) : 0;
        return Promise.resolve({ rows: Array.from({ length: size }, (_, index) => ({ index })) });
      },
    } as unknown as pg.ClientBase;
    const batches: number[] = [];
    await forEachBatch(client, 'rows', { text: 'SELECT * FROM t WHERE run = $1', values: [42] }, (rows) => {
      batches.push(rows.length);
    });
    expect(batches).toEqual([5_000, 5_000]);
    expect(statements.map((statement) => statement.text)).toEqual([
      'DECLARE "rows" NO SCROLL CURSOR FOR SELECT * FROM t WHERE run = $1',
      'FETCH 5000 FROM "rows"',
      'FETCH 5000 FROM "rows"',
      'FETCH 5000 FROM "rows"',
      'CLOSE "rows"',
    ]);
    expect(statements[0]?.values).toEqual([42]);
  });

  it('stops at the first batch its handler refuses, leaving the cursor to the transaction', async () => {
    const fetched: string[] = [];
    const client = {
      query: (text: string) => {
        fetched.push(text.split(' ')[0]!);
        return Promise.resolve({
          rows: text.startsWith('FETCH') ? Array.from({ length: 5_000 }, () => ({})) : [],
        });
      },
    } as unknown as pg.ClientBase;
    await expect(
      forEachBatch(client, 'c', { text: 'SELECT 1' }, () => Promise.reject(new Error('row 3 is bad'))),
    ).rejects.toThrow('row 3 is bad');
    expect(fetched).toEqual(['DECLARE', 'FETCH']);
  });
});

describe('chunks read ahead', () => {
  it('asks for the next chunk before the current one is handled, and closes the source when stopped early', async () => {
    const events: string[] = [];
    async function* chunks() {
      try {
        for await (const chunk of [1, 2, 3]) {
          events.push(`read ${chunk}`);
          yield chunk;
        }
      } finally {
        events.push('closed');
      }
    }
    for await (const chunk of transformedAhead(chunks())) {
      events.push(`load ${chunk}`);
      if (chunk === 2) break;
    }
    expect(events).toEqual(['read 1', 'read 2', 'load 1', 'read 3', 'load 2', 'closed']);
  });
});
