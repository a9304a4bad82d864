/**
 * Why the database side of the load rejects a row or leaves a link empty, as a code and the data
 * its words need, beside the transform's reasons (src/transform/reasons.ts): src/report/reasons.ts
 * words them all.
 */
import type { ColumnRef, PeopleLeftOut, PersonRef, TransformReason } from '../../transform/reasons.ts';
import type { Reject } from '../../transform/transform.ts';

/** A linked row as the owner finds it in Coda: its table's name, its name and link. */
export interface LinkedRow {
  table: string;
  rowId: string;
  rowName: string;
  browserLink: string;
}

/** The link points at a row rejected earlier in the run, which takes this row along. */
export interface ParentRejected {
  code: 'parent_rejected';
  column: ColumnRef;
  parent: LinkedRow;
  /** Why the parent was rejected, in turn. */
  parentReasons: RejectReason[];
  /** Whether the link column is required: then `links.rejected_parent: load_without_link` cannot help. */
  linkRequired: boolean;
  /** The row was loaded with the link left empty, as the mapping says (links.rejected_parent). */
  loadedWithoutLink: boolean;
}

export type LoadReason =
  | ParentRejected
  /** A linked row the database does not hold: missing from Coda, or never loaded. */
  | { code: 'link_not_found'; column: ColumnRef; rowName: string }
  /** A person erp.people does not hold (or holds twice under that name), and the mapping does not create. */
  | { code: 'person_not_found'; column: ColumnRef; person: PersonRef; mappingFile: string }
  /** One of the target's CHECK constraints: its comment in words, else its name. */
  | {
      code: 'breaks_rule';
      cells: { column: ColumnRef; value: unknown }[];
      rule: { comment: string | null; name: string };
    };

/** Every reason a row of a run is not loaded. */
export type RejectReason = TransformReason | LoadReason;

/** A rejected row of a run, whichever stage rejected it. */
export type RunReject = Reject<RejectReason>;

/** Why a link is left empty, or a cell loaded in part. */
export type LinkReason =
  | ParentRejected
  | Extract<LoadReason, { code: 'link_not_found' | 'person_not_found' }>
  | PeopleLeftOut;

/** Any reason a report words. */
export type Reason = RejectReason | LinkReason;
