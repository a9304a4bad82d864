/**
 * Coda's three value formats, derived from the rich values the fixture stores:
 * `rich` as stored, `simpleWithArrays` with every object as its display text, and `simple` with
 * arrays also joined into one string (lossy, which is why the extractor asks for rich).
 */
import type { FixtureCellValue } from './fixture-types.ts';
import type { CodaKnownSingleValue } from '../../src/extract/index.ts';
import type { PublicApiScalarValue, PublicApiValue } from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';

export type ValueFormat = 'simple' | 'simpleWithArrays' | 'rich';

const CURRENCY_SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£' };

/** Plain text as Coda shows it: no code fence around it. */
function plainText(text: string): string {
  return /^```[\s\S]*```$/.test(text) ? text.slice(3, -3) : text;
}

function displayValue(value: CodaKnownSingleValue): PublicApiScalarValue {
  if (typeof value === 'string') return plainText(value);
  if (typeof value !== 'object') return value;
  switch (value['@type']) {
    case 'MonetaryAmount': {
      const { amount, currency } = value as { amount: string | number; currency: string };
      const number = typeof amount === 'number' ? amount : Number(amount.replace(/,/g, ''));
      const text = number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      return `${CURRENCY_SYMBOLS[currency] ?? `${currency} `}${text}`;
    }
    case 'ImageObject':
    case 'WebPage':
      return (value as { url?: string }).url ?? '';
    default:
      return (value as { name?: string }).name ?? '';
  }
}

export function formatValue(value: FixtureCellValue, format: ValueFormat): FixtureCellValue | PublicApiValue {
  if (format === 'rich') return value;
  if (!Array.isArray(value)) return displayValue(value);
  const withArrays = value.map((item) => (Array.isArray(item) ? item.map(displayValue) : displayValue(item)));
  return format === 'simpleWithArrays' ? withArrays : withArrays.flat().join(',');
}
