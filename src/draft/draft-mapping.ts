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
import { describeChoice, type ColumnProfile } from './choices.ts';
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

/**
 * Words people name a column with, and the erp columns they mean, most likely first. Keys are
 * whole names or single words, singular, in snake_case ("Assigned to" is assigned_to).
 */
const MEANINGS: Record<string, string[]> = {
  name: ['name', 'title', 'full_name', 'objective'],
  title: ['title', 'name'],
  due: ['due_date'],
  deadline: ['due_date'],
  due_on: ['due_date'],
  due_by: ['due_date'],
  estimate: ['estimated_hours', 'value_estimate'],
  estimated: ['estimated_hours', 'value_estimate'],
  est: ['estimated_hours'],
  estimation: ['estimated_hours'],
  effort: ['estimated_hours'],
  actual: ['actual_hours'],
  spent: ['actual_hours'],
  logged: ['actual_hours'],
  owner: ['owner_person_id', 'assignee_id'],
  assignee: ['assignee_id', 'owner_person_id'],
  assigned: ['assignee_id', 'owner_person_id'],
  assigned_to: ['assignee_id', 'owner_person_id'],
  lead: ['owner_person_id', 'assignee_id'],
  responsible: ['assignee_id', 'owner_person_id'],
  accountable: ['owner_person_id', 'assignee_id'],
  dri: ['owner_person_id', 'assignee_id'],
  who: ['assignee_id', 'owner_person_id'],
  manager: ['owner_person_id'],
  contact: ['primary_contact_id'],
  primary_contact: ['primary_contact_id'],
  main_contact: ['primary_contact_id'],
  note: ['notes', 'description'],
  description: ['description', 'notes'],
  detail: ['description', 'notes'],
  summary: ['description', 'notes'],
  comment: ['notes', 'description'],
  about: ['description', 'notes'],
  status: ['status'],
  stage: ['status'],
  state: ['status'],
  phase: ['status'],
  progress: ['status'],
  client: ['organization_id', 'client_org_id'],
  customer: ['organization_id', 'client_org_id'],
  organization: ['organization_id', 'client_org_id'],
  organisation: ['organization_id', 'client_org_id'],
  org: ['organization_id', 'client_org_id'],
  company: ['organization_id', 'client_org_id'],
  account: ['organization_id', 'client_org_id'],
  priority: ['priority'],
  prio: ['priority'],
  urgency: ['priority'],
  importance: ['priority'],
  tag: ['tags'],
  label: ['tags'],
  keyword: ['tags'],
  start: ['start_date', 'started_at', 'scheduled_start_date', 'time_horizon_start'],
  begin: ['start_date', 'started_at', 'scheduled_start_date'],
  kickoff: ['start_date', 'started_at'],
  started: ['started_at', 'start_date'],
  end: ['end_date', 'ended_at', 'scheduled_end_date', 'time_horizon_end'],
  finish: ['end_date', 'ended_at', 'scheduled_end_date'],
  ended: ['ended_at', 'end_date'],
  email: ['email'],
  mail: ['email'],
  website: ['website'],
  url: ['website'],
  site: ['website'],
  domain: ['website'],
  type: ['org_type', 'template_type'],
  kind: ['org_type', 'template_type'],
  category: ['org_type', 'template_type'],
  role: ['role_label'],
  job_title: ['role_label'],
  position: ['role_label'],
  active: ['is_active'],
  price: ['list_price'],
  fee: ['list_price'],
  pricing: ['pricing_model'],
  value: ['value_estimate'],
  deal_value: ['value_estimate'],
  capacity: ['capacity_hours'],
  project: ['project_id'],
  venture: ['venture_id'],
  workflow: ['workflow_id'],
  service_blueprint: ['service_blueprint_id'],
  blueprint: ['service_blueprint_id'],
  process_template: ['process_template_id'],
  template: ['process_template_id'],
  execution_run: ['execution_run_id'],
  run: ['execution_run_id'],
  run_id: ['run_identifier'],
  sprint: ['sprint_id'],
  engagement: ['engagement_id'],
  offer: ['offer_id'],
};

