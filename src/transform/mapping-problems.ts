/**
 * What is wrong with a mapping file, as a code and the data its words need: src/report
 * (mapping-problems.ts) words each code once, naming the file, the field and the fix, for whoever
 * edits the mappings. The file's own checks (mapping-spec.ts), the check against the doc
 * (transform.ts) and the check against the database (src/load/core/load-plan.ts) all say it here.
 */

/** The rules of the file's shape whose fix the report spells out, by the value the field needs. */
export const FIELD_RULES = [
  'coda_column_id',
  'coda_column_id_not_name',
  'coda_table_id',
  'coda_base_table_id',
  'person_policy',
  'multiple_policy',
  'rejected_parent_policy',
  'value_map',
  'currency_code',
  'needs_as',
  'skip_reason',
  'target_column_name',
  'target_table',
  'some_column',
  'required',
] as const;
export type FieldRule = (typeof FIELD_RULES)[number];

/** A Coda table or column by its id and the name the doc gives it. */
export interface CodaNamed {
  id: string;
  name: string;
}

/** Where a problem is: the mapping file as given, and its field (`columns.owner_person_id.from`). */
interface InFile {
  file: string;
}
interface AtField extends InFile {
  field: string;
}

/** What a mapping file holds that it should not: read from the file alone. */
export type FileProblem =
  /** `line` is null when the parser does not say where; `error` is the parser's own first line. */
  | (InFile & { code: 'not_yaml'; line: number | null; error: string })
  | (AtField & { code: 'breaks_rule'; rule: FieldRule })
  /** A check of the file's shape that has no rule of ours: `detail` is the schema library's message. */
  | (AtField & { code: 'invalid_field'; detail: string })
  | (AtField & { code: 'unknown_fields'; keys: string[] })
  /** The file declares its Coda table skipped where a mapping is needed. */
  | (InFile & { code: 'declared_skipped'; codaTable: string })
  | (AtField & { code: 'skipped_and_loaded'; target: string })
  /** Two files for one Coda table (`coda_table`) or one target table (`target_table`). */
  | { code: 'mapped_twice'; what: 'coda_table' | 'target_table'; value: string; files: [string, string] }
  | { code: 'no_mappings_folder'; dir: string }
  | { code: 'no_mapping_files'; dir: string };

/** What a mapping names that the doc does not have, told from the doc's tables and columns. */
export type DocProblem =
  /** None of the folder's mappings is for a table of this doc; `example` when it is the example's folder. */
  | { code: 'mappings_of_another_doc'; dir: string; docId: string; example: boolean }
  | (AtField & { code: 'no_such_coda_table'; docId: string; table: CodaNamed; tables: CodaNamed[] })
  /** A mapped column (`columns.<target>.from`) the table lacks; `label` is the mapping's name for it. */
  | (AtField & {
      code: 'no_such_coda_column';
      table: CodaNamed;
      column: string;
      label: string | null;
      columns: CodaNamed[];
    })
  /** A skipped column (`skip.<id>`) the table lacks. */
  | (AtField & {
      code: 'skipped_column_gone';
      table: CodaNamed;
      column: string;
      label: string | null;
      columns: CodaNamed[];
    })
  /** The mapping was checked against another table than its own (`checked`). */
  | (AtField & { code: 'other_coda_table'; mapped: string; checked: string })
  /** A choice the doc holds in `rows` rows that the value map leaves out; `allowed`: the values the column takes, when known. */
  | (AtField & { code: 'choice_not_mapped'; choice: string; rows: number; allowed: string[] | null })
  /** A Coda column of a mapped table holding data that the mapping neither loads nor skips. */
  | (InFile & { code: 'column_left_behind'; column: CodaNamed; cells: number; examples: string[] })
  /** A Coda table holding rows that no file of the folder names. */
  | { code: 'table_left_behind'; table: CodaNamed; rows: number };

/** What a mapping asks of the database that its tables cannot do, told from the catalog. */
export type DatabaseProblem =
  | (AtField & { code: 'no_such_target_table'; target: string })
  | (AtField & { code: 'no_such_target_column'; target: string; column: string; columns: string[] })
  | (AtField & { code: 'filled_by_database'; target: string; column: string })
  /** `type` is the column's Postgres type. */
  | (AtField & { code: 'conversion_unfit'; target: string; column: string; as: string; type: string })
  | (AtField & { code: 'may_be_empty'; target: string; column: string })
  /** A lookup's `table:` that is neither loaded by a mapping nor in the doc. */
  | (AtField & { code: 'no_such_linked_table'; codaTable: string })
  /**
   * The column's foreign key points at `references` (null: at nothing), the link at `resolvesTo`
   * (null: a table of the doc whose erp table the foreign key would have said).
   */
  | (AtField & {
      code: 'links_elsewhere';
      target: string;
      column: string;
      as: 'person' | 'lookup';
      references: string | null;
      resolvesTo: string | null;
    })
  | (AtField & { code: 'must_be_mapped'; target: string; column: string })
  | (InFile & { code: 'links_to_itself'; target: string })
  /** The tables whose links form a cycle, none of which can load first. */
  | { code: 'link_cycle'; tables: { file: string; target: string }[] };

export type MappingProblem = FileProblem | DocProblem | DatabaseProblem;

/**
 * Mappings that cannot be used as they are, with every problem found. The message lists the codes
 * for logs and the run's record; the owner reads the report's words (mappingProblemsText).
 */
export class MappingError extends Error {
  /** `refusedRun`: the folder of mappings a run refused before reading a row or writing anything. */
  constructor(
    readonly problems: readonly MappingProblem[],
    readonly refusedRun: string | null = null,
  ) {
    super(
      problems
        .map((problem) =>
          ['file' in problem ? problem.file : '', 'field' in problem ? problem.field : '', problem.code]
            .filter(Boolean)
            .join(' '),
        )
        .join('; '),
    );
    this.name = 'MappingError';
  }
}
