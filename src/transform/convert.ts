/**
 * Where a Coda cell value becomes a Postgres value: the one place.
 *
 * Input is a cell as Coda's API sends it with `valueFormat=rich` (see ../shared/spec/coda-api.md):
 * strings (Markdown), numbers, booleans, JSON-LD objects (Person, StructuredValue row reference,
 * MonetaryAmount, WebPage, ImageObject) and arrays of those. Output is a plain value for the
 * load stage: `null`, a string (text, canonical decimals, ISO dates and times), a boolean, or a
 * list of strings (a `text[]` or a JSON array, whichever the target column is). References
 * (people, rows of other tables) are returned unresolved; the load stage resolves them.
 *
 * A value that cannot be converted yields a reason as a code and its data (./reasons.ts): what
 * was found and what was expected, which src/report words for the business owner.
 */
import type { CellShape, ConversionFailure, Expected, PersonRef } from './reasons.ts';

export type PgValue = null | string | boolean | string[];

/**
 * Bump when a conversion produces a different value from the same cell: plans skip rows loaded
 * with the same version, mapping and Coda content (src/load/table/unchanged-rows.ts).
 */
export const CONVERSION_VERSION = 1;

export interface RowRef {
  tableId: string;
  rowId: string;
  name: string;
}

export type Converted<T> = { ok: true; value: T } | { ok: false; reason: ConversionFailure };

const ok = <T>(value: T): Converted<T> => ({ ok: true, value });
const fail = (reason: ConversionFailure): Converted<never> => ({ ok: false, reason });
const notA = (cell: unknown, expected: Expected): Converted<never> =>
  fail({ code: 'not_convertible', value: cellShape(cell), expected });

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Postgres text and jsonb cannot hold U+0000 at all, wherever it hides in a value. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  return isObject(value) && Object.values(value).some(containsNul);
}

/** Coda marks an empty cell with an empty string; blank Markdown counts as empty too. */
export function isEmptyCell(value: unknown): boolean {
  if (value === '' || value === null || value === undefined) return true;
  if (typeof value === 'string') return stripCodeFence(value).trim() === '';
  return Array.isArray(value) && value.every(isEmptyCell);
}

/** Longer text is cut: a reason shows enough of a cell to find it, never a wall of text. */
const SHOWN_TEXT = 60;

/** What a reason shows of a cell: its text, or its kind and name; never a wall of JSON. */
function cellShape(value: unknown): CellShape {
  if (Array.isArray(value)) return { kind: 'list', count: value.length };
  if (isObject(value)) {
    const kind =
      value['@type'] === 'StructuredValue' && value.additionalType === 'row'
        ? 'row_link'
        : value['@type'] === 'Person'
          ? 'person'
          : value['@type'] === 'MonetaryAmount'
            ? 'money'
            : 'object';
    return { kind, name: typeof value.name === 'string' && value.name ? value.name : null };
  }
  if (typeof value !== 'string') return { kind: 'value', text: String(value) };
  return { kind: 'text', text: value.length > SHOWN_TEXT ? `${value.slice(0, SHOWN_TEXT - 3)}…` : value };
}

