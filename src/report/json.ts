/**
 * report.json, written as it is produced: the same text as JSON.stringify(value, null, 2), but
 * in pieces, so a report of hundreds of thousands of rows never has to exist as one string.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Reason } from '../load/core/reasons.ts';
import type { BusinessTotal, Difference, Reconciliation } from '../load/reconcile/types.ts';
import type { RunReport } from '../load/run.ts';
import { SpooledList } from '../shared/spooled-list.ts';
import { splitReport, type ReportTable } from './document.ts';
import { groupTitle } from './differences.ts';
import { reasonText } from './reasons.ts';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A spooled list met on the way: its rows are read back from their file when it is written. */
interface SpooledPiece {
  list: SpooledList<unknown>;
  depth: number;
}

/** JSON text of `value`, indented by two spaces, piece by piece. */
function* jsonPieces(value: unknown, depth = 0): Generator<string | SpooledPiece> {
  const inner = '  '.repeat(depth + 1);
  if (value instanceof SpooledList) return yield { list: value as SpooledList<unknown>, depth };
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

/** A spooled list's JSON text, a row at a time (a row is small and holds no list). */
async function* spooledPieces({ list, depth }: SpooledPiece): AsyncGenerator<string> {
  if (!list.length) return yield '[]';
  const inner = '  '.repeat(depth + 1);
  yield '[\n';
  let index = 0;
  for await (const row of list) {
    index += 1;
    yield `${inner}${[...jsonPieces(row, depth + 1)].join('')}${index < list.length ? ',\n' : '\n'}`;
  }
  yield `${'  '.repeat(depth)}]`;
}

/** Each reason as its code and data, and as the sentence the other reports show (`text`). */
function withReasonTexts(table: ReportTable) {
  return {
    ...table,
    rejects: table.rejects.map((reject) => ({
      ...reject,
      problems: reject.problems.map((problem) => ({ ...problem, text: reasonText(problem.reason) })),
    })),
    unresolved: table.unresolved.map((link) => ({ ...link, text: reasonText(link.reason) })),
  };
}

/** Reasons with their sentences, each beside its code and data. */
const reasonsWithTexts = (reasons: readonly Reason[]) =>
  reasons.map((reason) => ({ ...reason, text: reasonText(reason) }));

/** A total with its group's words beside its name, and its shares' reasons with their sentences. */
function totalWithTexts(total: BusinessTotal) {
  const shares = <T extends { reasons: readonly Reason[] }>(list: readonly T[]) =>
    list.map((share) => ({ ...share, reasons: reasonsWithTexts(share.reasons) }));
  return {
    ...total,
    group: total.group && { ...total.group, text: groupTitle(total.group) },
    rejected: { ...total.rejected, shares: shares(total.rejected.shares) },
    notConverted: { ...total.notConverted, shares: shares(total.notConverted.shares) },
    notANumber: shares(total.notANumber),
  };
}

function differenceWithTexts(item: Difference) {
  return {
    ...item,
    reasons: reasonsWithTexts(item.reasons),
    ...(item.total ? { total: totalWithTexts(item.total) } : {}),
  };
}

function reconciliationWithTexts(reconciliation: Reconciliation | null) {
  return reconciliation && { ...reconciliation, totals: reconciliation.totals.map(totalWithTexts) };
}

/** The JSON report's content: the header under its own key, the body's fields at the top level. */
function jsonDocument(report: RunReport): Record<string, unknown> {
  const { header, body } = splitReport(report);
  return {
    header,
    ...body,
    tables: body.tables.map(withReasonTexts),
    reconciliation: reconciliationWithTexts(body.reconciliation),
    differences: body.differences.map(differenceWithTexts),
  };
}

/** About 64 k characters per write. */
const WRITE_CHARACTERS = 64 * 1024;

export async function writeJsonReport(file: string, report: RunReport): Promise<void> {
  // Reports quote the doc's rows: readable by the owner alone.
  const out = createWriteStream(file, { mode: 0o600 });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  void failed.catch(() => {});
  let buffer = '';
  const add = async (text: string) => {
    buffer += text;
    if (buffer.length < WRITE_CHARACTERS) return;
    if (!out.write(buffer)) await Promise.race([once(out, 'drain'), failed]);
    buffer = '';
  };
  for (const piece of jsonPieces(jsonDocument(report))) {
    if (typeof piece === 'string') await add(piece);
    else for await (const text of spooledPieces(piece)) await add(text);
  }
  out.end(`${buffer}\n`);
  await Promise.race([once(out, 'finish'), failed]);
}
