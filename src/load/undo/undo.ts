/**
 * `erp undo`: reverts one committed cutover from the row history (migration 007), in ONE
 * transaction. Rows the cutover inserted are deleted, rows it updated get their earlier values
 * back (updated_at included), its lineage rows are removed or restored, and the cutover is marked
 * undone. Agent data, and rows no run touched, are left alone.
 *
 * It refuses, naming the rows, when something since depends on the change: a later cutover, a
 * row edited in Postgres after the cutover, or a row anywhere (agent data, a row added by hand)
 * that points at a row the cutover inserted. `keepChanged` undoes everything else and keeps those
 * rows as they are now (with the rows they point at, and their lineage), so nothing made since
 * is lost. A dry run does all of it and rolls back.
 *
 * Pointing at a row means a foreign key to it, or an agent row naming it by kind and id.
 *
 * The undo is recorded as a run (mode undo) and writes its own row history, which marks what it
 * reverted: a later load compares rows with what the cutovers left that still stands
 * (pipeline.load_writes), so an edit made in Postgres that the undo brought back is still an edit.
 */
import type pg from 'pg';
import type { LoadedMapping } from '../../transform/mapping-spec.ts';
import { codaColumnLabel } from '../../transform/column-labels.ts';
import { recordRowHistoryAs } from '../lifecycle/connection.ts';
import { LoadRefusedError, withRun } from '../lifecycle/with-run.ts';
import {
  collectChanges,
  describeRows,
  markDependedOn,
  markKept,
  markNamedByAgents,
  type DescribedRow,
} from './changes.ts';
import { revert } from './revert.ts';
import type { UndoBlocker, UndoFieldChange, UndoReport, UndoRow, UndoTable } from './types.ts';

export interface UndoOptions {
  databaseUrl: string;
  /** The cutover to undo; the last committed one that is not undone yet when absent. */
  runId?: string;
  dryRun: boolean;
  keepChanged: boolean;
  /** Only for the Coda names of the fields shown; without them fields go by column name. */
  mappings: LoadedMapping[];
}

/** Columns that say when a row changed, not what it holds: left out of the fields shown. */
const TIMESTAMP_COLUMNS = new Set(['created_at', 'updated_at']);

interface CutoverRun {
  id: string;
  coda_doc_id: string;
  source: string;
  started_at: Date;
  mode: string;
  outcome: string;
  undone_by_run_id: string | null;
  /** It changed an erp row (row history), or said it did (its counts, for cutovers before row history). */
  changed: boolean;
}

const RUN_COLUMNS = `r.id::text AS id, r.coda_doc_id, r.source, r.started_at, r.mode, r.outcome, r.undone_by_run_id::text AS undone_by_run_id,
  (EXISTS (SELECT FROM pipeline.row_changes c WHERE c.run_id = r.id AND c.target_table LIKE 'erp.%')
   OR EXISTS (SELECT FROM jsonb_each(r.counts) t(k, v) WHERE coalesce((v ->> 'inserted')::int, 0) + coalesce((v ->> 'updated')::int, 0) > 0)) AS changed`;

/** Committed cutovers not undone yet, latest first: the ones an undo may take back. */
async function standingCutovers(client: pg.ClientBase): Promise<CutoverRun[]> {
  const { rows } = await client.query<CutoverRun>(
    `SELECT ${RUN_COLUMNS} FROM pipeline.runs r
      WHERE r.mode = 'cutover' AND r.outcome = 'committed' AND r.undone_by_run_id IS NULL ORDER BY r.id DESC`,
  );
  return rows;
}

/**
 * The cutover to undo, and the later ones that changed nothing, which it skips (and marks undone
 * with it: they only recorded that the rows were as the undone cutover left them). Without
 * `runId`, the last cutover that changed something; a later one that did stops an earlier undo.
 */
async function findCutover(
  client: pg.ClientBase,
  runId: string | undefined,
): Promise<{ cutover: CutoverRun; skipped: CutoverRun[] }> {
  const standing = await standingCutovers(client);
  let cutover: CutoverRun | undefined;
  if (runId === undefined) {
    cutover = standing.find((run) => run.changed);
    if (!cutover) throw new LoadRefusedError({ code: 'nothing_to_undo', unchanged: standing.length });
  } else {
    if (!/^\d+$/.test(runId)) throw new LoadRefusedError({ code: 'not_a_run_id', given: runId });
    const { rows } = await client.query<CutoverRun>(
      `SELECT ${RUN_COLUMNS} FROM pipeline.runs r WHERE r.id = $1`,
      [runId],
    );
    cutover = rows[0];
    if (!cutover) throw new LoadRefusedError({ code: 'no_such_run', runId });
    if (cutover.mode !== 'cutover' || cutover.outcome !== 'committed')
      throw new LoadRefusedError({
        code: 'not_a_committed_cutover',
        runId: cutover.id,
        mode: cutover.mode,
        outcome: cutover.outcome,
      });
    if (cutover.undone_by_run_id)
      throw new LoadRefusedError({
        code: 'already_undone',
        runId: cutover.id,
        undoneBy: cutover.undone_by_run_id,
      });
  }
  const target = cutover;
  const later = standing.filter((run) => BigInt(run.id) > BigInt(target.id));
  const changing = later.filter((run) => run.changed).reverse();
  if (changing.length)
    throw new LoadRefusedError({
      code: 'later_cutovers',
      runId: target.id,
      later: changing.map((run) => run.id),
    });
  const history = await client.query(`SELECT FROM pipeline.row_changes WHERE run_id = $1 LIMIT 1`, [
    target.id,
  ]);
  if (!history.rowCount && target.changed)
    throw new LoadRefusedError({ code: 'before_row_history', runId: target.id });
  return { cutover: target, skipped: later.reverse() };
}

