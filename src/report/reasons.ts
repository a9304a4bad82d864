/**
 * Why a row was not loaded, a link left empty, or a run not committed, in the owner's words:
 * every reason code of the transform (src/transform/reasons.ts) and of the load
 * (src/load/core/reasons.ts, core/outcomes.ts) worded once, here, by the Coda column's label and
 * the linked row's name and link; every report form quotes these sentences.
 */
import type { OutcomeNote, Refusal, StopNote } from '../load/core/outcomes.ts';
import type { Reason } from '../load/core/reasons.ts';
import { hasName, namedRow, personTitle } from '../shared/names.ts';
import { visible } from '../shared/visible.ts';
import type { CellShape, Expected, PersonRef } from '../transform/reasons.ts';

/** What a cell should have held, after "not". */
const EXPECTED: Record<Expected, string> = {
  text: 'text',
  number: 'a number',
  amount: 'an amount of money (expected e.g. 1500 or "$1,500.00")',
  percentage: 'a percentage',
  date: 'a date (expected e.g. 2024-03-01)',
  datetime: 'a date and time with a time zone (expected e.g. 2024-03-01T09:30:00-05:00)',
  checkbox: 'a checkbox (true or false)',
  person: 'a person',
  row_link: 'a link to a row (the Coda column must be a relation/lookup column)',
};

/** What a column keeps one of, after "keeps one". */
const ONE: Record<Expected, string> = {
  text: 'text',
  number: 'number',
  amount: 'amount',
  percentage: 'percentage',
  date: 'date',
  datetime: 'date and time',
  checkbox: 'checkbox',
  person: 'person',
  row_link: 'linked row',
};

const KINDS = {
  row_link: 'a link to a row',
  person: 'a person',
  money: 'an amount of money',
  object: 'an object',
} as const;

/** A cell as a reason quotes it: text in quotes, a number as is, anything else by its kind and name. */
function cellText(cell: CellShape): string {
  switch (cell.kind) {
    case 'text':
      return `"${cell.text}"`;
    case 'value':
      return cell.text;
    case 'list':
      return `a list of ${cell.count} values`;
    default:
      return cell.name ? `${KINDS[cell.kind]} ("${cell.name}")` : KINDS[cell.kind];
  }
}

