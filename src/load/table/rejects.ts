/**
 * Rows the database side of the load rejects (a link that does not resolve, a broken CHECK),
 * gathered per row as the transform's rejects are.
 */
import type { Reject, TableContext } from '../../transform/transform.ts';
import type { TableLoad } from '../core/load-plan.ts';
import type { LoadReason, RunReject } from '../core/reasons.ts';
import type { RowSummary } from '../core/reports.ts';
import { refColumn } from './shape.ts';

export interface StagedRowProblem extends RowSummary {
  column: string;
  label: string;
  value: unknown;
  reason: LoadReason;
  /** The staged row as JSON: what did convert, for the row's share of Coda's totals. */
  staged: Record<string, unknown>;
}

/** The converted values and link names of a staged row, as a reject carries them. */
function stagedParts(load: TableLoad, staged: Record<string, unknown>): Pick<Reject, 'values' | 'links'> {
  const values: NonNullable<Reject['values']> = {};
  const links: NonNullable<Reject['links']> = {};
  for (const column of load.columns) {
    const reference = load.references.find((candidate) => candidate.column === column);
    if (reference) {
      const name = (staged[refColumn(column)] as { name?: string } | null)?.name;
      if (name !== undefined) links[column] = name;
    } else {
      const value = staged[column];
      values[column] =
        value === null || value === undefined
          ? null
          : Array.isArray(value) || typeof value === 'boolean'
            ? (value as string[] | boolean)
            : String(value);
    }
  }
  return { values, links };
}

export function problemReject(
  load: TableLoad,
  table: TableContext['table'],
  docId: string,
  problems: StagedRowProblem[],
): RunReject[] {
  const byRow = new Map<string, RunReject>();
  for (const problem of problems) {
    const reject = byRow.get(problem.rowId) ?? {
      ...stagedParts(load, problem.staged),
      source: {
        docId,
        tableId: table.id,
        tableName: table.name,
        rowId: problem.rowId,
        rowName: problem.rowName,
        browserLink: problem.browserLink,
      },
      problems: [],
    };
    reject.problems.push({
      column: problem.column,
      codaColumn: problem.label,
      value: problem.value,
      reason: problem.reason,
    });
    byRow.set(problem.rowId, reject);
  }
  return [...byRow.values()];
}
