/**
 * The first thing every report says: whether the owner can sign off, and if not, what is left to
 * decide, what each decision needs (a fix in Coda, a change to the mapping, a command that accepts
 * it) and the exact command to run next. Every form renders this one wording.
 */
import type { Difference } from '../load/reconcile/types.ts';
import type { ReportBody } from './document.ts';
import { plural } from './lists.ts';

export interface SignOff {
  /** good: safe to sign off; info: nothing to decide yet; warn: decisions before a cutover; bad: refused or differs. */
  tone: 'good' | 'info' | 'warn' | 'bad';
  /** The one sentence the owner acts on. */
  sentence: string;
  /** Each thing left to decide, with what it needs. */
  decisions: string[];
  /** The command to run next, and why. */
  next: { command: string; why: string } | null;
}

/** What a cutover cannot accept: it refuses while any of these remains after its load. */
const BLOCKING_KINDS: readonly Difference['kind'][] = ['missing', 'differs', 'total'];

export const SAFE_TO_SIGN = 'Safe to sign off: every Coda value is in Postgres or listed below as accepted.';

/** An erp command as the owner types it, from the repository's folder. */
export function erpCommand(verb: string, mappingsFolder: string | null, ...flags: string[]): string {
  const quote = (arg: string) => (/^[\w./=:@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  const args = [verb, ...(mappingsFolder ? ['--mappings', mappingsFolder] : []), ...flags];
  return `npm run erp -- ${args.map(quote).join(' ')}`;
}

type SignOffBody = Pick<
  ReportBody,
  'mode' | 'outcome' | 'tables' | 'differences' | 'vocabulary' | 'maxRejects' | 'acceptUnmapped'
>;

/** What the differences no cutover accepted ask of the owner, one decision per kind of cause. */
function differenceDecisions(
  fresh: readonly Difference[],
  command: (verb: string, ...flags: string[]) => string,
): string[] {
  const count = (...kinds: Difference['kind'][]) => fresh.filter((item) => kinds.includes(item.kind)).length;
  const changed = count('missing', 'differs');
  const rejected = count('rejected');
  const links = count('link_left_empty');
  const extra = count('extra');
  const kept = count('kept_in_postgres');
  const totals = count('total');
  return [
    changed
      ? `${plural(changed, 'row')} changed in Coda since the last cutover (missing from Postgres or different): load them with a cutover, after a plan (${command('plan')}).`
      : '',
    rejected
      ? `${plural(rejected, 'row')} in Coda that would be rejected: fix them in Coda or change the mapping (listed below with the reason).`
      : '',
    links ? `${plural(links, 'link')} left empty: fix the linked rows in Coda.` : '',
    extra
      ? `${plural(extra, 'row')} in Postgres that no Coda row of this doc produced: check whether they belong there (they are kept).`
      : '',
    kept
      ? `${plural(kept, 'row')} edited in Postgres since the last load: choose which side wins with ${command('cutover', '--prefer', 'coda')} or --prefer postgres.`
      : '',
    totals
      ? `${plural(totals, 'business total')} that rejected and extra rows do not explain: look at the rows behind ${totals === 1 ? 'it' : 'them'} before signing off.`
      : '',
  ].filter(Boolean);
}

export function signOff(body: SignOffBody): SignOff {
  const command = (verb: string, ...flags: string[]) =>
    erpCommand(verb, body.vocabulary.mappingsFolder, ...flags);
  const fresh = body.differences.filter((item) => item.acceptedByRun === null);
  // Data a cutover was told to leave behind is decided, even when the cutover rolled back for another reason.
  const leftBehind = body.acceptUnmapped ? 0 : fresh.filter((item) => item.leftBehind).length;
  const rejected = body.tables.reduce((sum, table) => sum + table.rejects.length, 0);
  // A plan is held to what a cutover allows by default; rejects a cutover was allowed are decided.
  const tooManyRejects = rejected > (body.maxRejects ?? 0);
  const unsettled = body.tables.reduce(
    (sum, table) => sum + table.conflicts.filter((conflict) => conflict.winner === null).length,
    0,
  );
  const beforeCutover = [
    leftBehind
      ? `${plural(leftBehind, 'Coda column or table', 'Coda columns or tables')} ${leftBehind === 1 ? 'holds' : 'hold'} data no mapping loads: change the mapping (load ${leftBehind === 1 ? 'it' : 'them'}, or skip: with a reason), or leave ${leftBehind === 1 ? 'it' : 'them'} behind on purpose with ${command('cutover', '--accept-unmapped')}.`
      : '',
    tooManyRejects
      ? `${plural(rejected, 'row')} ${body.mode === 'plan' ? 'would be' : 'were'} rejected: fix them in Coda or change the mapping (each group below says which), or accept them with ${command('cutover', '--max-rejects', String(rejected))}.`
      : '',
    unsettled
      ? `${plural(unsettled, 'row')} edited or deleted in Postgres since the last load, which Coda would change: choose which side wins with ${command('cutover', '--prefer', 'coda')} or --prefer postgres (or per row with --decisions FILE).`
      : '',
  ].filter(Boolean);
  const notYet = (decisions: string[], lead = 'Not yet') =>
    `${lead}: ${plural(decisions.length, 'thing')} to decide.`;

  switch (body.outcome) {
    case 'planned':
      return beforeCutover.length
        ? {
            tone: 'warn',
            sentence: notYet(beforeCutover, 'Not ready for the cutover yet'),
            decisions: beforeCutover,
            next: {
              command: command('plan'),
              why: 'after each change in Coda or the mapping, to see it settled',
            },
          }
        : {
            tone: 'info',
            sentence: 'Ready for the cutover: nothing to decide.',
            decisions: [],
            next: { command: command('cutover'), why: 'loads what this plan lists, with a backup first' },
          };
    case 'committed':
      return {
        tone: 'good',
        sentence: SAFE_TO_SIGN,
        decisions: [],
        next: {
          command: command('reconcile'),
          why: `checks Postgres against Coda again at any time; ${command('undo', '--dry-run')} shows what taking this cutover back would do`,
        },
      };
    case 'rolled_back': {
      const blocking = differenceDecisions(
        fresh.filter((item) => BLOCKING_KINDS.includes(item.kind)),
        command,
      );
      const decisions = [...beforeCutover, ...blocking];
      // What the owner already accepted stays accepted on the next try.
      const accepted =
        body.acceptUnmapped && fresh.some((item) => item.leftBehind) ? ['--accept-unmapped'] : [];
      return {
        tone: 'bad',
        sentence: `Not yet: the cutover was refused and nothing was written; ${plural(Math.max(decisions.length, 1), 'thing')} to decide.`,
        decisions,
        next: { command: command('cutover', ...accepted), why: 'once each of these is decided' },
      };
    }
    case 'reconciled':
      return { tone: 'good', sentence: SAFE_TO_SIGN, decisions: [], next: null };
    case 'differences': {
      const decisions = [
        ...(leftBehind ? [beforeCutover[0]!] : []),
        ...differenceDecisions(
          fresh.filter((item) => !item.leftBehind),
          command,
        ),
      ];
      return {
        tone: 'bad',
        sentence: notYet(decisions),
        decisions,
        next: { command: command('plan'), why: 'shows what a cutover would load to settle these' },
      };
    }
  }
}
