/**
 * Rows into a temporary table by COPY, in text format (copy-encoding.ts). Lines go out in pieces
 * of many rows: a write, and a COPY message, per row costs more than the row.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const { escapeIdentifier: q } = pg;

/** About 64 k characters of COPY text per write. */
const PIECE_CHARACTERS = 64 * 1024;

/** COPY lines gathered into pieces, held until taken (a chunk's rows, transformed ahead of its COPY). */
export class CopyText {
  private readonly pieces: string[] = [];
  private piece = '';

  add(line: string): void {
    this.piece += line;
    if (this.piece.length >= PIECE_CHARACTERS) this.pieces.push(this.takePiece());
  }

  /** The pieces filled so far; a piece under way stays. */
  takeFull(): string[] {
    return this.pieces.splice(0);
  }

  /** Every line added since the last take, in pieces. */
  take(): string[] {
    if (this.piece) this.pieces.push(this.takePiece());
    return this.pieces.splice(0);
  }

  private takePiece(): string {
    const piece = this.piece;
    this.piece = '';
    return piece;
  }
}

/** Lines as they come, in pieces, for a COPY that streams (nothing is held but one piece). */
export async function* inPieces(lines: AsyncIterable<string>): AsyncGenerator<string> {
  const text = new CopyText();
  for await (const line of lines) {
    text.add(line);
    for (const piece of text.takeFull()) yield piece;
  }
  yield* text.take();
}

/** COPY into a temporary table of this session; `columns` in the order of each line's fields, or every column. */
export async function copyInto(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[] | null,
  text: Iterable<string> | AsyncIterable<string>,
): Promise<void> {
  const list = columns ? ` (${columns.map(q).join(', ')})` : '';
  await pipeline(Readable.from(text), client.query(copyFrom(`COPY ${q(table)}${list} FROM STDIN`)));
}
