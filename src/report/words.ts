/**
 * The owner's words for what the load names in erp terms: an erp table by its Coda table, an erp
 * column by the Coda column it reads, a stored choice by Coda's label. Built once per report from
 * the vocabulary the run carries; where the vocabulary knows nothing, the erp name is shown as is.
 */
import type { ColumnWords, Vocabulary } from '../transform/vocabulary.ts';
import { visible } from '../shared/visible.ts';

export interface Words {
  /** "Team" for erp.people. */
  table(target: string): string;
  /** The Coda column an erp column reads: "Status" for status. */
  column(target: string, column: string): string;
  /** A stored value as the owner reads it: a choice by its Coda label, text in quotes, empty as "(empty)". */
  value(target: string, column: string, value: unknown): string;
}

/** A cell value as the owner reads it: text in quotes, so that empty and blank are told apart. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? visible(item) : item));
}

/** A stored choice back to the Coda label(s) that load as it; values the mapping does not list stay as stored. */
function asChoice(value: unknown, choices: ColumnWords['choices']): unknown {
  if (!choices) return value;
  const label = (item: unknown) =>
    typeof item === 'string' && choices[item] ? choices[item].join(' or ') : item;
  return Array.isArray(value) ? value.map(label) : label(value);
}

export function wordsOf(vocabulary: Vocabulary | undefined): Words {
  const tables = new Map((vocabulary?.tables ?? []).map((table) => [table.target, table]));
  const columnWords = (target: string, column: string) => tables.get(target)?.columns[column];
  return {
    table: (target) => tables.get(target)?.codaTable.name ?? target,
    column: (target, column) => columnWords(target, column)?.label ?? column,
    value: (target, column, value) => showValue(asChoice(value, columnWords(target, column)?.choices)),
  };
}
