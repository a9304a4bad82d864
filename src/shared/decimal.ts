/**
 * Exact sums of Postgres numeric values (kept as decimal strings): 0.1 + 0.2 must be 0.3 when
 * Coda's total is compared with Postgres's, which binary floating point cannot promise.
 */
interface Scaled {
  units: bigint;
  scale: number;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A plain decimal number (as Postgres prints numeric), or undefined for anything else. */
export function parseDecimal(text: string): string | undefined {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? trimmed : undefined;
}

function scaled(value: string): Scaled {
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const units = BigInt(whole + fraction);
  return { units: value.startsWith('-') ? -units : units, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== '0' ? `-${text}` : text;
}

/** a + b, exactly, without trailing zeros (78.50 + 0 is 78.5). */
export function addDecimals(a: string, b: string): string {
  const left = scaled(a);
  const right = scaled(b);
  const scale = Math.max(left.scale, right.scale);
  return format(rescale(left, scale) + rescale(right, scale), scale);
}

export function subtractDecimals(a: string, b: string): string {
  return addDecimals(a, b.startsWith('-') ? b.slice(1) : `-${b}`);
}
