import { describe, expect, it } from 'vitest';
import { closestNames, namedRow, personTitle, rowTitle } from '../../src/shared/names.ts';

describe('closest names', () => {
  const tables = ['Tasks', 'Projects', 'Clients & Partners', 'Team'];

  it('offers the name a slip, a case or a missing word away', () => {
    expect(closestNames('Taks', tables)).toEqual(['Tasks']);
    expect(closestNames('projects', tables)).toEqual(['Projects']);
    expect(closestNames('Clients', tables)).toEqual(['Clients & Partners']);
  });

  it('offers nothing when no name is close', () => {
    expect(closestNames('Invoices', tables)).toEqual([]);
    expect(closestNames('   ', tables)).toEqual([]);
  });
});

describe('a blank row name', () => {
  it('is never shown as whitespace', () => {
    expect(rowTitle('   ')).toBe('(no name)');
    expect(namedRow(' \t', 'Projects')).toBe('a Projects row with no name');
    expect(namedRow('Alpha', 'Projects')).toBe('"Alpha"');
  });
});

describe('a person in a sentence', () => {
  it('is named, else known by their email, else said to have no name', () => {
    expect(personTitle({ name: 'Zoë Back', email: 'z@x.example' })).toBe('Zoë Back');
    expect(personTitle({ name: '  ', email: 'z@x.example' })).toBe('z@x.example');
    expect(personTitle({ name: '\t', email: null })).toBe('a person with no name');
  });
});
