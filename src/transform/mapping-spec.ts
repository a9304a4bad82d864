/**
 * Mapping specs: one YAML file per Coda table under mappings/, saying which erp table it fills
 * and, per target column, which Coda column (by id: names change, ids do not) and conversion.
 * Renaming a Coda column, or adding a select value, is an edit to a file, not to code.
 *
 * Files are checked when loaded; each problem is a code with its file and field
 * (mapping-problems.ts), which src/report words with the fix.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import {
  FIELD_RULES,
  MappingError,
  type FieldRule,
  type FileProblem,
  type MappingProblem,
} from './mapping-problems.ts';

export const MAPPINGS_DIR = 'mappings';

/**
 * A check's message is the code of the rule it enforces, worded by the report: the schema library
 * carries it to the issue, describeIssues takes it back as a code.
 */
const isFieldRule = (message: string): message is FieldRule =>
  (FIELD_RULES as readonly string[]).includes(message);
const rule = (code: FieldRule) => code;

const codaColumnId = z
  .string({ error: rule('coda_column_id') })
  .regex(/^c-[A-Za-z0-9_-]+$/, rule('coda_column_id_not_name'));
const codaTableId = z
  .string({ error: rule('coda_table_id') })
  .regex(/^grid-[A-Za-z0-9_-]+$/, rule('coda_base_table_id'));
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const personPolicy = z.enum(['create', 'reject'], { error: rule('person_policy') });
const valueMap = z.record(z.string(), z.string(), { error: rule('value_map') });

/** What every column that reads a Coda cell has in common. */
const fromCoda = {
  from: codaColumnId,
  /** The Coda column's name when the file was written, for humans; never used to look it up. */
  label: z.string().optional(),
  /** An empty cell rejects the row instead of taking the default. */
  required: z.boolean().default(false),
  /** Used when the cell is empty. */
  default: scalar.optional(),
};

const columnSpec = z.discriminatedUnion(
  'as',
  [
    z.strictObject({ as: z.literal('text'), ...fromCoda }),
    z.strictObject({ as: z.literal('number'), ...fromCoda }),
    z.strictObject({
      as: z.literal('currency'),
      ...fromCoda,
      /** amount (default) loads the number; code loads the currency code, for a currency column beside it. */
      part: z.enum(['amount', 'code']).default('amount'),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, rule('currency_code'))
        .optional(),
    }),
    z.strictObject({
      as: z.literal('percent'),
      ...fromCoda,
      scale: z.enum(['fraction', 'percent']).default('fraction'),
    }),
    z.strictObject({ as: z.literal('date'), ...fromCoda }),
    z.strictObject({ as: z.literal('datetime'), ...fromCoda }),
    z.strictObject({ as: z.literal('checkbox'), ...fromCoda }),
    z.strictObject({ as: z.literal('select'), ...fromCoda, values: valueMap }),
    z.strictObject({ as: z.literal('tags'), ...fromCoda, values: valueMap.optional() }),
    z.strictObject({ as: z.literal('list'), ...fromCoda }),
    z.strictObject({
      as: z.literal('person'),
      ...fromCoda,
      unknown: personPolicy.optional(),
      /**
       * A cell naming several people, for a column that keeps one: reject (default) rejects the
       * row; first loads the first person and lists the others on the row in every report.
       */
      multiple: z.enum(['reject', 'first'], { error: rule('multiple_policy') }).default('reject'),
    }),
    z.strictObject({ as: z.literal('lookup'), ...fromCoda, table: codaTableId }),
    z.strictObject({ as: z.literal('constant'), value: scalar }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' && issue.note === 'No matching discriminator'
        ? rule('needs_as')
        : undefined,
  },
);

const skipReason = z
  .string({ error: rule('skip_reason') })
  .trim()
  .min(1, rule('skip_reason'));

/**
 * A Coda column deliberately not loaded, with the reason the owner reads in every report:
 * `c-AbC123: "kept in Coda"` or `c-AbC123: { label: Budget, reason: "kept in Coda" }`.
 */
