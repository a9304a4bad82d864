/**
 * Plans that skip what did not change. Each Coda row is hashed as it was extracted, together with
 * a fingerprint of what turns it into an erp row (its mapping, the conversion version and the
 * tool's version, so every release compares everything once); a
 * committed load records that hash in the lineage (source_hash). A plan first hashes every row
 * of a table, lets Postgres find the rows whose hash is the recorded one and whose erp row still
 * exists, and then neither transforms nor compares them: they are unchanged by construction.
 *
 * What is kept in memory is one bit per row of the table, whatever its size. A reconcile never
 * skips (it compares every row), so edits made directly in Postgres show up there.
 */
import { hash } from 'node:crypto';
import pg from 'pg';
import { splitQualified } from '../../db/identifiers.ts';
import type { CodaSource, SnapshotEntry } from '../../extract/index.ts';
import { CONVERSION_VERSION } from '../../transform/convert.ts';
import type { LoadedMapping } from '../../transform/mapping-spec.ts';
import { readPackageVersion } from '../../shared/version.ts';
import { copyInto, inPieces } from '../core/copy.ts';
import { encodeCopyField, encodeCopyRow } from '../core/copy-encoding.ts';
import { forEachBatch } from '../core/cursor-batches.ts';
import { isLineageOf, lineageWithRows } from '../core/lineage-sql.ts';
import { cursorNames, sourceHashesName, unchangedRowsName } from '../core/temp-tables.ts';

const { escapeIdentifier: q } = pg;

/** What a row's source hash depends on besides the row: its mapping and the converter. */
export function sourceFingerprint(mapping: LoadedMapping): string {
  return hash(
    'sha256',
    `${CONVERSION_VERSION}\n${readPackageVersion()}\n${JSON.stringify(mapping.spec)}`,
    'hex',
  );
}

/**
 * A row's `href` is the API address it was read through, not what it holds: a snapshot read
 * through another address (a proxy, a test server's port) must not make every row "changed".
 * Coda sends it before the values; a value cannot hold the key unescaped, since JSON escapes
 * the quotes of strings inside strings.
 */
const API_ADDRESS = /"href":"(?:[^"\\]|\\.)*",?/;

/** One-shot: a Hash object per row costs about twice as much. The digest is that of the two parts hashed in turn. */
export function sourceHash(fingerprint: string, text: string): string {
  const address = API_ADDRESS.exec(text);
  const held =
    address && address.index < text.indexOf('"values":')
      ? text.slice(0, address.index) + text.slice(address.index + address[0].length)
      : text;
  return hash('sha256', fingerprint + held, 'hex');
}

/** How the extractor stores a row: Coda sends its id first. */
const LEADING_ID = /^\{"id":"([^"\\]*)"/;

/**
 * Only the id, unchecked: a row whose text is the one loaded last time was checked then, and a
 * row that changed is parsed and checked in full when it is staged.
 */
export function rowId(entry: SnapshotEntry): string {
  // Parsing a whole row for its id costs over three times these searches. JSON keeps the last of
  // two "id" keys, and a key can spell "id" with \u escapes: the leading id is the row's only
  // when neither appears after it.
  const leading = LEADING_ID.exec(entry.text);
  if (
    leading &&
    !entry.text.includes('"id"', leading[0].length) &&
    !entry.text.includes('\\u', leading[0].length)
  )
    return leading[1]!;
  try {
    const { id } = JSON.parse(entry.text) as { id?: unknown };
    if (typeof id === 'string') return id;
  } catch {
    // Damaged: the reader's own parse says where.
  }
  return entry.row().id;
}

/** The rows of one table that a plan may skip, by their position in the snapshot. */
export interface UnchangedRows {
  /** The temporary table of their Coda row ids (column row_id), for "gone from Coda". */
  table: string;
  count: number;
  /** Every row of the table: nothing to read again. */
  all: boolean;
  has(position: number): boolean;
}

