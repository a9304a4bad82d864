/**
 * The mapping bootstrap: from a Coda table (its columns and the choices its rows hold) and the
 * target table's catalog, a mapping file that loads as it is. Columns are keyed by id
 * (rename-proof) with the names beside them. What the draft cannot decide is never a validation
 * error: a choice it cannot match is left out of the value map (such rows are rejected with a
 * reason) and marked for review in a comment.
 */
import { Document, isMap, isScalar } from 'yaml';
import type { PublicApiColumn } from '../extract/index.ts';
import { TARGET_TYPES } from '../transform/mapping-spec.ts';
import { allowedMatch, allowedValues, choiceValues } from './choice-matching.ts';
import type { ColumnProfile } from './choices.ts';
import { conversionFor, formatOf, formatOptions, type Conversion } from './coda-columns.ts';
import { FILLER, MEANINGS, snakeCase, UNITS, wordsOf } from './column-words.ts';
import { ROW_NAME_COLUMNS, textDefault, type TargetColumn, type TargetTable } from './target-schema.ts';

export interface DraftTable {
  id: string;
  name: string;
  columns: PublicApiColumn[];
}

/** A column default that is a plain value ('USD'::text, 0, true), as a mapping default. */
function literalDefault(column: TargetColumn): string | number | boolean | undefined {
  const expression = column.defaultExpression?.trim();
  if (!expression) return undefined;
  const text = textDefault(column);
  if (text !== null) return text;
  const number = /^\(?(-?\d+(?:\.\d+)?)\)?(?:::[a-z ]+)?$/.exec(expression);
  if (number) return Number(number[1]);
  if (expression === 'true' || expression === 'false') return expression === 'true';
  return undefined;
}

function fits(conversion: Conversion, column: TargetColumn): boolean {
  return !column.generated && TARGET_TYPES[conversion].includes(column.type.replace(/\(.*\)/, ''));
}

interface DraftContext {
  table: DraftTable;
  target: TargetTable;
  /** Every base table of the doc, and the erp table each is drafted into. */
  tables: DraftTable[];
  targetOf: (codaTableId: string) => string | undefined;
  /** What each column of the table holds (see choices.ts). */
  profiles: Map<string, ColumnProfile>;
  /** create when the doc has no People table to load people from. */
  unknownPeople: 'create' | 'reject';
}

interface Draft {
  text: string;
  /** Target columns that must be filled but no Coda column matched: plan stops until they are mapped. */
  unfilled: string[];
  /** Choices found in the doc that the value maps leave out, for review. */
  review: string[];
  /** Coda columns left in Coda, each with its reason, as the skip: section says. */
  skipped: { label: string; reason: string }[];
}

type DraftColumn = Record<string, unknown> & { as: Conversion };

/** A Coda column that could fill a target column, how well, and why, in words for the owner. */
interface Candidate {
  column: PublicApiColumn;
  conversion: Conversion;
  target: string;
  score: number;
  why: string;
}

/** Below this, a likeness of names is a guess the draft does not make. */
const ENOUGH = 35;

/** Whether a value of this kind can go into the target column at all: right type, right link. */
function kindFits(
  column: PublicApiColumn,
  conversion: Conversion,
  target: TargetColumn,
  context: DraftContext,
): boolean {
  if (!fits(conversion, target)) return false;
  const references = context.target.references.get(target.name);
  if (conversion === 'person') return references === 'erp.people';
  if (conversion === 'lookup') {
    const linked = formatOf(column).table?.id;
    const linkedTarget = linked ? context.targetOf(linked) : undefined;
    return !!references && (!linkedTarget || linkedTarget === references);
  }
  // A number is never taken for the id of a linked row.
  return !references;
}

/** The words of a target column that say what it holds (not _id, not _person). */
const targetWords = (name: string) => name.split('_').filter((word) => !FILLER.has(word));

