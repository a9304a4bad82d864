/**
 * Exact sums of Postgres numeric values and of Coda's numbers (kept as decimal strings): 0.1 +
 * 0.2 must be 0.3 when Coda's total is compared with Postgres's, which binary floating point
 * cannot promise.
 */
interface Scaled {
  units: bigint;
  scale: number;
}

/** A number as Postgres numeric prints it, or as Coda's cells give it (`+5`, `.5`, `1e3`). */
const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function scaled(value: string): Scaled {
  const [, sign, whole = '', fraction = '', exponent = '0'] = NUMBER.exec(value.trim()) ?? [];
  if (sign === undefined || whole + fraction === '') throw new RangeError(`not a number: ${value}`);
  const digits = BigInt(whole + fraction);
  const units = sign === '-' ? -digits : digits;
  const scale = fraction.length - Number(exponent);
  return scale >= 0 ? { units, scale } : { units: units * 10n ** BigInt(-scale), scale: 0 };
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

function combine(a: string, b: string, sign: 1n | -1n): string {
  const left = scaled(a);
  const right = scaled(b);
  const scale = Math.max(left.scale, right.scale);
  return format(rescale(left, scale) + sign * rescale(right, scale), scale);
}

/** a + b, exactly, without trailing zeros (78.50 + 0 is 78.5). */
export function addDecimals(a: string, b: string): string {
  return combine(a, b, 1n);
}

export function subtractDecimals(a: string, b: string): string {
  return combine(a, b, -1n);
}
