/**
 * A select's Coda choices matched to the values a target column allows: by their words, by a
 * workflow word that means one, by abbreviation, or in order on a ranked scale.
 */
import type { PublicApiColumn } from '../extract/index.ts';
import { describeChoice } from './choices.ts';
import { formatOf, formatOptions } from './coda-columns.ts';
import { snakeCase } from './column-words.ts';
import type { TargetTable } from './target-schema.ts';

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
export function allowedMatch(choice: string, allowed: string[]): string | undefined {
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

/**
 * A select's value map from the choices the doc holds (and those its format lists): each one
 * that names an allowed value maps to it, by its words or their meaning; a numbered scale
 * (P1, P2 ...) maps in order onto an allowed scale; without a list of allowed values, a choice
 * maps to itself. Notes say what was mapped by meaning or order, for the owner to check.
 */
export function choiceValues(
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
