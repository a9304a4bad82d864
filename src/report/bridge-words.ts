/**
 * A business total's bridge from Coda to Postgres, worded so that every line adds up as printed.
 */
import type { BridgeFigure, BusinessTotal } from '../load/reconcile/types.ts';
import { addDecimals, subtractDecimals } from '../shared/decimal.ts';
import { capped, plural } from './lists.ts';

/**
 * The columns of every bridge, each in the total's own unit, so that on every line
 * Coda − rejected − not converted + extra = Postgres + unexplained, as printed. Figures are
 * exact decimals, never rounded, so the printed numbers add up.
 */
export const BRIDGE_COLUMNS = [
  'Coda',
  'Rejected',
  'Not converted',
  'Extra',
  'Postgres',
  'Unexplained',
] as const;

/** Text cells in a number column are in no unit: their own column, shown when a total has any. */
export const TEXT_CELLS_COLUMN = 'Text, not a number';

/** A figure as printed: the amount, and for a sum the rows behind it beside it ("12.5 (3 rows)"). */
export function figureText(total: Pick<BusinessTotal, 'unit'>, figure: BridgeFigure): string {
  return total.unit === 'rows' || figure.rows === 0
    ? figure.amount
    : `${figure.amount} (${plural(figure.rows, 'row')})`;
}

/** A total's bridge line up to its unexplained rest, which each form marks in its own way. */
export function bridgeFigures(total: BusinessTotal): string[] {
  return [total.coda, total.rejected, total.notConverted, total.extra, total.postgres].map((figure) =>
    figureText(total, figure),
  );
}

/** The text cells of a total, counted: "2 rows", or nothing. */
export function textCellsText(total: BusinessTotal): string {
  return total.notANumber.length ? plural(total.notANumber.length, 'row') : '';
}

/** A step that takes an amount off, written so it reads right as printed: "− 3", "− (-2)". */
export function minus(amount: string): string {
  return amount.startsWith('-') ? `− (${amount})` : `− ${amount}`;
}

/** Whether a total has rows to walk through one by one: shares taken off, or text cells. */
export function hasWalk(total: BusinessTotal): boolean {
  return total.rejected.rows > 0 || total.notConverted.rows > 0 || total.notANumber.length > 0;
}

/** A step's rows as listed, and what those left out add up to, so the walk still adds up. */
export function listedShares<T extends { share: string }>(
  figure: BridgeFigure & { shares: readonly T[] },
): { shown: readonly T[]; more: number; rest: string } {
  const { shown, more } = capped(figure.shares);
  return {
    shown,
    more,
    rest: subtractDecimals(figure.amount, shown.map((item) => item.share).reduce(addDecimals, '0')),
  };
}

/** The line that stands for the rows a walk leaves out. */
export function moreSharesLine(more: number, rest: string): string {
  return `${minus(rest)} for ${more} more rows (all of them are in report.json)`;
}