export async function findUnchangedRows(
  client: pg.ClientBase,
  lineage: { docId: string; codaTableId: string; target: string; targetTable: string },
  source: CodaSource,
  mapping: LoadedMapping,
): Promise<UnchangedRows | null> {
  // Nothing recorded, nothing to skip: reading and hashing every row first would only delay the load.
  const recorded = await client.query<{ recorded: boolean }>(
    `SELECT EXISTS (SELECT FROM pipeline.coda_lineage l WHERE ${isLineageOf()} AND l.source_hash IS NOT NULL) AS recorded`,
    [lineage.docId, lineage.codaTableId, lineage.targetTable],
  );
  if (!recorded.rows[0]?.recorded) return null;
  const named = { target: splitQualified(lineage.targetTable) };
  const hashes = q(sourceHashesName(named));
  const unchanged = unchangedRowsName(named);
  const fingerprint = sourceFingerprint(mapping);
  await client.query(
    `CREATE TEMP TABLE ${hashes} (position integer NOT NULL, row_id text NOT NULL, source_hash text NOT NULL) ON COMMIT DROP`,
  );
  let rows = 0;
  async function* lines() {
    for await (const entry of source.entries(lineage.codaTableId)) {
      yield encodeCopyRow([
        encodeCopyField(String(rows), 'integer'),
        encodeCopyField(rowId(entry), 'text'),
        encodeCopyField(sourceHash(fingerprint, entry.text), 'text'),
      ]);
      rows += 1;
    }
  }
  await copyInto(client, sourceHashesName(named), null, inPieces(lines()));
  // Autovacuum never analyses a temporary table: without this the planner takes it for a few
  // hundred rows whatever it holds.
  await client.query(`ANALYZE ${hashes}`);
  // A row id seen twice is never skipped: the transform reports its second copy.
  await client.query(
    `CREATE TEMP TABLE ${q(unchanged)} ON COMMIT DROP AS
     SELECT h.position, h.row_id
       FROM ${hashes} h JOIN (${lineageWithRows(lineage.target)}) ON l.coda_row_id = h.row_id
      WHERE l.source_hash = h.source_hash
        AND h.row_id NOT IN (SELECT row_id FROM ${hashes} GROUP BY row_id HAVING count(*) > 1)
        -- Edited in Postgres since a cutover last wrote it (its writes that still stand, 015; an
        -- undo's restoring an edit is no load): compared, so the edit shows as a conflict even
        -- when Coda did not change. A row not stamped since the first cutover finished cannot
        -- be: looking up its last write is only needed for the rows changed since (by a later
        -- cutover, an undo or an edit), so a plan's cost follows what changed, not the table's size.
        AND (t.updated_at <= (SELECT min(r.finished_at) FROM pipeline.runs r WHERE r.mode = 'cutover')
             OR NOT EXISTS (
               SELECT FROM (SELECT w.finished_at FROM pipeline.load_writes w
                             WHERE w.target_table = $3 AND w.target_id = t.id ORDER BY w.id DESC LIMIT 1) w
                WHERE t.updated_at > w.finished_at))`,
    [lineage.docId, lineage.codaTableId, lineage.targetTable],
  );
  await client.query(`DROP TABLE ${hashes}`);
  // The key lets "gone from Coda" probe these rows by id whatever the planner expects of them.
  await client.query(`ALTER TABLE ${q(unchanged)} ADD PRIMARY KEY (row_id)`);

  const skip = new Uint8Array(Math.ceil(rows / 8));
  let count = 0;
  await forEachBatch<{ position: number }>(
    client,
    cursorNames.unchangedPositions(named),
    { text: `SELECT position FROM ${q(unchanged)}` },
    (batch) => {
      for (const { position } of batch) skip[position >> 3]! |= 1 << (position & 7);
      count += batch.length;
    },
  );
  return {
    table: unchanged,
    count,
    all: count === rows,
    has: (position) => ((skip[position >> 3] ?? 0) & (1 << (position & 7))) !== 0,
  };
}
