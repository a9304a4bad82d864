/**
 * Step 3: the target's CHECK constraints, evaluated on the stage so that one bad row is a reject
 * instead of the end of the load.
 */
import pg from 'pg';
import type { TableContext } from '../../transform/transform.ts';
import type { LoadContext } from '../core/context.ts';
import type { TableLoad } from '../core/load-plan.ts';
import { stageName } from '../core/temp-tables.ts';
import type { StagedRowProblem } from './rejects.ts';
import { labelOf } from './shape.ts';

const { escapeIdentifier: q } = pg;

/**
 * Step 3: CHECK constraints evaluated on the stage, with the constraint's own expression, all in
 * one pass; a row is told every rule it breaks.
 */
export async function rejectConstraintBreaks(
  context: LoadContext,
  load: TableLoad,
  table: TableContext['table'],
): Promise<StagedRowProblem[]> {
  const mapped = new Set(load.columns);
  const checks = load.target.checks
    .filter((check) => check.columns.every((column) => mapped.has(column)))
    .map((check) => ({
      check,
      // NULL passes a CHECK: only a rule that is false is broken.
      broken: `(NOT (${check.expression.replace(/^CHECK /, '').replace(/ NOT VALID$/, '')})) IS TRUE`,
    }));
  if (!checks.length) return [];
  // As JSON, dates read as dates (2025-12-01), not as a JavaScript timestamp.
  const { rows } = await context.client.query<{ staged: Record<string, unknown>; broken: boolean[] }>(
    `DELETE FROM ${q(stageName(load))} s WHERE ${checks.map(({ broken }) => broken).join(' OR ')}
     RETURNING to_jsonb(s) AS staged, ARRAY[${checks.map(({ broken }) => broken).join(', ')}] AS broken`,
  );
  const problems: StagedRowProblem[] = [];
  for (const { staged, broken } of rows) {
    for (const [index, { check }] of checks.entries()) {
      if (!broken[index]) continue;
      const cells = check.columns.map((column) => ({
        column: { column, label: labelOf(load, table, column) },
        value: staged[column] ?? null,
      }));
      problems.push({
        rowId: String(staged._coda_row_id),
        rowName: String(staged._row_name ?? ''),
        browserLink: String(staged._browser_link ?? ''),
        column: check.columns.join(', '),
        label: cells.map((cell) => cell.column.label).join(', '),
        value: Object.fromEntries(check.columns.map((column) => [column, staged[column]])),
        reason: { code: 'breaks_rule', cells, rule: { comment: check.comment ?? null, name: check.name } },
        staged,
      });
    }
  }
  return problems;
}