/** How well a Coda column's name (and kind) says it fills a target column, and why. */
function likeness(
  column: PublicApiColumn,
  target: TargetColumn,
  context: DraftContext,
): { score: number; why: string } {
  const base = snakeCase(column.name);
  const label = `'${column.name}'`;
  const scores: { score: number; why: string }[] = [];
  if (column.display) {
    const index = ROW_NAME_COLUMNS.indexOf(target.name);
    if (index >= 0) scores.push({ score: 110 - index, why: 'the row names' });
  }
  if (base === target.name || `${base}_id` === target.name) scores.push({ score: 100, why: 'by name' });
  const words = wordsOf(column.name);
  const meaning = (key: string, table: Record<string, string[]>, top: number) => {
    const index = table[key]?.indexOf(target.name) ?? -1;
    if (index >= 0) scores.push({ score: top - 10 * index, why: `${label} means ${target.name}` });
  };
  meaning(base, MEANINGS, 90);
  meaning(words.join('_'), MEANINGS, 90);
  for (const word of words) {
    meaning(word, MEANINGS, 70);
    meaning(word, UNITS, 40);
  }
  const said = words.filter((word) => !FILLER.has(word) && !(word in UNITS));
  const own = targetWords(target.name);
  const shared = said.filter((word) => own.includes(word)).length;
  if (shared)
    scores.push({
      score: (60 * shared) / Math.max(own.length, said.length),
      why: `${label} is like ${target.name}`,
    });
  const described = new Set(wordsOf(target.comment ?? ''));
  if (said.length && said.every((word) => described.has(word)))
    scores.push({ score: 40, why: `${label} is how the schema describes ${target.name}` });
  const options = formatOptions(column);
  const allowed = options.length ? allowedValues(context.target, target.name) : undefined;
  // A select whose every choice is one of the target's allowed values says what it holds.
  if (allowed && options.every((option) => allowedMatch(option, allowed)))
    scores.push({ score: 50, why: `its choices are ${target.name}'s` });
  if (formatOf(column).type === 'lookup') {
    const linked = context.tables.find((table) => table.id === formatOf(column).table?.id);
    const references = context.target.references.get(target.name);
    const links = [...context.target.references.values()].filter((table) => table === references);
    // The one link of the target to the table the Coda column links to: the kind says it all.
    if (linked && links.length === 1 && context.targetOf(linked.id) === references)
      scores.push({ score: 60, why: `links to "${linked.name}" (${references})` });
  }
  const best = scores.sort((a, b) => b.score - a.score)[0] ?? { score: 0, why: '' };
  // The schema's description of the column breaks ties between equally named candidates.
  const tieBreak = said.filter((word) => described.has(word)).length;
  return { score: best.score + tieBreak, why: best.why };
}

export function draftMapping(context: DraftContext): Draft {
  const { table, target } = context;
  const columns: Record<string, DraftColumn> = {};
  const notes: Record<string, string> = {};
  const review: string[] = [];
  const skip: Record<string, { label: string; reason: string }> = {};
  const taken = new Set<string>();
  const profileOf = (column: PublicApiColumn) =>
    context.profiles.get(column.id) ?? { filled: 0, several: 0, choices: new Map<string, number>() };

  // Every fitting pair, best first: each Coda column and each target column is taken once, by
  // the best pair left, so "Due" cannot take due_date from "Due date".
  const candidates: Candidate[] = [];
  for (const column of table.columns) {
    const conversion = conversionFor(column);
    if (!conversion) continue;
    for (const targetColumn of target.columns.values()) {
      if (!kindFits(column, conversion, targetColumn, context)) continue;
      const { score, why } = likeness(column, targetColumn, context);
      if (score >= ENOUGH) candidates.push({ column, conversion, target: targetColumn.name, score, why });
    }
  }
  candidates.sort(
    (a, b) =>
      b.score - a.score ||
      table.columns.indexOf(a.column) - table.columns.indexOf(b.column) ||
      a.target.localeCompare(b.target),
  );
  const chosen = new Map<string, Candidate>();
  for (const candidate of candidates) {
    if (chosen.has(candidate.column.id) || taken.has(candidate.target)) continue;
    chosen.set(candidate.column.id, candidate);
    taken.add(candidate.target);
  }

  for (const column of table.columns) {
    const pick = chosen.get(column.id);
    if (!pick) {
      skip[column.id] = { label: column.name, reason: skipReason(column, context, candidates, chosen) };
      continue;
    }
    const { conversion, target: name } = pick;
    const format = formatOf(column);
    const targetColumn = target.columns.get(name)!;
    const spec: DraftColumn = { from: column.id, label: column.name, as: conversion };
    const said: string[] = [pick.why];
    if (column.calculated) said.push('a formula column');
    if (conversion === 'person') {
      said.push('person column -> erp.people link');
      const several = profileOf(column).several;
      if (format.isArray || several) {
        spec.multiple = 'first';
        said.push(
          `${several ? `${several} ${several === 1 ? 'row names' : 'rows name'} several people` : 'a cell may name several people'}; ${name} keeps one: the first loads, each such row lists the others`,
        );
      }
    }
    if (conversion === 'lookup') {
      const linked = context.tables.find((candidate) => candidate.id === format.table?.id);
      spec.table = format.table?.id;
      if (!linked) said.push('links to a table that is not extracted: map it too');
    }
    if (conversion === 'select' || conversion === 'tags') {
      const mapped = choiceValues(column, target, name, profileOf(column).choices);
      if (mapped.values) spec.values = mapped.values;
      said.push(...mapped.notes);
      if (mapped.review.length) {
        const [matches, them] = mapped.review.length === 1 ? ['matches', 'it'] : ['match', 'them'];
        said.push(
          `review: ${mapped.review.join(', ')} ${matches} none of ${mapped.allowed!.join(', ')}; rows holding ${them} are rejected until you add ${them} to values`,
        );
        review.push(...mapped.review.map((choice) => `${name}: ${choice}`));
      }
    }
    if (conversion === 'currency') {
      const codeColumn = [...target.columns.values()].find(
        (candidate) =>
          /(^|_)currency$/.test(candidate.name) && !taken.has(candidate.name) && fits('text', candidate),
      );
      if (codeColumn) {
        // The currency of every amount goes beside it, so no amount is read in another currency.
        taken.add(codeColumn.name);
        columns[codeColumn.name] = {
          from: column.id,
          label: column.name,
          as: 'currency',
          part: 'code',
          ...withEmptyRule(codeColumn, format.currencyCode),
        };
        notes[codeColumn.name] = `the currency of ${name}, cell by cell`;
      } else if (format.currencyCode) {
        spec.currency = format.currencyCode;
        said.push(`amounts in another currency are rejected: ${target.name} has no currency column`);
      }
    }
    // Lists and checkboxes are never empty (an empty cell is [] or false).
    if (!['tags', 'list', 'checkbox'].includes(conversion)) Object.assign(spec, withEmptyRule(targetColumn));
    columns[name] = spec;
    notes[name] = said.join('; ');
  }

  const unfilled = [...target.columns.values()]
    .filter(
      (column) => column.notNull && !column.hasDefault && !column.generated && !(column.name in columns),
    )
    .map((column) => column.name);
  // In the target table's column order, as people read the schema.
  const targetOrder = [...target.columns.keys()];
  const sortedColumns = Object.fromEntries(
    Object.entries(columns).sort(([a], [b]) => targetOrder.indexOf(a) - targetOrder.indexOf(b)),
  );
  // A blank-named project would otherwise take every task along: drafts keep such rows, each
  // listed as a link left empty, so the owner decides with the data in Postgres, not missing.
  const hasOptionalLinks = Object.values(columns).some(
    (column) => column.as === 'lookup' && column.required !== true,
  );

  const document = new Document({
    coda: { table: table.id, name: table.name },
    target: target.name,
    people: { unknown: context.unknownPeople },
    ...(hasOptionalLinks ? { links: { rejected_parent: 'load_without_link' } } : {}),
    columns: sortedColumns,
    ...(Object.keys(skip).length ? { skip } : {}),
  });
  document.commentBefore = [
    ` Draft mapping for the Coda table "${table.name}" -> ${target.name}, written by \`erp mappings draft\`.`,
    ' Columns are keyed by Coda column id (renames do not break them); labels are for people.',
    ' Each column says why it was matched: check those notes and the "review:" ones, then run `erp mappings check`.',
    ' skip: lists the Coda columns left in Coda, each with its reason; move one into columns: to load it.',
    ...(hasOptionalLinks
      ? [
          ' links.rejected_parent: a row whose link points at a row this run rejects (a project with no name)',
          ' loads with that link left empty, listed in the report under links left empty; set it to reject',
          ' to reject such rows instead, each grouped under the row it links to.',
        ]
      : []),
    ...(unfilled.length
      ? [
          ` ${target.name} needs ${unfilled.join(', ')}, which no Coda column matched: add columns.<name> with the Coda column that holds it.`,
        ]
      : []),
  ].join('\n');
  for (const key of ['coda', 'people', 'links']) {
    const node = document.get(key, true);
    if (isMap(node)) node.flow = true;
  }
  const columnsNode = document.get('columns', true);
  for (const pair of isMap(columnsNode) ? columnsNode.items : []) {
    const node = pair.value;
    if (!isMap(node)) continue;
    // One line per column, except a value map, which gets a line per choice.
    node.flow = !node.has('values');
    const note = notes[String(isScalar(pair.key) ? pair.key.value : pair.key)];
    if (note) node.comment = ` ${note}`;
  }
  const skipNode = document.get('skip', true);
  for (const pair of isMap(skipNode) ? skipNode.items : []) if (isMap(pair.value)) pair.value.flow = true;
  return {
    text: document.toString({ lineWidth: 0, flowCollectionPadding: true }),
    unfilled,
    review,
    skipped: Object.values(skip),
  };
}

