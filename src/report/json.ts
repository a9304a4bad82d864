/**
 * report.json, written as it is produced: the same text as JSON.stringify(value, null, 2), but
 * in pieces, so a report of hundreds of thousands of rows never has to exist as one string.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RunReport } from '../load/run.ts';
import { splitReport } from './document.ts';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON text of `value`, indented by two spaces, piece by piece. */
function* jsonPieces(value: unknown, depth = 0): Generator<string> {
  const inner = '  '.repeat(depth + 1);
  if (Array.isArray(value)) {
    if (!value.length) return yield '[]';
    yield '[\n';
    for (let index = 0; index < value.length; index += 1) {
      yield inner;
      const item: unknown = value[index];
      yield* item === undefined || typeof item === 'function' ? ['null'] : jsonPieces(item, depth + 1);
      yield index < value.length - 1 ? ',\n' : '\n';
    }
    return yield `${'  '.repeat(depth)}]`;
  }
  if (isPlainObject(value) && typeof value.toJSON !== 'function') {
    const entries = Object.entries(value).filter(
      ([, item]) => item !== undefined && typeof item !== 'function',
    );
    if (!entries.length) return yield '{}';
    yield '{\n';
    for (const [index, [key, item]] of entries.entries()) {
      yield `${inner}${JSON.stringify(key)}: `;
      yield* jsonPieces(item, depth + 1);
      yield index < entries.length - 1 ? ',\n' : '\n';
    }
    return yield `${'  '.repeat(depth)}}`;
  }
  yield JSON.stringify(value);
}

/** The JSON report's content: the header under its own key, the body's fields at the top level. */
function jsonDocument(report: RunReport): Record<string, unknown> {
  const { header, body } = splitReport(report);
  return { header, ...body };
}

/** About 64 k characters per write. */
const WRITE_CHARACTERS = 64 * 1024;

export async function writeJsonReport(file: string, report: RunReport): Promise<void> {
  // Reports quote the doc's rows: readable by the owner alone.
  const out = createWriteStream(file, { mode: 0o600 });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  void failed.catch(() => {});
  let buffer = '';
  for (const piece of jsonPieces(jsonDocument(report))) {
    buffer += piece;
    if (buffer.length < WRITE_CHARACTERS) continue;
    if (!out.write(buffer)) await Promise.race([once(out, 'drain'), failed]);
    buffer = '';
  }
  out.end(`${buffer}\n`);
  await Promise.race([once(out, 'finish'), failed]);
}
