/**
 * What a reconciliation finds, as data (src/report words it): per table, the business totals
 * bridged from Coda to Postgres, and every difference with the cutover that accepted it.
 */
import type { LeftBehind } from '../../transform/coverage.ts';
import type { Reason, RejectReason } from '../core/reasons.ts';
import type { Conflict, RowSummary, TableLoadReport } from '../core/reports.ts';

/** A rejected row's part of a Coda total. */
export interface RejectedShare extends RowSummary {
  share: string;
  reasons: RejectReason[];
}

/** A rejected row whose own cell for the total did not convert, though it holds a number (an amount in another currency). */
export interface UnconvertedShare extends RowSummary {
  value: unknown;
  share: string;
  reasons: RejectReason[];
}

/** A cell of a number column that holds text: a number on neither side. */
export interface TextCell extends RowSummary {
  value: unknown;
  reasons: RejectReason[];
}

/** One figure of a bridge, in the total's unit, and how many rows are behind it. */
export interface BridgeFigure {
  amount: string;
  rows: number;
}

/**
 * A figure the business owner knows from the Coda doc, on both sides, with the bridge between:
 * coda − rejected − notConverted + extra = postgres + unexplained.
 */
export interface BusinessTotal {
  label: string;
  target: string;
  /**
   * The group in Coda's words (a status label, a currency, a linked row's name, blank or not), its
   * name null for the rows whose group cell is empty; null when the figure is not split.
   */
  group: { name: string | null } | null;
  /** `rows` when the total counts rows; `sum` when it adds a column up (hours, money). */
  unit: 'rows' | 'sum';
  /** Every number Coda shows: loaded rows, and rejected rows with their share. */
  coda: BridgeFigure;
  rejected: BridgeFigure & { shares: RejectedShare[] };
  /** Numbers Coda shows that the load could not take as they are. */
  notConverted: BridgeFigure & { shares: UnconvertedShare[] };
  /** What rows in Postgres that this read did not load add (kept from earlier loads, gone from Coda, added by hand). */
  extra: BridgeFigure;
  postgres: BridgeFigure;
  /** Coda's figure walked to Postgres, minus Postgres's own: not zero is a difference. */
  unexplained: string;
  /** Text in the summed column: counted on neither side, listed. */
  notANumber: TextCell[];
}

export interface TableReconciliation {
  target: string;
  codaTable: { id: string; name: string };
  /** Rows read from the Coda table. */
  codaRows: number;
  /** Rows in the target table before the comparison. */
  postgresRows: number;
  matched: number;
  rejected: number;
  missing: number;
  differ: number;
  /** Rows gone from Coda plus rows no Coda row produced. */
  extra: number;
  /** Optional links Coda has and Postgres cannot hold (the linked row is not loaded). */
  unresolved: number;
  /** Target rows that no Coda row of this doc produced: from another doc, added by hand or by another tool. */
  notFromCoda: { targetId: string; label: string }[];
}

/** A difference a committed cutover accepted: reconcile lists it as accepted, with that run. */
export interface AcceptedDifference {
  runId: string;
  target: string;
  rowKey: string;
  kind: AcceptableKind;
}

export interface Reconciliation {
  tables: TableReconciliation[];
  totals: BusinessTotal[];
  /** Every difference of this doc accepted by a committed cutover so far. */
  accepted: AcceptedDifference[];
}

export type TimedTableReport = TableLoadReport & { seconds: number };

export type AcceptableKind = 'rejected' | 'link_left_empty' | 'extra' | 'kept_in_postgres' | LeftBehindKind;
export type LeftBehindKind = 'column_left_behind' | 'table_left_behind';
export type DifferenceKind = AcceptableKind | 'missing' | 'differs' | 'total';

/** One thing that keeps Postgres from being exactly Coda, with the run that accepted it if one did. */
export interface Difference {
  kind: DifferenceKind;
  target: string;
  /** The Coda row id, `id:<erp id>` for a row no Coda row produced, or the total's label and group. */
  rowKey: string;
  row: RowSummary;
  /** Why a row was rejected or a link left empty; the other kinds say it in their own data. */
  reasons: Reason[];
  acceptedByRun: string | null;
  total?: BusinessTotal;
  /** For kept_in_postgres: the row's conflict, whose Postgres side the owner chose to keep. */
  conflict?: Conflict;
  /** For a Coda column or table that holds data no mapping loads. */
  leftBehind?: LeftBehind;
}
