/**
 * Step 1's Node side: the table's rows read from the snapshot, transformed and encoded for COPY,
 * a chunk at a time, the next chunk transformed while Postgres works on this one.
 */
import type { CodaRow, CodaSource } from '../../extract/index.ts';
import {
  transformTable,
  type Reference,
  type Reject,
  type TableContext,
  type TargetRow,
} from '../../transform/transform.ts';
import type { LoadContext } from '../core/context.ts';
import { CopyText } from '../core/copy.ts';
import { encodeCopyField, encodeCopyRow } from '../core/copy-encoding.ts';
import type { TableLoad } from '../core/load-plan.ts';
import type { UnresolvedReference } from '../core/reports.ts';
import { rowReferences, valueColumnsOf } from './shape.ts';
import { sourceFingerprint, sourceHash, type UnchangedRows } from './unchanged-rows.ts';

/** The transformed rows of one chunk, as COPY text, with the rows read and rejected to get them. */
export interface TransformedChunk {
  copyText: string[];
  read: number;
  rejects: Reject[];
  /** The distinct people of each Person column, as the JSON text the arrival holds. */
  people: Map<string, Set<string>>;
  /** Cells of the chunk's rows loaded in part (several people, one kept), as links left out. */
  leftOut: UnresolvedReference[];
}

/**
 * The table's rows, transformed and encoded for COPY, a chunk at a time, except the unchanged rows
 * a plan skips. Always at least one chunk, empty for an empty table, so every table is staged.
 */
export async function* transformedChunks(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  source: CodaSource,
  unchanged: UnchangedRows | null,
): AsyncGenerator<TransformedChunk> {
  const valueColumns = valueColumnsOf(load);
  const types = valueColumns.map((column) => load.target.columns.get(column)?.type ?? 'text');

  // The transform gives one result per row, in order: each row's source hash waits here for it.
  const fingerprint = sourceFingerprint(load.mapping);
  const sourceHashes: string[] = [];
  // A row a plan skips still holds what no mapping loads: it is parsed only when there is such a column.
  const countCells = context.coverage?.rowCounter(table.id) ?? null;
  async function* rowsToTransform(): AsyncGenerator<CodaRow> {
    if (unchanged?.all && !countCells) return;
    let position = 0;
    for await (const entry of source.entries(table.id)) {
      if (unchanged?.has(position++)) {
        countCells?.(entry.row());
        continue;
      }
      sourceHashes.push(sourceHash(fingerprint, entry.text));
      const row = entry.row();
      countCells?.(row);
      yield row;
    }
  }
  const encode = (row: TargetRow, rowSourceHash: string): string => {
    const byColumn = new Map<string, Reference>(
      row.references.map((reference) => [reference.column, reference]),
    );
    return encodeCopyRow([
      encodeCopyField(row.source.rowId, 'text'),
      encodeCopyField(row.source.rowName, 'text'),
      encodeCopyField(row.source.browserLink, 'text'),
      encodeCopyField(row.contentHash, 'text'),
      encodeCopyField(rowSourceHash, 'text'),
      ...valueColumns.map((column, index) =>
        encodeCopyField(row.values[column] ?? null, types[index] ?? 'text'),
      ),
      ...load.references.map((reference) => {
        const ref = byColumn.get(reference.column);
        if (ref?.kind !== 'person') return encodeCopyField(ref?.ref ?? null, 'json');
        const text = JSON.stringify(ref.ref);
        chunk.people.get(reference.column)?.add(text);
        return encodeCopyField(text, 'json');
      }),
      ...rowReferences(load).map((reference) => {
        const linked = byColumn.get(reference.column);
        return encodeCopyField(linked?.kind === 'row' ? linked.ref.rowId : null, 'text');
      }),
    ]);
  };
  const newChunk = (): TransformedChunk => ({
    copyText: [],
    read: 0,
    rejects: [],
    leftOut: [],
    people: new Map(
      load.references
        .filter((reference) => reference.kind === 'person')
        .map((reference) => [reference.column, new Set<string>()]),
    ),
  });
  let chunk = newChunk();
  const text = new CopyText();
  let chunksYielded = 0;
  const transformContext = { mapping: load.mapping, docId: context.docId, table };
  for await (const result of transformTable(transformContext, rowsToTransform())) {
    chunk.read += 1;
    const rowSourceHash = sourceHashes.shift()!;
    if ('reject' in result) chunk.rejects.push(result.reject);
    else {
      text.add(encode(result.row, rowSourceHash));
      const { source: row, notes } = result.row;
      for (const note of notes)
        chunk.leftOut.push({
          rowId: row.rowId,
          rowName: row.rowName,
          browserLink: row.browserLink,
          column: note.column.column,
          label: note.column.label,
          reason: note,
        });
    }
    if (chunk.read >= Math.min(context.chunkRows.largest, context.chunkRows.first * 2 ** chunksYielded)) {
      chunk.copyText = text.take();
      yield chunk;
      chunksYielded += 1;
      chunk = newChunk();
    }
  }
  chunk.copyText = text.take();
  if (chunk.read || !chunksYielded) yield chunk;
}

/** The next chunk is transformed while the caller works on this one (awaiting Postgres). */
export async function* transformedAhead<T>(chunks: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = chunks.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = chunks.next();
      // A failed read of the next chunk is reported when the loop reaches it, not as unhandled.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    // When the load stops early, the chunk under way finishes and the snapshot's files are closed.
    await chunks.return(undefined);
  }
}