const skippedColumn = z.preprocess(
  (value) => (typeof value === 'string' ? { reason: value } : value),
  z.strictObject({ label: z.string().optional(), reason: skipReason }),
);

const targetColumnName = z.string().regex(/^[a-z_][a-z0-9_]*$/, rule('target_column_name'));

const mappingSpecSchema = z.strictObject({
  coda: z.strictObject({
    table: codaTableId,
    /** The table's name when the file was written, for humans. */
    name: z.string(),
  }),
  target: z.string().regex(/^erp\.[a-z_][a-z0-9_]*$/, rule('target_table')),
  /** What happens to a Person value that matches nobody in erp.people (by email, then exact name). */
  people: z.strictObject({ unknown: personPolicy }).default({ unknown: 'reject' }),
  /**
   * What happens to a row whose link points at a row rejected in the same run: by default it is
   * rejected too (naming the parent and why); load_without_link loads it with the link empty,
   * listed as an accepted difference. A required link always rejects.
   */
  links: z
    .strictObject({
      rejected_parent: z.enum(['reject', 'load_without_link'], { error: rule('rejected_parent_policy') }),
    })
    .default({ rejected_parent: 'reject' }),
  columns: z
    .record(targetColumnName, columnSpec)
    .refine((columns) => Object.keys(columns).length > 0, rule('some_column')),
  /** Coda columns (by id) that are not loaded on purpose, each with its reason. */
  skip: z.record(codaColumnId, skippedColumn).default({}),
});

/**
 * A whole Coda table deliberately not loaded: `coda: {...}` and `skip: "why"`, and nothing else.
 * Without such a file, a table no mapping names is listed in every report as left behind.
 */
const skippedTableSchema = z.strictObject({
  coda: z.strictObject({ table: codaTableId, name: z.string() }),
  skip: skipReason,
});

export type MappingSpec = z.output<typeof mappingSpecSchema>;
export type SkippedColumn = MappingSpec['skip'][string];
export type ColumnSpec = MappingSpec['columns'][string];
export type CodaColumnSpec = Exclude<ColumnSpec, { as: 'constant' }>;

/** The Postgres column types each conversion can fill. */
export const TARGET_TYPES: Record<Exclude<ColumnSpec['as'], 'constant'>, readonly string[]> = {
  text: ['text', 'character varying'],
  number: ['numeric', 'integer', 'bigint', 'smallint', 'real', 'double precision'],
  currency: ['numeric'],
  percent: ['numeric'],
  date: ['date'],
  datetime: ['timestamp with time zone'],
  checkbox: ['boolean'],
  select: ['text'],
  tags: ['text[]'],
  list: ['jsonb', 'text[]'],
  person: ['bigint'],
  lookup: ['bigint'],
};

export interface LoadedMapping {
  /** Path as given, for messages. */
  file: string;
  spec: MappingSpec;
}

/** A Coda table the owner keeps out of Postgres, and why. */
export interface SkippedTable {
  file: string;
  table: { id: string; name: string };
  reason: string;
}

function fieldPath(segments: readonly PropertyKey[]): string {
  return (
    segments
      .map((segment, index) =>
        typeof segment === 'number' ? `[${segment}]` : `${index ? '.' : ''}${String(segment)}`,
      )
      .join('') || '(top level)'
  );
}

export function parseMappingSpec(file: string, text: string): LoadedMapping {
  const parsed = parseMappingFile(file, text);
  if ('spec' in parsed) return parsed;
  throw new MappingError([{ code: 'declared_skipped', file, codaTable: parsed.table.name }]);
}

/** A field left out reads as the rule that it is required, not as the schema library's type error. */
const MISSING_IS_REQUIRED = {
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? ('required' satisfies FieldRule) : undefined,
};

function describeIssues(file: string, issues: z.core.$ZodIssue[]): MappingError {
  return new MappingError(
    issues.map((issue): FileProblem => {
      const field = fieldPath(issue.path);
      if (issue.code === 'unrecognized_keys')
        return { code: 'unknown_fields', file, field, keys: issue.keys };
      const message =
        issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      return isFieldRule(message)
        ? { code: 'breaks_rule', file, field, rule: message }
        : { code: 'invalid_field', file, field, detail: message };
    }),
  );
}