const CODE_FENCE = /^\s*```(?:[^\n`]*\n)?([\s\S]*?)\n?```\s*$/;

/** Coda wraps plain text in a Markdown code fence in some cells; the fence is not content. */
export function stripCodeFence(text: string): string {
  return CODE_FENCE.exec(text)?.[1] ?? text;
}

function single(value: unknown, expected: Expected): Converted<unknown> {
  if (!Array.isArray(value)) return ok(value);
  const present = value.filter((item) => !isEmptyCell(item));
  if (present.length <= 1) return ok(present[0] ?? '');
  return fail({ code: 'several_values', count: present.length, expected });
}

export function toText(value: unknown): Converted<string | null> {
  const one = single(value, 'text');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  let text: string;
  if (typeof cell === 'string') text = stripCodeFence(cell);
  else if (typeof cell === 'number' || typeof cell === 'boolean') text = String(cell);
  else if (isObject(cell) && cell['@type'] === 'WebPage' && typeof cell.url === 'string') text = cell.url;
  else return notA(cell, 'text');
  return ok(text);
}

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const GROUPED_NUMBER = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;

/** A decimal as Postgres `numeric` reads it, from a number or a string with thousands separators. */
function decimalFrom(raw: number | string): string | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : undefined;
  const trimmed = raw.trim().replace(/\s/g, '');
  if (PLAIN_NUMBER.test(trimmed)) return trimmed;
  if (GROUPED_NUMBER.test(trimmed)) return trimmed.replace(/,/g, '');
  return undefined;
}

export function toNumber(value: unknown): Converted<string | null> {
  const one = single(value, 'number');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  const decimal = typeof cell === 'number' || typeof cell === 'string' ? decimalFrom(cell) : undefined;
  return decimal === undefined ? notA(cell, 'number') : ok(decimal);
}

const CURRENCY_SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };

/**
 * What a column of amounts says about their currency: one currency (`currency: USD` in the
 * mapping), each cell's own (its code is loaded into a column beside it), or nothing at all.
 */
export type CurrencyHeld = { kind: 'fixed'; code: string } | { kind: 'per-cell' } | { kind: 'unrecorded' };

/**
 * Money as `numeric`. An amount is never relabelled: one in a currency other than the column's,
 * or one that names a currency nothing would record, is refused rather than stored as if it
 * were in the target's default currency.
 */
export function toCurrency(value: unknown, held: CurrencyHeld): Converted<string | null> {
  const money = parseMoney(value);
  if (!money.ok) return money;
  if (money.value === null) return ok(null);
  const { amount, code } = money.value;
  if (code && held.kind === 'fixed' && code !== held.code)
    return fail({ code: 'other_currency', currency: code, columnCurrency: held.code });
  if (code && held.kind === 'unrecorded') return fail({ code: 'currency_unrecorded', currency: code });
  return ok(amount);
}

/**
 * The amount a money cell holds, whatever its currency: the number Coda shows in the cell, read
 * as the load reads it, for the Coda side of a total.
 */
export function toAmount(value: unknown): Converted<string | null> {
  const money = parseMoney(value);
  return money.ok ? ok(money.value?.amount ?? null) : money;
}

/** The currency code of an amount ("USD"), or null when the cell does not say. */
export function toCurrencyCode(value: unknown): Converted<string | null> {
  const money = parseMoney(value);
  return money.ok ? ok(money.value?.code ?? null) : money;
}

function parseMoney(value: unknown): Converted<{ amount: string; code: string | undefined } | null> {
  const one = single(value, 'amount');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  let amount: unknown = cell;
  let code: string | undefined;
  if (isObject(cell) && cell['@type'] === 'MonetaryAmount') {
    amount = cell.amount;
    code = typeof cell.currency === 'string' ? cell.currency : undefined;
  } else if (typeof cell === 'string') {
    const match = /^\s*([A-Z]{3}\s*|[$€£¥])?\s*(-?[\d.,\s]+?)\s*([A-Z]{3})?\s*$/.exec(cell);
    if (match) {
      const prefix = match[1]?.trim();
      code = (prefix && (CURRENCY_SYMBOLS[prefix] ?? prefix)) || match[3];
      amount = match[2];
    }
  }
  const decimal = typeof amount === 'number' || typeof amount === 'string' ? decimalFrom(amount) : undefined;
  if (decimal === undefined) return notA(cell, 'amount');
  return ok({ amount: decimal, code });
}

/** Coda sends percentages as fractions (0.25 for 25%); text like "25%" is accepted too. */
export function toPercent(value: unknown, scale: 'fraction' | 'percent'): Converted<string | null> {
  const one = single(value, 'percentage');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  let fraction: number | undefined;
  if (typeof cell === 'number' && Number.isFinite(cell)) fraction = cell;
  else if (typeof cell === 'string') {
    const match = /^\s*(-?\d+(?:\.\d+)?)\s*%\s*$/.exec(cell);
    if (match) fraction = Number(match[1]) / 100;
    else if (PLAIN_NUMBER.test(cell.trim())) fraction = Number(cell);
  }
  if (fraction === undefined) return notA(cell, 'percentage');
  // Rounded to drop binary noise such as 0.07 * 100 = 7.000000000000001.
  return ok(String(scale === 'percent' ? Number((fraction * 100).toPrecision(12)) : fraction));
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;

/** The calendar day as Coda shows it: the date part of the value, in the doc's own time zone. */
export function toDate(value: unknown): Converted<string | null> {
  const one = single(value, 'date');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  const match = typeof cell === 'string' ? ISO_DATE.exec(cell.trim()) : null;
  if (!match) return notA(cell, 'date');
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month - 1 ||
    calendar.getUTCDate() !== day
  ) {
    return fail({ code: 'no_such_day', value: cellShape(cell) });
  }
  return ok(match[0].replace(/T$/, ''));
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A moment in time as `timestamptz`; Coda always sends an offset, and one is required. */
export function toDateTime(value: unknown): Converted<string | null> {
  const one = single(value, 'datetime');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  if (typeof cell !== 'string' || !ISO_DATE_TIME.test(cell.trim())) {
    return notA(cell, 'datetime');
  }
  const day = toDate(cell);
  if (!day.ok) return day;
  const instant = new Date(cell.trim());
  return Number.isNaN(instant.getTime())
    ? fail({ code: 'no_such_time', value: cellShape(cell) })
    : ok(instant.toISOString());
}

/** An unset checkbox is false: Coda shows no third state. */
export function toCheckbox(value: unknown): Converted<boolean> {
  const one = single(value, 'checkbox');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(false);
  if (typeof cell === 'boolean') return ok(cell);
  if (typeof cell === 'string' && /^(true|false)$/i.test(cell.trim()))
    return ok(cell.trim().toLowerCase() === 'true');
  return notA(cell, 'checkbox');
}

function selectKey(text: string): string {
  return text.trim().toLowerCase();
}

/** Looks a Coda option up in the mapping's value map: exact first, then ignoring case and spaces. */
function mapOption(option: string, values: Record<string, string>): string | undefined {
  if (Object.hasOwn(values, option)) return values[option];
  const wanted = selectKey(option);
  const key = Object.keys(values).find((candidate) => selectKey(candidate) === wanted);
  return key === undefined ? undefined : values[key];
}

export function toSelect(value: unknown, values: Record<string, string>): Converted<string | null> {
  const text = toText(value);
  if (!text.ok || text.value === null) return text;
  const mapped = mapOption(text.value, values);
  if (mapped !== undefined) return ok(mapped);
  return fail({ code: 'unknown_choice', value: text.value, known: Object.keys(values) });
}

/** Multi-select and multi-value cells as a list; Coda's simple format joins them with commas. */
function listItems(value: unknown): Converted<string[]> {
  const cells = Array.isArray(value)
    ? value.flat()
    : typeof value === 'string' && !isEmptyCell(value)
      ? [value]
      : isEmptyCell(value)
        ? []
        : [value];
  const items: string[] = [];
  for (const cell of cells) {
    if (isEmptyCell(cell)) continue;
    const text = toText(cell);
    if (!text.ok) return text;
    if (text.value !== null) items.push(text.value);
  }
  return ok(items);
}

export function toTags(value: unknown, values?: Record<string, string>): Converted<string[]> {
  const items = listItems(
    Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : value,
  );
  if (!items.ok) return items;
  const tags: string[] = [];
  for (const item of items.value.map((tag) => tag.trim()).filter(Boolean)) {
    const tag = values ? mapOption(item, values) : item;
    if (tag === undefined) return fail({ code: 'unknown_tag', value: item });
    if (!tags.includes(tag)) tags.push(tag);
  }
  return ok(tags);
}

/** Steps and checklists: a multi-value cell, or text with one item per line (bullets dropped). */
export function toList(value: unknown): Converted<string[]> {
  if (Array.isArray(value)) return listItems(value);
  const text = toText(value);
  if (!text.ok) return text;
  if (text.value === null) return ok([]);
  return ok(
    text.value
      .split('\n')
      .map((line) => line.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').trim())
      .filter(Boolean),
  );
}

export function toPerson(value: unknown): Converted<PersonRef | null> {
  const one = single(value, 'person');
  return one.ok ? personFrom(one.value) : one;
}

/** Every person a cell names, in Coda's order, for a column that keeps the first (multiple: first). */
export function toPeople(value: unknown): Converted<PersonRef[]> {
  const people: PersonRef[] = [];
  for (const cell of Array.isArray(value) ? value.flat() : [value]) {
    const one = personFrom(cell);
    if (!one.ok) return one;
    if (one.value) people.push(one.value);
  }
  return ok(people);
}

function personFrom(cell: unknown): Converted<PersonRef | null> {
  if (isEmptyCell(cell)) return ok(null);
  if (isObject(cell) && cell['@type'] === 'Person' && typeof cell.name === 'string') {
    const email = typeof cell.email === 'string' && cell.email.trim() ? cell.email.trim() : null;
    return ok({ name: cell.name.trim(), email });
  }
  if (typeof cell === 'string') return ok({ name: stripCodeFence(cell).trim(), email: null });
  return notA(cell, 'person');
}

export function toRowRef(value: unknown): Converted<RowRef | null> {
  const one = single(value, 'row_link');
  if (!one.ok) return one;
  const cell = one.value;
  if (isEmptyCell(cell)) return ok(null);
  if (
    isObject(cell) &&
    cell['@type'] === 'StructuredValue' &&
    typeof cell.rowId === 'string' &&
    typeof cell.tableId === 'string'
  ) {
    return ok({
      tableId: cell.tableId,
      rowId: cell.rowId,
      name: typeof cell.name === 'string' ? cell.name : cell.rowId,
    });
  }
  return notA(cell, 'row_link');
}
