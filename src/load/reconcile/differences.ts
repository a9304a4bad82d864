/**
 * Everything that keeps Postgres from being exactly Coda, in one list that a cutover and a
 * reconcile both decide from, and what committed cutovers accepted of it.
 */
import type pg from 'pg';
import { visible } from '../../shared/visible.ts';
import { leftBehindKey, type LeftBehind } from '../../transform/coverage.ts';
import { jsonbText } from '../core/jsonb-text.ts';
import type { Reason } from '../core/reasons.ts';
import type { RowSummary, TableLoadReport } from '../core/reports.ts';
import { keptOf } from '../table/conflicts.ts';
import type {
  AcceptableKind,
  AcceptedDifference,
  Difference,
  DifferenceKind,
  LeftBehindKind,
  Reconciliation,
} from './types.ts';

export async function readAcceptedDifferences(
  client: pg.ClientBase,
  docId: string,
): Promise<AcceptedDifference[]> {
  const { rows } = await client.query<{
    run_id: string;
    target_table: string;
    row_key: string;
    kind: AcceptableKind;
  }>(
    `SELECT DISTINCT ON (target_table, row_key, kind) run_id::text, target_table, row_key, kind
       FROM pipeline.accepted_differences WHERE coda_doc_id = $1
      ORDER BY target_table, row_key, kind, run_id`,
    [docId],
  );
  return rows.map((row) => ({
    runId: row.run_id,
    target: row.target_table,
    rowKey: row.row_key,
    kind: row.kind,
  }));
}

/**
 * Everything a reconciliation found, in one list: rows missing or differing, rows rejected, links
 * left empty, rows only Postgres has, totals that do not bridge. A cutover and a reconcile decide
 * from this same list, so they agree.
 */
export async function classifyDifferences(
  tables: TableLoadReport[],
  reconciliation: Reconciliation,
): Promise<Difference[]> {
  const accepted = new Map(
    reconciliation.accepted.map((item) => [`${item.target}|${item.rowKey}|${item.kind}`, item.runId]),
  );
  const found: Difference[] = [];
  const add = (kind: DifferenceKind, target: string, rowKey: string, row: RowSummary, reasons: Reason[]) =>
    found.push({
      kind,
      target,
      rowKey,
      row,
      reasons,
      acceptedByRun: accepted.get(`${target}|${rowKey}|${kind}`) ?? null,
    });
  const summary = ({ rowId, rowName, browserLink }: RowSummary): RowSummary => ({
    rowId,
    rowName,
    browserLink,
  });
  for (const table of tables) {
    for await (const row of table.inserted) add('missing', table.target, row.rowId, summary(row), []);
    for await (const row of table.updated) add('differs', table.target, row.rowId, summary(row), []);
    for (const reject of table.rejects)
      add(
        'rejected',
        table.target,
        reject.source.rowId,
        summary(reject.source),
        reject.problems.map((problem) => problem.reason),
      );
    for (const link of table.unresolved)
      add('link_left_empty', table.target, link.rowId, summary(link), [link.reason]);
    for await (const row of table.goneFromCoda) add('extra', table.target, row.rowId, summary(row), []);
    // Kept as the owner chose, by this cutover or by the earlier one whose choice still holds.
    for (const conflict of table.conflicts.filter((entry) => entry.winner === 'postgres'))
      found.push({
        kind: 'kept_in_postgres',
        target: table.target,
        rowKey: conflict.rowId,
        row: summary(conflict),
        reasons: [],
        acceptedByRun: conflict.keptByRun,
        conflict,
      });
  }
  for (const table of reconciliation.tables)
    for (const row of table.notFromCoda)
      add(
        'extra',
        table.target,
        `id:${row.targetId}`,
        { rowId: '', rowName: row.label, browserLink: '' },
        [],
      );
  for (const total of reconciliation.totals)
    if (total.unexplained !== '0')
      found.push({
        kind: 'total',
        target: total.target,
        rowKey: `${total.label}|${total.group?.name ?? ''}`,
        row: { rowId: '', rowName: '', browserLink: '' },
        reasons: [],
        acceptedByRun: null,
        total,
      });
  return found;
}

/**
 * What a committing cutover accepts: rejects within --max-rejects, links left empty, rows only
 * Postgres has, what it kept of edits made in Postgres, and (only when told to, see ../run.ts) Coda
 * data that no mapping loads.
 */
export function isAcceptable(kind: DifferenceKind): kind is AcceptableKind {
  return (
    kind === 'rejected' ||
    kind === 'link_left_empty' ||
    kind === 'extra' ||
    kind === 'kept_in_postgres' ||
    isLeftBehind(kind)
  );
}

export function isLeftBehind(kind: DifferenceKind): kind is LeftBehindKind {
  return kind === 'column_left_behind' || kind === 'table_left_behind';
}

/** Coda data no mapping loads, as differences, each with the cutover that accepted it if one did. */
export function leftBehindDifferences(
  items: readonly LeftBehind[],
  accepted: readonly AcceptedDifference[],
): Difference[] {
  const acceptedBy = new Map(accepted.map((item) => [`${item.kind}|${item.rowKey}`, item.runId]));
  return items.map((item) => {
    const kind = item.kind === 'column' ? 'column_left_behind' : 'table_left_behind';
    const rowKey = leftBehindKey(item);
    return {
      kind,
      target: item.kind === 'column' ? item.target : '',
      rowKey,
      row: {
        rowId: '',
        rowName: item.kind === 'column' ? item.column.label : item.table.name,
        browserLink: item.table.browserLink,
      },
      reasons: [],
      acceptedByRun: acceptedBy.get(`${kind}|${rowKey}`) ?? null,
      leftBehind: item,
    };
  });
}

/** Recorded inside the cutover's transaction, so they exist exactly when the cutover committed. */
export async function recordAcceptedDifferences(
  client: pg.ClientBase,
  runId: string,
  docId: string,
  found: Difference[],
): Promise<void> {
  const fresh = found.filter((item) => isAcceptable(item.kind) && item.acceptedByRun === null);
  if (!fresh.length) return;
  const column = <T>(pick: (item: Difference) => T) => fresh.map(pick);
  await client.query(
    `INSERT INTO pipeline.accepted_differences (run_id, coda_doc_id, target_table, row_key, kind, row_name, browser_link, reason, kept)
     SELECT $1, $2, d.target_table, d.row_key, d.kind, d.row_name, nullif(d.browser_link, ''), d.reason, d.kept::jsonb
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
            AS d(target_table, row_key, kind, row_name, browser_link, reason, kept)
     ON CONFLICT DO NOTHING`,
    [
      runId,
      docId,
      column((item) => item.target),
      column((item) => item.rowKey),
      column((item) => item.kind),
      // Text columns cannot hold U+0000: a name shows it as the visible symbol.
      column((item) => visible(item.row.rowName)),
      column((item) => item.row.browserLink),
      // The reasons as codes and data (src/report/reasons.ts words them); the other kinds are their own reason.
      column((item) => jsonbText(item.reasons)),
      // The kept values are only compared with later ones read alike.
      column((item) => (item.conflict ? jsonbText(keptOf(item.conflict)) : null)),
    ],
  );
}
