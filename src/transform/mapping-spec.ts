/**
 * Mapping specs: one YAML file per Coda table under mappings/, saying which erp table it fills
 * and, per target column, which Coda column (by id: names change, ids do not) and conversion.
 * Renaming a Coda column, or adding a select value, is an edit to a file, not to code.
 *
 * Files are checked when loaded; an error names the file, the field and the fix.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

export const MAPPINGS_DIR = 'mappings';

const codaColumnId = z
  .string({ error: 'must be a Coda column id such as c-AbC123xyz (the mapping bootstrap writes them)' })
  .regex(
    /^c-[A-Za-z0-9_-]+$/,
    'must be a Coda column id such as c-AbC123xyz, not a column name (names change, ids do not)',
  );
const codaTableId = z
  .string({ error: 'must be a Coda table id such as grid-AbC123xyz' })
  .regex(
    /^grid-[A-Za-z0-9_-]+$/,
    'must be a Coda base table id such as grid-AbC123xyz (views, table-…, hide columns)',
  );
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const personPolicy = z.enum(['create', 'reject'], {
  error: 'must be "create" (add unknown people to erp.people) or "reject" (reject the row)',
});
const valueMap = z.record(z.string(), z.string(), {
  error: 'must map each Coda choice to a database value, e.g. "In Progress": active',
});

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
        .regex(/^[A-Z]{3}$/, 'must be a currency code such as USD')
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
      multiple: z
        .enum(['reject', 'first'], {
          error:
            'must be "reject" (reject a row naming several people) or "first" (load the first, list the others on the row)',
        })
        .default('reject'),
    }),
    z.strictObject({ as: z.literal('lookup'), ...fromCoda, table: codaTableId }),
    z.strictObject({ as: z.literal('constant'), value: scalar }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' && issue.note === 'No matching discriminator'
        ? 'needs "as:" set to one of text, number, currency, percent, date, datetime, checkbox, select, tags, list, person, lookup, constant'
        : undefined,
  },
);

const skipReason = z
  .string({ error: 'must say why the column stays in Coda, e.g. "kept in Coda: no place for it in erp"' })
  .trim()
  .min(1, 'must say why the column stays in Coda, e.g. "kept in Coda: no place for it in erp"');

/**
 * A Coda column deliberately not loaded, with the reason the owner reads in every report:
 * `c-AbC123: "kept in Coda"` or `c-AbC123: { label: Budget, reason: "kept in Coda" }`.
 */
const skippedColumn = z.preprocess(
  (value) => (typeof value === 'string' ? { reason: value } : value),
  z.strictObject({ label: z.string().optional(), reason: skipReason }),
);

const targetColumnName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a column name of the target table (lowercase, e.g. owner_person_id)');