/** Why a Coda column stays in Coda, in the owner's words; the owner may move it into columns:. */
function skipReason(
  column: PublicApiColumn,
  context: DraftContext,
  candidates: Candidate[],
  chosen: Map<string, Candidate>,
): string {
  const { target } = context;
  const format = formatOf(column);
  if (!context.profiles.get(column.id)?.filled) return 'empty in Coda';
  const formula = column.calculated ? 'a formula column: computed in Coda; ' : '';
  if (!conversionFor(column))
    return `${formula}no column of ${target.name} fits a Coda '${format.type}' column`;
  const lost = candidates.find((candidate) => candidate.column === column);
  if (lost) {
    const winner = [...chosen.values()].find((candidate) => candidate.target === lost.target)!;
    return `${formula}${target.name} keeps one ${lost.target}, filled from "${winner.column.name}"`;
  }
  if (format.type === 'lookup') {
    const linked = context.tables.find((table) => table.id === format.table?.id);
    return `${formula}links to "${linked?.name ?? format.table?.name ?? 'another table'}", and ${target.name} has no link to ${(linked && context.targetOf(linked.id)) ?? 'that table'}`;
  }
  return `${formula}${target.name} has no place for it`;
}

/** How an empty cell is treated: the target's own default, or the row is rejected when it has none. */
function withEmptyRule(column: TargetColumn, fallback?: string): { default?: unknown; required?: true } {
  if (!column.notNull) return {};
  const value = literalDefault(column) ?? fallback;
  return value === undefined ? { required: true } : { default: value };
}
