/**
 * Loading one table, inside the caller's transaction:
 *
 *   1. stage: COPY the transformed rows into a temporary table shaped like the target
 *      (chunks.ts transforms them, stage.ts copies them);
 *   2. resolve (stage.ts, people.ts, then links.ts for what did not resolve): linked rows
 *      through the lineage map, people by email then exact name, and each row's own erp row,
 *      all in ONE pass that writes the stage the later steps read (updating the stage once per
 *      link would rewrite every row of it each time);
 *   3. check (checks.ts; conflicts.ts settles rows edited in Postgres): rows that would break
 *      one of the target's CHECK constraints become rejects (evaluated with the constraint's own
 *      expression from the catalog), so one bad row does not abort the whole load;
 *   4. upsert (upsert.ts), keyed by Coda lineage (not by name): rows whose values differ are
 *      updated, new rows are inserted, unchanged rows are not touched (their updated_at stays put);
 *   5. lineage: every loaded row's Coda doc, table, row, link and content hash.
 *
 * Steps 1-5 run a chunk of rows at a time (DEFAULT_CHUNK_ROWS), the next chunk transformed by
 * Node while Postgres works on this one. Then, once for the table: the rows inserted and changed
 * are listed in row-id order, and the rows gone from Coda are found (listing.ts).
 *
 * Every name in the SQL comes from the catalog (see core/load-plan.ts) and is quoted.
 */
import pg from 'pg';
import type { CodaSource } from '../../extract/index.ts';
import type { TableContext } from '../../transform/transform.ts';
import { appendAll } from '../../shared/append.ts';
import { collectGarbage } from '../../shared/collect-garbage.ts';
import { SpooledList } from '../../shared/spooled-list.ts';
import type { LoadContext } from '../core/context.ts';
import type { ReferenceColumn, TableLoad } from '../core/load-plan.ts';
import type { RunReject } from '../core/reasons.ts';
import type { Conflict, GoneRow, TableLoadReport, UnresolvedReference } from '../core/reports.ts';
import { arrivalName, changedRowsName, stagedRowsName, stageName } from '../core/temp-tables.ts';
import { rejectConstraintBreaks } from './checks.ts';
import { transformedAhead, transformedChunks, type TransformedChunk } from './chunks.ts';
import { settleConflicts } from './conflicts.ts';
import { deferKeysOfEmptyTable } from './deferred-keys.ts';
import { settleUnresolved } from './links.ts';
import { findGoneFromCoda, listInserted, listUpdated } from './listing.ts';
import { resolvePeople } from './people.ts';
import { problemReject } from './rejects.ts';
import { isRequired, targetSql, type TableState } from './shape.ts';
import {
  copyIntoArrival,
  createArrival,
  idSequenceOf,
  keepStagedRows,
  resolveIntoStage,
  tabulateLinkedRows,
} from './stage.ts';
import { analyzeArrival, refreshLineageStatistics } from './statistics.ts';
import { countStaged, upsertChunk } from './upsert.ts';
import { findUnchangedRows } from './unchanged-rows.ts';

const { escapeIdentifier: q } = pg;

/** Smaller chunks leave too little garbage to be worth a full collection (see collect-garbage.ts). */
const GARBAGE_COLLECTION_AFTER_ROWS = 10_000;

/** What steps 1–4 made of one chunk. */
interface ChunkOutcome {
  rejects: RunReject[];
  unresolved: UnresolvedReference[];
  conflicts: Conflict[];
  peopleCreated: number;
  /** Staged rows whose erp row already holds their values; inserted and changed rows are listed from the database. */
  unchanged: number;
}

async function loadChunk(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  chunk: TransformedChunk,
  state: TableState,
  firstChunk: boolean,
): Promise<ChunkOutcome> {
  const { lineageHeld } = state;
  await copyIntoArrival(context, load, chunk.copyText);
  await analyzeArrival(context, load, state, firstChunk);

  let peopleCreated = 0;
  const rejectsUnresolved = new Map<ReferenceColumn, boolean>();
  for (const reference of load.references) {
    // A person the mapping says to reject when unknown rejects the row even in an optional column.
    let rejectUnresolved = isRequired(load, reference.column);
    if (reference.kind === 'person') {
      const spec = load.mapping.spec.columns[reference.column];
      const createUnknown =
        spec?.as === 'person' && (spec.unknown ?? load.mapping.spec.people.unknown) === 'create';
      peopleCreated += await resolvePeople(
        context,
        reference,
        chunk.people.get(reference.column) ?? new Set(),
        createUnknown,
      );
      if (!createUnknown) rejectUnresolved = true;
    }
    rejectsUnresolved.set(reference, rejectUnresolved);
  }
  await resolveIntoStage(context, load, table, state);

  const { rejected: stagedProblems, leftEmpty: unresolved } = await settleUnresolved(
    context,
    load,
    table,
    rejectsUnresolved,
  );
  appendAll(stagedProblems, await rejectConstraintBreaks(context, load, table));
  // A row rejected later in the load lists its reasons; what it would have left out does not matter.
  const rejectedIds = new Set(stagedProblems.map((problem) => problem.rowId));
  const leftOut = chunk.leftOut.filter((link) => !rejectedIds.has(link.rowId));
  // A conflict is an erp row a load wrote, since edited or deleted: none without lineage.
  const conflicts = lineageHeld ? await settleConflicts(context, load, table) : [];
  // A table the lineage held nothing of stages only new rows: nothing to count.
  const counts = lineageHeld ? await countStaged(context, load) : null;
  const unchanged = await upsertChunk(context, load, table, counts, state);
  return {
    rejects: [...chunk.rejects, ...problemReject(load, table, context.docId, stagedProblems)],
    unresolved: [...unresolved, ...leftOut],
    conflicts,
    peopleCreated,
    unchanged,
  };
}