const mappingSpecSchema = z.strictObject({
  coda: z.strictObject({
    table: codaTableId,
    /** The table's name when the file was written, for humans. */
    name: z.string(),
  }),
  target: z
    .string()
    .regex(/^erp\.[a-z_][a-z0-9_]*$/, 'must name a table in the erp schema, e.g. erp.projects'),
  /** What happens to a Person value that matches nobody in erp.people (by email, then exact name). */
  people: z.strictObject({ unknown: personPolicy }).default({ unknown: 'reject' }),
  /**
   * What happens to a row whose link points at a row rejected in the same run: by default it is
   * rejected too (naming the parent and why); load_without_link loads it with the link empty,
   * listed as an accepted difference. A required link always rejects.
   */
  links: z
    .strictObject({
      rejected_parent: z.enum(['reject', 'load_without_link'], {
        error: 'must be "reject" (reject the row too) or "load_without_link" (load it with the link empty)',
      }),
    })
    .default({ rejected_parent: 'reject' }),
  columns: z
    .record(targetColumnName, columnSpec)
    .refine((columns) => Object.keys(columns).length > 0, 'must map at least one column'),
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

export class MappingError extends Error {}

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
  throw new MappingError(
    `${file} declares the Coda table "${parsed.table.name}" skipped; a mapping needs target: and columns:`,
  );
}

function describeIssues(file: string, issues: z.core.$ZodIssue[]): MappingError {
  const problems = issues.map((issue) => {
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}: check the spelling, or remove it`
        : issue.code === 'invalid_key'
          ? (issue.issues[0]?.message ?? issue.message)
          : issue.message;
    return `  ${fieldPath(issue.path)}: ${message}`;
  });
  return new MappingError(`${file} is not a valid mapping:\n${problems.join('\n')}`);
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
    const where = error instanceof YAMLParseError && error.linePos ? ` line ${error.linePos[0].line}` : '';
    throw new MappingError(
      `${file}:${where} is not valid YAML: ${(error as Error).message.split('\n')[0]}. Fix the indentation or quoting there.`,
    );
  }
  const isSkippedTable =
    typeof document === 'object' &&
    document !== null &&
    !('target' in document) &&
    typeof (document as { skip?: unknown }).skip === 'string';
  if (isSkippedTable) {
    const skipped = skippedTableSchema.safeParse(document);
    if (!skipped.success) throw describeIssues(file, skipped.error.issues);
    return {
      file,
      table: { id: skipped.data.coda.table, name: skipped.data.coda.name },
      reason: skipped.data.skip,
    };
  }
  const parsed = mappingSpecSchema.safeParse(document);
  if (!parsed.success) throw describeIssues(file, parsed.error.issues);
  const problems = Object.entries(parsed.data.columns).flatMap(([target, column]) =>
    column.as !== 'constant' && column.from in parsed.data.skip
      ? [
          `  skip.${column.from}: the column is also loaded into columns.${target}; remove it from one of them`,
        ]
      : [],
  );
  if (problems.length) throw new MappingError(`${file} is not a valid mapping:\n${problems.join('\n')}`);
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
    throw new MappingError(
      `there is no mappings folder ${dir}; write drafts into it with \`npm run erp -- mappings draft --table <names...> --mappings ${dir}\`, or pass the folder that holds your mappings with --mappings DIR`,
    );
  }
}

export interface MappingFolder {
  mappings: LoadedMapping[];
  skippedTables: SkippedTable[];
}

export async function readMappingFolder(dir = MAPPINGS_DIR): Promise<MappingFolder & { problems: string[] }> {
  const files = (await readFolder(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  if (!files.length)
    return {
      mappings: [],
      skippedTables: [],
      problems: [`${dir} holds no mapping files (*.yaml); run \`erp mappings draft\` to write drafts`],
    };
  const mappings: LoadedMapping[] = [];
  const skippedTables: SkippedTable[] = [];
  const problems: string[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    try {
      const parsed = parseMappingFile(file, await readFile(file, 'utf8'));
      if ('spec' in parsed) mappings.push(parsed);
      else skippedTables.push(parsed);
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      problems.push(error.message);
    }
  }
  const codaTables = [
    ...mappings.map(({ file, spec }) => ({ file, value: spec.coda.table })),
    ...skippedTables.map(({ file, table }) => ({ file, value: table.id })),
  ];
  const targets = mappings.map(({ file, spec }) => ({ file, value: spec.target }));
  for (const [entries, what] of [
    [codaTables, 'Coda table'],
    [targets, 'target table'],
  ] as const) {
    const seen = new Map<string, string>();
    for (const { file, value } of entries) {
      const other = seen.get(value);
      if (other) problems.push(`${file} and ${other} both map ${value}; keep one mapping per ${what}`);
      seen.set(value, file);
    }
  }
  return { mappings, skippedTables, problems };
}

/** Every mapping and skipped table in a folder, or an error listing every problem. */
export async function loadMappingFolder(dir = MAPPINGS_DIR): Promise<MappingFolder> {
  const { problems, ...folder } = await readMappingFolder(dir);
  if (problems.length) throw new MappingError(problems.join('\n'));
  return folder;
}

/** Every mapping in a folder, or an error listing every problem. */
export async function loadMappings(dir = MAPPINGS_DIR): Promise<LoadedMapping[]> {
  return (await loadMappingFolder(dir)).mappings;
}
