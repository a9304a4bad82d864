/**
 * The mapping bootstrap: from a Coda table (its columns and the choices its rows hold) and the
 * target table's catalog, a mapping file that loads as it is. Columns are keyed by id
 * (rename-proof) with the names beside them. What the draft cannot decide is never a validation
 * error: a choice it cannot match is left out of the value map (such rows are rejected with a
 * reason) and marked for review in a comment.
 */
import { Document, isMap, isScalar } from 'yaml';
import type { PublicApiColumn } from '../extract/index.ts';
import { TARGET_TYPES, type ColumnSpec } from '../transform/mapping-spec.ts';
import { describeChoice, type ChoiceCounts } from './choices.ts';
import { textDefault, type TargetColumn, type TargetTable } from './target-schema.ts';

export interface DraftTable {
  id: string;
  name: string;
  columns: PublicApiColumn[];
}

type Conversion = Exclude<ColumnSpec['as'], 'constant'>;

interface ColumnFormat {
  type: string;
  isArray?: boolean;
  table?: { id?: string; name?: string };
  options?: unknown;
  currencyCode?: string;
}

const formatOf = (column: PublicApiColumn) => column.format as ColumnFormat;

/** Coda column names that mean an erp column of another name. */
const SYNONYMS: Record<string, string[]> = {
  name: ['title', 'full_name', 'objective'],
  title: ['name'],
  owner: ['owner_person_id'],
  assignee: ['assignee_id'],
  organization: ['organization_id', 'client_org_id'],
  client: ['client_org_id', 'organization_id'],
  project: ['project_id'],
  venture: ['venture_id'],
  workflow: ['workflow_id'],
  service_blueprint: ['service_blueprint_id'],
  blueprint: ['service_blueprint_id'],
  process_template: ['process_template_id'],
  template: ['process_template_id'],
  execution_run: ['execution_run_id'],
  run: ['execution_run_id'],
  sprint: ['sprint_id'],
  engagement: ['engagement_id'],
  offer: ['offer_id'],
  primary_contact: ['primary_contact_id'],
  contact: ['primary_contact_id'],
  type: ['org_type', 'template_type'],
  kind: ['org_type', 'template_type'],
  role: ['role_label'],
  active: ['is_active'],
  price: ['list_price'],
  start: ['start_date', 'started_at'],
  end: ['end_date', 'ended_at'],
  due: ['due_date'],
  started: ['started_at', 'start_date'],
  ended: ['ended_at', 'end_date'],
  run_id: ['run_identifier'],
};

/** Target columns a table's display column (its row names) fills, in order of preference. */
const TITLE_COLUMNS = ['name', 'title', 'full_name', 'objective'];

