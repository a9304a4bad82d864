/**
 * Links that did not resolve, after step 2: they reject their row, or are left empty and listed.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import type { LoadContext } from '../core/context.ts';
import type { ReferenceColumn, TableLoad } from '../core/load-plan.ts';
import type { LinkReason } from '../core/reasons.ts';
import type { UnresolvedReference } from '../core/reports.ts';
import { stageName } from '../core/temp-tables.ts';
import type { StagedRowProblem } from './rejects.ts';
import { isRequired, labelOf, refColumn, unresolvedIn } from './shape.ts';

const { escapeIdentifier: q } = pg;

/**
 * Links that did not resolve: they reject their row, or stay NULL and are listed. A link to a row
 * rejected earlier in this run rejects its row too, naming the parent and why, unless the mapping
 * says to load such rows without the link (never for a required link). One scan of the stage finds
 * the rows of every link column; a row rejected for one column is not reported for the next.
 */
export async function settleUnresolved(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
  rejectsUnresolved: Map<ReferenceColumn, boolean>,
): Promise<{ rejected: StagedRowProblem[]; leftEmpty: UnresolvedReference[] }> {
  const rejected: StagedRowProblem[] = [];
  const leftEmpty: UnresolvedReference[] = [];
  if (!rejectsUnresolved.size) return { rejected, leftEmpty };
  const stage = q(stageName(load));
  const references = [...rejectsUnresolved.keys()];
  type Ref = { name: string; email?: string | null; rowId?: string };
  const { rows } = await context.client.query<{
    row_id: string;
    row_name: string;
    browser_link: string;
    refs: (Ref | null)[];
    staged: Record<string, unknown>;
  }>(
    `SELECT _coda_row_id AS row_id, _row_name AS row_name, _browser_link AS browser_link, to_jsonb(s) AS staged,
            json_build_array(${references.map((reference) => `CASE WHEN ${unresolvedIn(reference)} THEN ${q(refColumn(reference.column))} END`).join(', ')}) AS refs
       FROM ${stage} s WHERE ${references.map(unresolvedIn).join(' OR ')} ORDER BY _coda_row_id`,
  );
  const rejectedRows = new Set<string>();
  for (const [index, reference] of references.entries()) {
    const label = labelOf(load, table, reference.column);
    const column = { column: reference.column, label };
    const linkRequired = isRequired(load, reference.column);
    const loadWithoutLink = !linkRequired && load.mapping.spec.links.rejected_parent === 'load_without_link';
    for (const row of rows) {
      const ref = row.refs[index];
      if (!ref || rejectedRows.has(row.row_id)) continue;
      const parent =
        reference.kind === 'row'
          ? context.rejectedRows.get(`${reference.codaTable}/${ref.rowId}`)
          : undefined;
      const summary = { rowId: row.row_id, rowName: row.row_name, browserLink: row.browser_link };
      const reason: LinkReason = parent
        ? {
            code: 'parent_rejected',
            column,
            parent: parent.row,
            parentReasons: parent.reasons,
            linkRequired,
            loadedWithoutLink: loadWithoutLink,
          }
        : reference.kind === 'row'
          ? { code: 'link_not_found', column, rowName: ref.name }
          : {
              code: 'person_not_found',
              column,
              person: { name: ref.name, email: ref.email ?? null },
              mappingFile: load.mapping.file,
            };
      if (parent ? !loadWithoutLink : rejectsUnresolved.get(reference)) {
        rejectedRows.add(row.row_id);
        rejected.push({
          ...summary,
          column: reference.column,
          label,
          value: ref,
          reason,
          staged: row.staged,
        });
      } else {
        leftEmpty.push({ ...summary, column: reference.column, label, reason });
      }
    }
  }
  if (rejectedRows.size)
    await context.client.query(`DELETE FROM ${stage} WHERE _coda_row_id = ANY ($1::text[])`, [
      [...rejectedRows],
    ]);
  return { rejected, leftEmpty };
}
