/** Totals are added up exactly, as Postgres numeric does, so Coda's and Postgres's figures compare. */
import { describe, expect, it } from 'vitest';
import { addDecimals, subtractDecimals } from '../../src/shared/decimal.ts';

describe('decimal amounts', () => {
  it('adds without binary rounding and without trailing zeros', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(addDecimals('78.50', '0')).toBe('78.5');
    expect(addDecimals('42445', '49.95')).toBe('42494.95');
    expect(addDecimals('-1.5', '1.5')).toBe('0');
  });

  it('subtracts, including below zero', () => {
    expect(subtractDecimals('83', '76')).toBe('7');
    expect(subtractDecimals('76', '83.25')).toBe('-7.25');
    expect(subtractDecimals('0', '0')).toBe('0');
  });

  it('reads every form a number of the load takes, exactly', () => {
    expect(addDecimals('1e3', '0')).toBe('1000');
    expect(addDecimals('+5', '.5')).toBe('5.5');
    expect(addDecimals('1.5e-7', '0')).toBe('0.00000015');
    expect(subtractDecimals('1', '+2')).toBe('-1');
    expect(() => addDecimals('3,5', '0')).toThrow(RangeError);
  });
});