type Labels = (table: string, column: string) => string;

function codaLabels(mappings: LoadedMapping[]): Labels {
  return (table, column) => {
    const mapping = mappings.find((candidate) => candidate.spec.target === table);
    return mapping ? codaColumnLabel(mapping, column) : column;
  };
}

function fieldChanges(
  table: string,
  from: Record<string, unknown> | null,
  to: Record<string, unknown> | null,
  labelOf: Labels,
): UndoFieldChange[] {
  const columns = [...new Set([...Object.keys(from ?? {}), ...Object.keys(to ?? {})])];
  return columns
    .filter(
      (column) =>
        !TIMESTAMP_COLUMNS.has(column) && JSON.stringify(from?.[column]) !== JSON.stringify(to?.[column]),
    )
    .map((column) => ({
      column,
      label: labelOf(table, column),
      before: from?.[column] ?? null,
      after: to?.[column] ?? null,
    }));
}

function summarise(
  described: DescribedRow[],
  labelOf: Labels,
): { tables: UndoTable[]; blockers: UndoBlocker[] } {
  const byTable = new Map<string, UndoTable>();
  const blockers: UndoBlocker[] = [];
  for (const row of described) {
    const table = byTable.get(row.target_table) ?? { target: row.target_table, removed: [], restored: [] };
    byTable.set(row.target_table, table);
    const shown: UndoRow = { table: row.target_table, name: row.name ?? '', browserLink: row.browser_link };
    if (row.edited || row.dependants.length) {
      blockers.push({
        ...shown,
        reason: row.edited ? 'edited' : 'depended',
        dependants: row.dependants,
        changes: row.edited ? fieldChanges(row.target_table, row.after, row.current, labelOf) : [],
      });
    }
    if (row.kept) continue;
    if (row.inserted) table.removed.push(shown);
    else
      table.restored.push({
        ...shown,
        changes: fieldChanges(row.target_table, row.current, row.before, labelOf),
      });
  }
  return { tables: [...byTable.values()], blockers };
}

function countsOf(tables: UndoTable[]) {
  return Object.fromEntries(
    tables.map((table) => [table.target, { removed: table.removed.length, restored: table.restored.length }]),
  );
}

export function runUndo(options: UndoOptions): Promise<UndoReport> {
  return withRun(options.databaseUrl, 'undo', async (run) => {
    const { client } = run;
    const { cutover, skipped } = await findCutover(client, options.runId);
    const runId = await run.begin(cutover.coda_doc_id, `cutover ${cutover.id}`);
    await client.query('BEGIN');
    let report: UndoReport;
    try {
      await recordRowHistoryAs(client, runId);
      const tables = await collectChanges(client, cutover.id);
      await markDependedOn(client, tables);
      await markNamedByAgents(client);
      if (options.keepChanged) await markKept(client, tables);
      const summary = summarise(await describeRows(client), codaLabels(options.mappings));
      const refused = summary.blockers.length > 0 && !options.keepChanged;
      if (!refused) {
        await revert(client, tables);
        await client.query(`UPDATE pipeline.runs SET undone_by_run_id = $2 WHERE id = ANY ($1::bigint[])`, [
          [cutover.id, ...skipped.map((run) => run.id)],
          runId,
        ]);
      }
      const commit = !refused && !options.dryRun;
      await run.end(commit);
      report = {
        runId,
        mode: 'undo',
        undoneRun: { id: cutover.id, startedAt: cutover.started_at.toISOString(), source: cutover.source },
        skippedRuns: skipped.map((run) => ({ id: run.id, startedAt: run.started_at.toISOString() })),
        doc: { id: cutover.coda_doc_id },
        dryRun: options.dryRun,
        startedAt: run.startedAt,
        finishedAt: new Date().toISOString(),
        outcome: refused ? 'rolled_back' : commit ? 'undone' : 'planned',
        outcomeNote: refused
          ? { code: 'undo_blocked', rows: summary.blockers.length, cutover: cutover.id }
          : null,
        tables: summary.tables,
        codaTables: Object.fromEntries(
          options.mappings.map((mapping) => [mapping.spec.target, mapping.spec.coda.name]),
        ),
        blockers: summary.blockers,
        kept: options.keepChanged && summary.blockers.length > 0,
        abandonedRuns: run.abandonedRuns,
      };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    await run.finish(report.outcome, report.outcomeNote, countsOf(report.tables));
    return report;
  });
}
