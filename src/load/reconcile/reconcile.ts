/**
 * Reconciliation: does Postgres hold what Coda holds?
 *
 * It runs the load pipeline itself over the current Postgres contents, inside a savepoint that is
 * always rolled back, so it shares every line of conversion, link resolution and comparison with
 * the load: a row the pipeline would insert is missing from Postgres, one it would update
 * differs, one it would leave alone matches. Rows of the target table that no current Coda row
 * produced are extra.
 *
 * Business totals are Coda's own: every number Coda shows in the column counts, whatever the load
 * does with its row (a rejected −2 is −2 on the Coda side), read by the code that reads it for
 * the load; text in a number column (`3,5`) is a number on neither side and is listed as such.
 * A total bridges from Coda to Postgres the way an accountant walks it: Coda, minus each rejected
 * row's share, minus the numbers the load could not take, plus the rows Postgres holds that this
 * read did not load, equals Postgres plus what is unexplained.
 *
 * `erp reconcile` runs it on its own; a cutover runs it over what it has just loaded. Both sort
 * what they find with `classifyDifferences`, so they give one verdict. This module returns data;
 * src/report words it.
 */
import pg from 'pg';
import type { Snapshot, SnapshotTable } from '../../extract/index.ts';
import { appendAll } from '../../shared/append.ts';
import { freshLineageStatistics, type LoadContext } from '../core/context.ts';
import type { TableLoad } from '../core/load-plan.ts';
import { rowNameSql } from '../core/row-names.ts';
import { RECONCILE_BEFORE, stageName } from '../core/temp-tables.ts';
import { loadTable } from '../table/load-table.ts';
import { targetSql } from '../table/shape.ts';
import { readAcceptedDifferences } from './differences.ts';
import { bridgeMeasure, measuresOf } from './totals.ts';
import type { Reconciliation, TableReconciliation, TimedTableReport } from './types.ts';

const { escapeIdentifier: q } = pg;

async function notFromCoda(
  client: pg.ClientBase,
  load: TableLoad,
  docId: string,
): Promise<TableReconciliation['notFromCoda']> {
  // The first mapped column is the one that names the row in its mapping.
  const { rows } = await client.query<{ target_id: string; label: string | null }>(
    `SELECT t.id::text AS target_id, ${rowNameSql('to_jsonb(t)', '$1')} AS label FROM ${targetSql(load)} t
      WHERE NOT EXISTS (SELECT 1 FROM pipeline.coda_lineage l
                         WHERE l.target_table = $2 AND l.target_id = t.id AND l.coda_doc_id = $3)
      ORDER BY t.id`,
    [load.columns[0], load.target.name, docId],
  );
  return rows.map((row) => ({ targetId: row.target_id, label: row.label ?? '' }));
}

/**
 * Compares every load's Coda table with its target table, in load order (parents first, so a
 * child's links resolve as a load would resolve them). Runs inside the caller's transaction and
 * leaves it as it found it.
 */
export async function reconcileWithinTransaction(
  context: LoadContext,
  loads: TableLoad[],
  tablesById: Map<string, SnapshotTable>,
  source: Snapshot,
): Promise<{ reconciliation: Reconciliation; tables: TimedTableReport[] }> {
  const { client } = context;
  const reconciliation: Reconciliation = {
    tables: [],
    totals: [],
    accepted: await readAcceptedDifferences(client, context.docId),
  };
  const tables: TimedTableReport[] = [];
  // The pass sees the rows rejected in the pass, parents first, as a load does.
  const passContext: LoadContext = {
    ...context,
    committing: false,
    skipUnchanged: false,
    keepStagedValues: true,
    lineageStatistics: freshLineageStatistics(),
    rejectedRows: new Map(),
  };
  const before = q(RECONCILE_BEFORE);
  await client.query('SAVEPOINT reconcile');
  try {
    for (const load of loads) {
      const started = performance.now();
      const table = tablesById.get(load.mapping.spec.coda.table)!;
      // Postgres as it was before the pass touched it.
      await client.query(`CREATE TEMP TABLE ${before} AS SELECT * FROM ${targetSql(load)}`);
      const postgresRows = Number(
        (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${before}`)).rows[0]?.n ?? 0,
      );
      const unexplained = await notFromCoda(client, load, context.docId);
      // A cutover's own load left this stage behind; the pass stages afresh.
      await client.query(`DROP TABLE IF EXISTS pg_temp.${q(stageName(load))}`);
      // Always rolled back to the savepoint: nothing of the pass is kept.
      const pass = await loadTable(passContext, load, table, source);
      for (const measure of measuresOf(load))
        appendAll(
          reconciliation.totals,
          await bridgeMeasure(client, load, measure, table, before, pass.rejects),
        );
      await client.query(`DROP TABLE ${before}`);
      tables.push({ ...pass, seconds: (performance.now() - started) / 1000 });
      reconciliation.tables.push({
        target: pass.target,
        codaTable: pass.codaTable,
        codaRows: pass.read,
        postgresRows,
        matched: pass.unchanged,
        rejected: pass.rejects.length,
        missing: pass.inserted.length,
        differ: pass.updated.length,
        extra: pass.goneFromCoda.length + unexplained.length,
        unresolved: pass.unresolved.length,
        notFromCoda: unexplained,
      });
    }
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT reconcile');
  }
  return { reconciliation, tables };
}
