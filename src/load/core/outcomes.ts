/**
 * Why a run ended as it did, as a code and its data: the reports word the owner's part
 * (src/report/reasons.ts), and pipeline.runs.outcome_note keeps the whole as JSON.
 */

/** Why a cutover or an undo did not commit, or a reconcile found Postgres unlike Coda. */
export type OutcomeNote =
  /** Coda columns or tables hold data no mapping loads or skips, and --accept-unmapped was not given. */
  | { code: 'data_left_behind'; count: number }
  | { code: 'too_many_rejects'; rejected: number; maxRejects: number }
  /** Rows edited or deleted in Postgres that Coda would change, and nobody said which side wins. */
  | { code: 'unsettled_conflicts'; count: number }
  /** The cutover's own reconciliation found differences no cutover may accept. */
  | { code: 'differences_remain'; count: number }
  | { code: 'new_differences'; count: number }
  /** Rows changed in Postgres or depended on since the cutover an undo would revert. */
  | { code: 'undo_blocked'; rows: number; cutover: string };

/** What pipeline.runs.outcome_note holds: the outcome's note, or how a run ended early. */
export type RunNote =
  | OutcomeNote
  /** An error stopped the run before it committed; `error` is its message. */
  | { code: 'failed'; error: string }
  | StopNote
  /** Its process died (killed, crashed) while it ran; found and marked by a later run. */
  | { code: 'abandoned'; committed: boolean }
  /** The run committed, then recording it or writing its reports failed. */
  | { code: 'committed_then_failed'; error: string };

/** Why a run stopped before it committed, though nothing in it went wrong: nothing was committed. */
export type StopNote =
  | { code: 'interrupted'; signal: string }
  /** The database connection went away mid-run; `error` is the driver's message. */
  | { code: 'connection_lost'; mode: string; error: string };

/** Why a run would not start, or an undo would not take a cutover back; nothing was changed. */
export type Refusal =
  /** Another run holds the lock; which one, when it is on record. */
  | { code: 'run_in_progress'; other: { runId: string; mode: string; startedAt: string } | null }
  /** No committed cutover is left to undo, or the last `unchanged` of them changed no row. */
  | { code: 'nothing_to_undo'; unchanged: number }
  | { code: 'not_a_run_id'; given: string }
  | { code: 'no_such_run'; runId: string }
  | { code: 'not_a_committed_cutover'; runId: string; mode: string; outcome: string }
  | { code: 'already_undone'; runId: string; undoneBy: string }
  /** Later cutovers changed rows too: they are undone first, latest first. */
  | { code: 'later_cutovers'; runId: string; later: string[] }
  /** A cutover backs up the database first, and no pg_dump was found (PATH, PG_DUMP). */
  | { code: 'no_pg_dump' }
  /** The cutover ran before row history (migration 007): only its backup takes it back. */
  | { code: 'before_row_history'; runId: string };