export async function loadTable(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  source: CodaSource,
): Promise<TableLoadReport> {
  const unchangedRows = context.skipUnchanged
    ? await findUnchangedRows(
        context.client,
        {
          docId: context.docId,
          codaTableId: table.id,
          target: targetSql(load),
          targetTable: load.target.name,
        },
        source,
        load.mapping,
      )
    : null;
  await context.client.query(
    `CREATE TEMP TABLE ${q(changedRowsName(load))} (row_id text, row_name text, browser_link text, changed text[], before jsonb, after jsonb) ON COMMIT DROP`,
  );
  const deferredKeys = await deferKeysOfEmptyTable(context.client, load.target);
  const lineageHeld = (
    await context.client.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT FROM pipeline.coda_lineage WHERE coda_doc_id = $1 AND coda_table_id = $2) AS held`,
      [context.docId, table.id],
    )
  ).rows[0]!.held;
  // The linked rows and the own rows are read through the lineage: its counts must be current.
  await refreshLineageStatistics(context, 0);
  const state: TableState = {
    lineageHeld,
    idSequence: await idSequenceOf(context, load),
    linkedRowTables: await tabulateLinkedRows(context, load),
  };
  await createArrival(context, load);
  let read = unchangedRows?.count ?? 0;
  let chunks = 0;
  const outcome: ChunkOutcome = {
    rejects: [],
    unresolved: [],
    conflicts: [],
    peopleCreated: 0,
    unchanged: unchangedRows?.count ?? 0,
  };
  for await (const chunk of transformedAhead(
    transformedChunks(context, load, table, source, unchangedRows),
  )) {
    read += chunk.read;
    const loaded = await loadChunk(context, load, table, chunk, state, chunks === 0);
    appendAll(outcome.rejects, loaded.rejects);
    appendAll(outcome.unresolved, loaded.unresolved);
    appendAll(outcome.conflicts, loaded.conflicts);
    outcome.peopleCreated += loaded.peopleCreated;
    outcome.unchanged += loaded.unchanged;
    await keepStagedRows(context, load, chunks === 0);
    chunks += 1;
    // The chunk's rows are garbage now, and the next chunk is ready: collect before building another.
    if (chunk.read >= GARBAGE_COLLECTION_AFTER_ROWS) collectGarbage();
  }
  // A reconcile pass in the same transaction makes its own.
  await context.client.query(
    `DROP TABLE ${[arrivalName(load), ...state.linkedRowTables.values()].map(q).join(', ')}`,
  );
  await deferredKeys?.restore();
  if (!lineageHeld) await context.client.query(`ANALYZE ${targetSql(load)} (id)`);
  await context.client.query(`ALTER TABLE ${q(stagedRowsName(load))} RENAME TO ${q(stageName(load))}`);
  // The key lets "gone from Coda" probe the stage by row id whatever the planner expects of it (a
  // whole first chunk kept brought its own). A table the lineage held nothing of has nothing gone.
  if (lineageHeld && !context.keepStagedValues)
    await context.client.query(`ALTER TABLE ${q(stageName(load))} ADD PRIMARY KEY (_coda_row_id)`);
  if ((lineageHeld && !context.keepStagedValues) || (context.keepStagedValues && chunks > 1))
    await context.client.query(`ANALYZE ${q(stageName(load))} (_coda_row_id, _target_id)`);

  const allRejects = outcome.rejects.sort((a, b) => a.source.rowId.localeCompare(b.source.rowId));
  for (const reject of allRejects)
    context.rejectedRows.set(`${table.id}/${reject.source.rowId}`, {
      row: {
        table: table.name,
        rowId: reject.source.rowId,
        rowName: reject.source.rowName,
        browserLink: reject.source.browserLink,
      },
      reasons: reject.problems.map((problem) => problem.reason),
    });

  return {
    mappingFile: load.mapping.file,
    codaTable: { id: table.id, name: table.name },
    target: load.target.name,
    read,
    inserted: await listInserted(context, load),
    updated: await listUpdated(context, load),
    unchanged: outcome.unchanged,
    rejects: allRejects,
    unresolved: outcome.unresolved.sort(
      (a, b) => a.rowId.localeCompare(b.rowId) || a.column.localeCompare(b.column),
    ),
    goneFromCoda: lineageHeld
      ? await findGoneFromCoda(
          context,
          load,
          table,
          allRejects.map((reject) => reject.source.rowId),
          unchangedRows,
        )
      : new SpooledList<GoneRow>(),
    peopleCreated: outcome.peopleCreated,
    conflicts: outcome.conflicts,
  };
}