/** Units in a name ("Estimate (h)"): a hint at the kind of column, weaker than a word. */
const UNITS: Record<string, string[]> = {
  h: ['estimated_hours', 'actual_hours', 'capacity_hours'],
  hr: ['estimated_hours', 'actual_hours', 'capacity_hours'],
  hour: ['estimated_hours', 'actual_hours', 'capacity_hours'],
};

/** Words that say nothing about which column is meant. */
const FILLER = new Set([
  'the',
  'a',
  'an',
  'of',
  'to',
  'for',
  'in',
  'on',
  'by',
  'and',
  'or',
  'is',
  'id',
  'person',
]);

/** erp tables by the words a Coda table is named with, besides their own name. */
const TABLE_MEANINGS: Record<string, string> = {
  client: 'erp.organizations',
  customer: 'erp.organizations',
  account: 'erp.organizations',
  company: 'erp.organizations',
  organisation: 'erp.organizations',
  org: 'erp.organizations',
  partner: 'erp.organizations',
  vendor: 'erp.organizations',
  supplier: 'erp.organizations',
  team: 'erp.people',
  crew: 'erp.people',
  colleague: 'erp.people',
  consultant: 'erp.people',
  staff: 'erp.people',
  member: 'erp.people',
  person: 'erp.people',
  contact: 'erp.people',
  employee: 'erp.people',
  contractor: 'erp.people',
  todo: 'erp.tasks',
  to_do: 'erp.tasks',
  to_dos: 'erp.tasks',
  action_item: 'erp.tasks',
  ticket: 'erp.tasks',
  issue: 'erp.tasks',
  work_item: 'erp.tasks',
  initiative: 'erp.projects',
  job: 'erp.projects',
  business_line: 'erp.ventures',
  objective: 'erp.okrs',
  goal: 'erp.okrs',
  iteration: 'erp.sprints',
  cycle: 'erp.sprints',
  blueprint: 'erp.service_blueprints',
  sop: 'erp.process_templates',
  playbook: 'erp.process_templates',
  checklist: 'erp.process_templates',
  product: 'erp.offers',
  package: 'erp.offers',
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

/** "Owners" is owner, "Statuses" status: plural words as their singular, for matching. */
function singular(word: string): string {
  if (/(ss|us|is)$/.test(word) || word.length < 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

/** A name's words, singular, without units in brackets' punctuation: "Estimate (h)" is estimate, h. */
function wordsOf(name: string): string[] {
  return snakeCase(name).split('_').filter(Boolean).map(singular);
}

/** The erp table a Coda table most likely fills: by its name, then by the words it is named with. */
export function suggestTarget(tableName: string, names: string[]): string | undefined {
  const wanted = snakeCase(tableName);
  const byName =
    names.find((target) => target === `erp.${wanted}`) ?? names.find((target) => target === `erp.${wanted}s`);
  if (byName) return byName;
  // Each word (and pair of words) names a table; the most named wins, and on a tie the later
  // word, as in "Project Tasks".
  const words = wordsOf(tableName);
  const votes = new Map<string, { count: number; last: number }>();
  const phrases = words.flatMap((word, index) => [
    { phrase: word, index },
    { phrase: `${word}_${words[index + 1] ?? ''}`, index: index + 1 },
  ]);
  for (const { phrase, index } of [{ phrase: words.join('_'), index: words.length }, ...phrases]) {
    const target = TABLE_MEANINGS[phrase] ?? `erp.${phrase}s`;
    if (!names.includes(target)) continue;
    const vote = votes.get(target) ?? { count: 0, last: -1 };
    votes.set(target, { count: vote.count + 1, last: Math.max(vote.last, index) });
  }
  const [best, next] = [...votes].sort((a, b) => b[1].count - a[1].count || b[1].last - a[1].last);
  return best && !(next && next[1].count === best[1].count && next[1].last === best[1].last)
    ? best[0]
    : undefined;
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
 * Workflow words that mean a database value without spelling it ("In Progress" is active, "Done"
 * is completed where the table has no done), tried in order after the words themselves.
 */
const SAME_MEANING: Record<string, string[]> = {
  inprogress: ['active', 'inprogress', 'running'],
  wip: ['active', 'inprogress', 'running'],
  doing: ['active', 'inprogress', 'running'],
  ongoing: ['active', 'inprogress', 'running'],
  started: ['active', 'inprogress', 'running'],
  live: ['active'],
  running: ['running', 'active'],
  inreview: ['review', 'inreview', 'active'],
  review: ['review', 'inreview', 'active'],
  qa: ['review', 'active'],
  testing: ['review', 'active'],
  done: ['done', 'completed', 'delivered'],
  complete: ['completed', 'done'],
  completed: ['completed', 'done'],
  finished: ['completed', 'done'],
  shipped: ['delivered', 'done', 'completed'],
  delivered: ['delivered', 'done', 'completed'],
  won: ['won', 'active', 'completed'],
  signed: ['active', 'accepted'],
  approved: ['accepted', 'active'],
  lost: ['lost', 'cancelled'],
  notstarted: ['todo', 'planned'],
  backlog: ['todo', 'planned'],
  new: ['todo', 'planned', 'idea', 'prospect'],
  open: ['todo', 'planned'],
  next: ['todo', 'planned'],
  upcoming: ['todo', 'planned'],
  ready: ['todo', 'planned'],
  todo: ['todo', 'planned'],
  idea: ['idea', 'draft', 'planned'],
  lead: ['prospect'],
  customer: ['client'],
  buyer: ['client'],
  supplier: ['vendor'],
  provider: ['vendor'],
  contractor: ['vendor'],
  scoping: ['planned', 'todo', 'draft'],
  planning: ['planned', 'todo', 'draft'],
  scheduled: ['planned', 'todo'],
  qualified: ['prospect'],
  proposal: ['proposed'],
  proposalsent: ['proposed'],
  pitched: ['proposed'],
  onhold: ['onhold', 'paused', 'blocked'],
  paused: ['paused', 'onhold', 'blocked'],
  parked: ['onhold', 'paused', 'blocked'],
  onice: ['onhold', 'paused', 'blocked'],
  frozen: ['onhold', 'paused', 'blocked'],
  snoozed: ['onhold', 'paused', 'blocked'],
  blocked: ['blocked', 'onhold'],
  stuck: ['blocked', 'onhold'],
  waiting: ['blocked', 'onhold'],
  canceled: ['cancelled'],
  cancelled: ['cancelled'],
  dropped: ['cancelled'],
  abandoned: ['cancelled'],
  archived: ['retired', 'deprecated', 'closed'],
  closed: ['closed', 'completed', 'done'],
};

/**
 * The allowed value a choice names: by its words, by a workflow word that means it, or as the
 * abbreviation of exactly one allowed value ("Med" for medium, "Canc." for cancelled).
 */
function allowedMatch(choice: string, allowed: string[]): string | undefined {
  const direct = allowed.find((value) => wordsAgree(choice, value));
  if (direct) return direct;
  for (const meaning of SAME_MEANING[squash(choice)] ?? []) {
    const match = allowed.find((value) => squash(value) === meaning);
    if (match) return match;
  }
  const short = squash(choice);
  const abbreviated = allowed.filter((value) => short.length >= 3 && squash(value).startsWith(short));
  return abbreviated.length === 1 ? abbreviated[0] : undefined;
}

/** How high a word ranks on a scale such as a priority, where it is one. */
const RANK: Record<string, number> = {
  critical: 5,
  blocker: 5,
  highest: 5,
  urgent: 4,
  asap: 4,
  high: 3,
  important: 3,
  major: 3,
  medium: 2,
  normal: 2,
  moderate: 2,
  mid: 2,
  med: 2,
  hi: 3,
  low: 1,
  lo: 1,
  minor: 1,
  lowest: 0,
  trivial: 0,
};

/** The allowed values from highest to lowest, when they are a scale (low, medium, high, urgent). */
function orderedScale(allowed: string[]): string[] | undefined {
  const ranks = allowed.map((value) => RANK[squash(value)]);
  if (allowed.length < 2 || ranks.some((rank) => rank === undefined)) return undefined;
  return [...allowed].sort((a, b) => RANK[squash(b)]! - RANK[squash(a)]!);
}

/**
 * Choices that number a scale, P1 (or 1) the highest, mapped in order from the top of the
 * allowed scale; numbers past its bottom take its lowest value.
 */
function numberedScale(choices: string[], scale: string[]): Record<string, string> | undefined {
  const numbers = choices.map((choice) => /^(?:p|priority)?(\d{1,2})$/.exec(squash(choice))?.[1]);
  if (!choices.length || numbers.some((number) => number === undefined)) return undefined;
  const steps = [...new Set(numbers.map(Number))].sort((a, b) => a - b);
  const step = (index: number) => steps.indexOf(Number(numbers[index]));
  return Object.fromEntries(
    choices
      .map((choice, index) => ({ choice, step: step(index) }))
      .sort((a, b) => a.step - b.step)
      .map(({ choice, step }) => [choice, scale[Math.min(step, scale.length - 1)]!]),
  );
}

/** A word of a scale the allowed values do not spell ("Critical"), as the allowed value nearest in rank. */
function nearestInRank(choice: string, scale: string[]): string | undefined {
  const rank = RANK[squash(choice)];
  if (rank === undefined) return undefined;
  return [...scale].sort((a, b) => Math.abs(RANK[squash(a)]! - rank) - Math.abs(RANK[squash(b)]! - rank))[0];
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
    const index = TITLE_COLUMNS.indexOf(target.name);
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

/**
 * A select's value map from the choices the doc holds (and those its format lists): each one
 * that names an allowed value maps to it, by its words or their meaning; a numbered scale
 * (P1, P2 ...) maps in order onto an allowed scale; without a list of allowed values, a choice
 * maps to itself. Notes say what was mapped by meaning or order, for the owner to check.
 */
function choiceValues(
  column: PublicApiColumn,
  target: TargetTable,
  name: string,
  choices: Map<string, number>,
): { values?: Record<string, string>; review: string[]; notes: string[]; allowed?: string[] } {
  const counts = new Map(formatOptions(column).map((option) => [option, 0]));
  for (const [choice, rows] of choices) counts.set(choice, rows);
  const allowed = allowedValues(target, name);
  if (!allowed)
    return formatOf(column).isArray
      ? { review: [], notes: [] }
      : {
          values: Object.fromEntries([...counts.keys()].map((choice) => [choice, choice])),
          review: [],
          notes: [],
        };
  const scale = orderedScale(allowed);
  const numbered = scale && numberedScale([...counts.keys()], scale);
  if (numbered) {
    const shown = Object.keys(numbered);
    return {
      values: numbered,
      review: [],
      notes: [
        `${shown[0]}..${shown.at(-1)} mapped onto ${[...new Set(Object.values(numbered))].join('/')} in order: check`,
      ],
      allowed,
    };
  }
  const values: Record<string, string> = {};
  const review: string[] = [];
  const byMeaning: string[] = [];
  for (const [choice, rows] of counts) {
    const match = allowedMatch(choice, allowed) ?? (scale && nearestInRank(choice, scale));
    if (!match) review.push(describeChoice(choice, rows));
    else {
      values[choice] = match;
      if (!wordsAgree(choice, match)) byMeaning.push(`${choice} -> ${match}`);
    }
  }
  return {
    values,
    review,
    notes: byMeaning.length ? [`by meaning: ${byMeaning.join(', ')}: check`] : [],
    allowed,
  };
}