/** A value a rule was checked on, as the stage held it. */
function ruleValue(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A person with their email when both are known, as the owner finds them in Coda. */
function personText(person: PersonRef): string {
  return `${personTitle(person)}${person.email && hasName(person.name) ? ` <${person.email}>` : ''}`;
}

/**
 * One reason, as one line that starts with the Coda column it is about; a control character in a
 * quoted Coda value shows as its picture (␀), so the line is safe wherever it is quoted.
 */
export function reasonText(reason: Reason): string {
  return visible(sentence(reason));
}

function sentence(reason: Reason): string {
  switch (reason.code) {
    case 'duplicate_row':
      return 'the row appears more than once in the Coda table (the same row id twice); only its first copy is loaded';
    case 'breaks_rule': {
      const cells = reason.cells.map((cell) => `${cell.column.label} is ${ruleValue(cell.value)}`).join(', ');
      const rule = reason.rule.comment
        ? `the rule "${reason.rule.comment}"`
        : `the database rule ${reason.rule.name}`;
      return `${cells}, which breaks ${rule}; fix the value in Coda or the mapping's values`;
    }
  }
  const label = reason.column.label;
  switch (reason.code) {
    case 'several_values':
      return `${label} holds ${reason.count} values, but the target keeps one ${ONE[reason.expected]}`;
    case 'several_people':
      return `${label} holds ${reason.count} values, but the target keeps one person; to load the first and list the others, set multiple: first on the column`;
    case 'not_convertible':
      return `${label} is ${cellText(reason.value)}, not ${EXPECTED[reason.expected]}`;
    case 'no_such_day':
      return `${label} is ${cellText(reason.value)}, a day that does not exist in the calendar`;
    case 'no_such_time':
      return `${label} is ${cellText(reason.value)}, a time that does not exist`;
    case 'other_currency':
      return `${label} is in ${reason.currency}, but this column holds ${reason.columnCurrency}; convert it in Coda or map it to another column`;
    case 'currency_unrecorded':
      return `${label} is in ${reason.currency}, but the mapping records no currency for it, so its currency would be lost; map the currency code beside it (part: code) or say which currency the column holds (currency: ${reason.currency})`;
    case 'unknown_choice':
      return `${label} "${reason.value}" is not one of the known choices (${reason.known.map((known) => `"${known}"`).join(', ')}); add it to the mapping's values`;
    case 'unknown_tag':
      return `${label} "${reason.value}" is not one of the known tags; add it to the mapping's values`;
    case 'not_a_number_column':
      return `${label} is not a number column`;
    case 'wrong_table':
      return `${label} links to a row of table ${reason.tableId}, but the mapping expects table ${reason.expectedTableId}`;
    case 'contains_nul':
      return `${label} contains an invisible NUL character, which the database cannot store; remove it in Coda`;
    case 'required_empty':
      return `${label} is empty, but a value is required`;
    case 'people_left_out':
      return `${label} names ${reason.leftOut.length + 1} people; the column keeps one, so ${personTitle(reason.kept)} was loaded and ${reason.leftOut.map(personTitle).join(', ')} not (the mapping says multiple: first)`;
    case 'parent_rejected': {
      const { parent } = reason;
      const link = parent.browserLink ? ` (${parent.browserLink})` : '';
      const without = reason.loadedWithoutLink
        ? '; loaded without the link, as the mapping says (links.rejected_parent)'
        : '';
      return `${label} links to ${namedRow(parent.rowName, parent.table)}${link}, which was rejected in this run (${reasonsText(reason.parentReasons)})${without}`;
    }
    case 'link_not_found':
      return `${label} links to ${hasName(reason.rowName) ? `"${reason.rowName}"` : 'a row with no name'}, which is not in the database: that row is missing from Coda or was never loaded`;
    case 'person_not_found':
      return `${label} names ${personText(reason.person)}, who is not among the people in Postgres${reason.person.email ? '' : ' (or shares the name with someone else)'}; add them, give them an email in Coda, or set "unknown: create" in ${reason.mappingFile}`;
  }
}

/** A row's reasons, in one line. */
export function reasonsText(reasons: readonly Reason[]): string {
  return reasons.map(reasonText).join('; ');
}

/** Why a cutover or an undo did not commit, or a reconcile found differences, and what to do. */
export function outcomeNoteText(note: OutcomeNote): string {
  switch (note.code) {
    case 'data_left_behind':
      return `${note.count} Coda column(s) or table(s) hold data that no mapping loads; map them, declare them skipped in their mapping (skip:), or run the cutover again with --accept-unmapped to leave them behind on purpose`;
    case 'too_many_rejects':
      return `${note.rejected} row(s) were rejected and at most ${note.maxRejects} may be (--max-rejects); fix them in Coda or the mappings, then run again`;
    case 'unsettled_conflicts':
      return `${note.count} row(s) were edited or deleted in Postgres since the last load and Coda would change them; say which side wins with --prefer coda|postgres, or per row with --decisions FILE, then run again`;
    case 'differences_remain':
      return `reconciliation failed: ${note.count} difference(s) with Coda remain after loading`;
    case 'new_differences':
      return `${note.count} difference(s) with Coda that no cutover accepted`;
    case 'undo_blocked':
      return `${note.rows} row(s) changed in Postgres or depended on since cutover ${note.cutover}; nothing was undone. Run again with --keep-changed to undo the rest and keep those rows as they are now`;
  }
}

/** Why a run would not start, or an undo would not take a cutover back, and what to do. */
export function refusalText(refusal: Refusal): string {
  // A run id given on the command line is quoted as typed.
  return visible(refusalSentence(refusal));
}

function refusalSentence(refusal: Refusal): string {
  switch (refusal.code) {
    case 'run_in_progress': {
      const { other } = refusal;
      const which = other ? ` (run ${other.runId}, ${other.mode}, started ${other.startedAt})` : '';
      return `another run (a plan, cutover, reconcile or undo) is in progress${which}; wait for it to finish, then try again`;
    }
    case 'nothing_to_undo':
      return refusal.unchanged
        ? `no committed cutover to undo changed anything: the last ${refusal.unchanged} changed no row`
        : 'no committed cutover to undo';
    case 'not_a_run_id':
      return `"${refusal.given}" is no run id; give the number the cutover's report shows after "Run"`;
    case 'no_such_run':
      return `there is no run ${refusal.runId}`;
    case 'not_a_committed_cutover':
      return `run ${refusal.runId} is a ${refusal.mode} that ended ${refusal.outcome.replaceAll('_', ' ')}; only a committed cutover can be undone`;
    case 'already_undone':
      return `cutover ${refusal.runId} was already undone (by run ${refusal.undoneBy})`;
    case 'later_cutovers':
      return `cutover ${refusal.runId} was followed by cutover ${refusal.later.join(', ')}, which may have changed the same rows; undo ${refusal.later.length > 1 ? 'those' : 'that one'} first (\`erp undo\` undoes the latest that changed something)`;
    case 'no_pg_dump':
      return 'a cutover backs up the database first and needs pg_dump, which is not installed; install the Postgres 15 client (Debian: apt-get install postgresql-client-15) or set PG_DUMP to its path. Nothing was changed';
    case 'before_row_history':
      return `cutover ${refusal.runId} ran before row history was kept (migration 007), so it cannot be undone row by row; restore the backup it took instead (docs/RUNBOOK.md, "Backup and restore")`;
  }
}

/** A run that committed, and then failed at `failure`: the commit stands, and is said first. */
export function committedThenFailedText(runId: string, failure: string): string {
  return visible(`COMMITTED (run ${runId}); then this failed: ${failure}`);
}

/** Why a run stopped before it committed, and that nothing was. */
export function stoppedText(note: StopNote): string {
  switch (note.code) {
    case 'interrupted':
      return `interrupted (${note.signal}): nothing was committed, the database is as it was`;
    case 'connection_lost':
      return visible(
        `the connection to the database was lost during the ${note.mode} (${note.error}); nothing was committed, so the database is as it was`,
      );
  }
}
