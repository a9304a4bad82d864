/**
 * Why the transform refuses a cell or a row, as a code and the data its words need: src/report
 * (reasons.ts) words each code once, in the owner's vocabulary. Self-contained, so a reason reads
 * the same quoted under another row (a rejected parent's) or read back from pipeline.rejects.
 */

/** A person as a Coda cell names them. */
export interface PersonRef {
  name: string;
  email: string | null;
}

/** A Coda column as a reason names it: the erp column it fills, and the Coda column's label. */
export interface ColumnRef {
  column: string;
  label: string;
}

/** What a conversion expected a cell to hold. */
export type Expected =
  | 'text'
  | 'number'
  | 'amount'
  | 'percentage'
  | 'date'
  | 'datetime'
  | 'checkbox'
  | 'person'
  | 'row_link';

/** A cell as a reason shows it: its text (cut), a number or checkbox as is, or its kind and name. */
export type CellShape =
  | { kind: 'text' | 'value'; text: string }
  | { kind: 'list'; count: number }
  | { kind: 'row_link' | 'person' | 'money' | 'object'; name: string | null };

/** Why convert.ts could not take a cell. */
export type ConversionFailure =
  | { code: 'several_values'; count: number; expected: Expected }
  | { code: 'not_convertible'; value: CellShape; expected: Expected }
  | { code: 'no_such_day'; value: CellShape }
  | { code: 'no_such_time'; value: CellShape }
  | { code: 'other_currency'; currency: string; columnCurrency: string }
  | { code: 'currency_unrecorded'; currency: string }
  | { code: 'unknown_choice'; value: string; known: string[] }
  | { code: 'unknown_tag'; value: string }
  | { code: 'not_a_number_column' };

/** Why the transform refuses a cell of a column. */
export type CellFailure =
  | ConversionFailure
  /** A Person column keeping one person got several (multiple: first would keep the first). */
  | { code: 'several_people'; count: number }
  /** A link to a row of another Coda table than the mapping's `table:` (both are Coda table ids). */
  | { code: 'wrong_table'; tableId: string; expectedTableId: string }
  | { code: 'contains_nul' }
  | { code: 'required_empty' };

/** Why the transform rejects a row: a cell of one of its columns, or the row itself. */
export type TransformReason =
  | (CellFailure & { column: ColumnRef })
  /** The Coda row id was read before in the same table. */
  | { code: 'duplicate_row' };

/** A cell loaded in part, as the mapping allows: the people after the first (multiple: first). */
export interface PeopleLeftOut {
  code: 'people_left_out';
  column: ColumnRef;
  kept: PersonRef;
  leftOut: PersonRef[];
}