/**
 * One file of a mappings folder: a mapping, or a table declared skipped (a top-level `skip:`
 * reason and no `target:`).
 */
export function parseMappingFile(file: string, text: string): LoadedMapping | SkippedTable {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new MappingError([
      {
        code: 'not_yaml',
        file,
        line: error instanceof YAMLParseError && error.linePos ? error.linePos[0].line : null,
        error: (error as Error).message.split('\n')[0]!,
      },
    ]);
  }
  const isSkippedTable =
    typeof document === 'object' &&
    document !== null &&
    !('target' in document) &&
    typeof (document as { skip?: unknown }).skip === 'string';
  if (isSkippedTable) {
    const skipped = skippedTableSchema.safeParse(document, MISSING_IS_REQUIRED);
    if (!skipped.success) throw describeIssues(file, skipped.error.issues);
    return {
      file,
      table: { id: skipped.data.coda.table, name: skipped.data.coda.name },
      reason: skipped.data.skip,
    };
  }
  const parsed = mappingSpecSchema.safeParse(document, MISSING_IS_REQUIRED);
  if (!parsed.success) throw describeIssues(file, parsed.error.issues);
  const problems = Object.entries(parsed.data.columns).flatMap(([target, column]): FileProblem[] =>
    column.as !== 'constant' && column.from in parsed.data.skip
      ? [{ code: 'skipped_and_loaded', file, field: `skip.${column.from}`, target }]
      : [],
  );
  if (problems.length) throw new MappingError(problems);
  return { file, spec: parsed.data };
}

/**
 * Every mapping in a folder, and every problem found in it (each names its file, field and fix):
 * a file that does not parse, or two files for the same Coda table or target table.
 */
async function readFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new MappingError([{ code: 'no_mappings_folder', dir }]);
  }
}

export interface MappingFolder {
  mappings: LoadedMapping[];
  skippedTables: SkippedTable[];
}

export async function readMappingFolder(
  dir = MAPPINGS_DIR,
): Promise<MappingFolder & { problems: MappingProblem[] }> {
  const files = (await readFolder(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  if (!files.length)
    return { mappings: [], skippedTables: [], problems: [{ code: 'no_mapping_files', dir }] };
  const mappings: LoadedMapping[] = [];
  const skippedTables: SkippedTable[] = [];
  const problems: MappingProblem[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    try {
      const parsed = parseMappingFile(file, await readFile(file, 'utf8'));
      if ('spec' in parsed) mappings.push(parsed);
      else skippedTables.push(parsed);
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      problems.push(...error.problems);
    }
  }
  const codaTables = [
    ...mappings.map(({ file, spec }) => ({ file, value: spec.coda.table })),
    ...skippedTables.map(({ file, table }) => ({ file, value: table.id })),
  ];
  const targets = mappings.map(({ file, spec }) => ({ file, value: spec.target }));
  for (const [entries, what] of [
    [codaTables, 'coda_table'],
    [targets, 'target_table'],
  ] as const) {
    const seen = new Map<string, string>();
    for (const { file, value } of entries) {
      const other = seen.get(value);
      if (other) problems.push({ code: 'mapped_twice', what, value, files: [file, other] });
      seen.set(value, file);
    }
  }
  return { mappings, skippedTables, problems };
}

/** Every mapping and skipped table in a folder, or an error listing every problem. */
export async function loadMappingFolder(dir = MAPPINGS_DIR): Promise<MappingFolder> {
  const { problems, ...folder } = await readMappingFolder(dir);
  if (problems.length) throw new MappingError(problems);
  return folder;
}

/** Every mapping in a folder, or an error listing every problem. */
export async function loadMappings(dir = MAPPINGS_DIR): Promise<LoadedMapping[]> {
  return (await loadMappingFolder(dir)).mappings;
}