export function snakeCase(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The erp table a Coda table most likely fills, by name. */
export function suggestTarget(tableName: string, targets: string[]): string | undefined {
  const wanted = snakeCase(tableName);
  return (
    targets.find((target) => target === `erp.${wanted}`) ??
    targets.find((target) => target === `erp.${wanted}s`)
  );
}

function conversionFor(column: PublicApiColumn): Conversion | undefined {
  const format = formatOf(column);
  switch (format.type) {
    case 'text':
    case 'email':
    case 'link':
    case 'canvas':
      return format.isArray ? 'list' : 'text';
    case 'select':
      return format.isArray ? 'tags' : 'select';
    case 'number':
    case 'slider':
    case 'scale':
      return 'number';
    case 'currency':
      return 'currency';
    case 'percent':
      return 'percent';
    case 'date':
      return 'date';
    case 'dateTime':
      return 'datetime';
    case 'checkbox':
      return 'checkbox';
    case 'person':
      return 'person';
    case 'lookup':
      return 'lookup';
    default:
      return undefined;
  }
}

export function isChoiceColumn(column: PublicApiColumn): boolean {
  return formatOf(column).type === 'select';
}

function formatOptions(column: PublicApiColumn): string[] {
  const options = formatOf(column).options;
  if (!Array.isArray(options)) return [];
  return options.map((option) =>
    typeof option === 'object' && option && 'name' in option ? String(option.name) : String(option),
  );
}

/** The values a CHECK (column IN (...)) allows, as Postgres prints it: = ANY (ARRAY['a'::text, ...]). */
export function allowedValues(target: TargetTable, column: string): string[] | undefined {
  const check = target.checks.find(
    (candidate) =>
      candidate.columns.length === 1 &&
      candidate.columns[0] === column &&
      /= ANY \(+ARRAY\[/.test(candidate.expression),
  );
  if (!check) return undefined;
  return [...check.expression.matchAll(/'((?:[^']|'')*)'::text/g)].map((match) =>
    match[1]!.replace(/''/g, "'"),
  );
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

const squash = (text: string) => snakeCase(text).replace(/_/g, '');

/** A Coda choice and an allowed database value say the same words ("To Do" and todo). */
function wordsAgree(choice: string, allowed: string): boolean {
  const [a, b] = [squash(choice), squash(allowed)];
  return a !== '' && (a === b || `${a}s` === b || a === `${b}s`);
}

/**
 * Workflow words that mean a database status without spelling it ("In Progress" is active, "Done"
 * is completed where the table has no done), tried in order after the words themselves.
 */
const SAME_MEANING: Record<string, string[]> = {
  inprogress: ['active', 'inprogress'],
  doing: ['active', 'inprogress'],
  started: ['active', 'inprogress'],
  done: ['done', 'completed'],
  complete: ['completed', 'done'],
  completed: ['completed', 'done'],
  finished: ['completed', 'done'],
  notstarted: ['todo', 'planned'],
  backlog: ['todo', 'planned'],
  todo: ['todo', 'planned'],
  onhold: ['onhold', 'paused'],
  paused: ['paused', 'onhold'],
  waiting: ['blocked', 'onhold'],
  canceled: ['cancelled'],
  cancelled: ['cancelled'],
};

/** The allowed value a choice names, by its words or by a workflow word that means it. */
function allowedMatch(choice: string, allowed: string[]): string | undefined {
  const direct = allowed.find((value) => wordsAgree(choice, value));
  if (direct) return direct;
  for (const meaning of SAME_MEANING[squash(choice)] ?? []) {
    const match = allowed.find((value) => squash(value) === meaning);
    if (match) return match;
  }
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
  choices: ChoiceCounts;
  /** create when the doc has no People table to load people from. */
  unknownPeople: 'create' | 'reject';
}

interface Draft {
  text: string;
  /** Target columns that must be filled but no Coda column matched: plan stops until they are mapped. */
  unfilled: string[];
  /** Choices found in the doc that the value maps leave out, for review. */
  review: string[];
}

type DraftColumn = Record<string, unknown> & { as: Conversion };

export function draftMapping(context: DraftContext): Draft {
  const { table, target } = context;
  const columns: Record<string, DraftColumn> = {};
  const notes: Record<string, string> = {};
  const review: string[] = [];
  const unmapped: string[] = [];
  const taken = new Set<string>();

  const suggest = (column: PublicApiColumn, conversion: Conversion): string | undefined => {
    const base = snakeCase(column.name);
    const candidates = column.display
      ? [...TITLE_COLUMNS, base]
      : [base, `${base}_id`, ...(SYNONYMS[base] ?? [])];
    return candidates.find((name) => {
      const candidate = target.columns.get(name);
      if (!candidate || taken.has(name) || !fits(conversion, candidate)) return false;
      if (conversion === 'person') return target.references.get(name) === 'erp.people';
      if (conversion === 'lookup') {
        const linked = formatOf(column).table?.id;
        const linkedTarget = linked ? context.targetOf(linked) : undefined;
        return (
          !!target.references.get(name) && (!linkedTarget || linkedTarget === target.references.get(name))
        );
      }
      return true;
    });
  };

  // The display column first, so the row names fill the title column before a synonym takes it.
  const ordered = [...table.columns].sort((a, b) => Number(!!b.display) - Number(!!a.display));
  for (const column of ordered) {
    const conversion = conversionFor(column);
    const name = conversion ? suggest(column, conversion) : undefined;
    const format = formatOf(column);
    if (!conversion || !name) {
      unmapped.push(
        `  ${column.id} "${column.name}" (${format.type}${format.isArray ? ' list' : ''}${column.calculated ? ', formula' : ''})`,
      );
      continue;
    }
    taken.add(name);
    const targetColumn = target.columns.get(name)!;
    const spec: DraftColumn = { from: column.id, label: column.name, as: conversion };
    const said: string[] = column.calculated ? ['a formula column'] : [];
    if (conversion === 'lookup') {
      const linked = context.tables.find((candidate) => candidate.id === format.table?.id);
      spec.table = format.table?.id;
      said.push(linked ? `links to "${linked.name}"` : 'links to a table that is not extracted: map it too');
    }
    if (conversion === 'select' || conversion === 'tags') {
      const mapped = choiceValues(column, target, name, context.choices);
      if (mapped.values) spec.values = mapped.values;
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
    if (said.length) notes[name] = said.join('; ');
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

  const document = new Document({
    coda: { table: table.id, name: table.name },
    target: target.name,
    people: { unknown: context.unknownPeople },
    columns: sortedColumns,
  });
  document.commentBefore = [
    ` Draft mapping for the Coda table "${table.name}" -> ${target.name}, written by \`erp mappings draft\`.`,
    ' Columns are keyed by Coda column id (renames do not break them); labels are for people.',
    ' It loads as it is: review the "review:" notes, then run `erp mappings check`.',
    ...(unfilled.length
      ? [
          ` ${target.name} needs ${unfilled.join(', ')}, which no Coda column matched: add columns.<name> with the Coda column that holds it.`,
        ]
      : []),
  ].join('\n');
  for (const key of ['coda', 'people']) {
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
  if (unmapped.length)
    document.comment = [
      ' Not mapped (no matching column in the target, or a kind of value that is not loaded):',
      ...unmapped,
    ].join('\n');
  return { text: document.toString({ lineWidth: 0, flowCollectionPadding: true }), unfilled, review };
}

/** How an empty cell is treated: the target's own default, or the row is rejected when it has none. */
function withEmptyRule(column: TargetColumn, fallback?: string): { default?: unknown; required?: true } {
  if (!column.notNull) return {};
  const value = literalDefault(column) ?? fallback;
  return value === undefined ? { required: true } : { default: value };
}

/**
 * A select's value map from the choices the doc holds (and those its format lists): each one
 * that names an allowed value maps to it; without a list of allowed values, a choice maps to
 * itself.
 */
function choiceValues(
  column: PublicApiColumn,
  target: TargetTable,
  name: string,
  choices: ChoiceCounts,
): { values?: Record<string, string>; review: string[]; allowed?: string[] } {
  const counts = new Map(formatOptions(column).map((option) => [option, 0]));
  for (const [choice, rows] of choices.get(column.id) ?? []) counts.set(choice, rows);
  const allowed = allowedValues(target, name);
  if (!allowed)
    return formatOf(column).isArray
      ? { review: [] }
      : {
          values: Object.fromEntries([...counts.keys()].map((choice) => [choice, choice])),
          review: [],
        };
  const values: Record<string, string> = {};
  const review: string[] = [];
  for (const [choice, rows] of counts) {
    const match = allowedMatch(choice, allowed);
    if (match) values[choice] = match;
    else review.push(describeChoice(choice, rows));
  }
  return { values, review, allowed };
}
