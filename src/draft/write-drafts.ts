/**
 * `erp mappings draft`: one mapping file per wanted Coda table, written only when every wanted
 * table has a target and no existing file would be overwritten (unless forced), so a draft
 * folder is never half written or silently untargeted.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Snapshot } from '../extract/index.ts';
import { profileColumns } from './choices.ts';
import { isChoiceColumn } from './coda-columns.ts';
import { snakeCase, suggestTarget } from './column-words.ts';
import { draftMapping, type DraftTable } from './draft-mapping.ts';
import type { TargetTable } from './target-schema.ts';
import { didYouMean } from '../shared/names.ts';

/** A draft refused as a whole, every problem listed. */
export function refusedDraft(problems: readonly string[]): Error {
  return new Error(`nothing was written:\n  ${problems.join('\n  ')}`);
}

/** What a draft needs to know before any row is read: the doc's tables and the erp schema. */
interface DraftRequest {
  /** Coda table names (any case) or ids, each optionally with its target: "Deals=erp.engagements". */
  wanted: string[];
  dir: string;
  force: boolean;
  schema: TargetTable[];
}

/** The tables to draft, each with its file and target: a request found sound. */
export interface DraftPlan {
  chosen: { table: Pick<DraftTable, 'id' | 'name'>; file: string }[];
  targetOf: (tableId: string) => string | undefined;
  schema: TargetTable[];
}

interface WrittenDraft {
  file: string;
  target: string;
  unfilled: string[];
  review: string[];
  skipped: { label: string; reason: string }[];
}

/**
 * The doc's tables the request names, each with its target when given, and a problem for each
 * name that matches none, with the closest names the doc has. Needs only the tables' list: the
 * draft command asks it before reading a row.
 */
export function chooseWantedTables<T extends Pick<DraftTable, 'id' | 'name'>>(
  wanted: readonly string[],
  tables: readonly T[],
): { chosen: { table: T; targetName?: string }[]; problems: string[] } {
  const chosen: { table: T; targetName?: string }[] = [];
  const problems: string[] = [];
  const names = tables.map((candidate) => candidate.name);
  for (const request of wanted) {
    const [tableName = '', targetName] = request.split(/=(?=erp\.)/);
    const table = tables.find(
      (candidate) => candidate.id === tableName || candidate.name.toLowerCase() === tableName.toLowerCase(),
    );
    if (table) chosen.push({ table, targetName });
    else
      problems.push(
        `the doc has no base table "${tableName}"; ${didYouMean(tableName, names)}its tables are ${names.map((name) => `"${name}"`).join(', ')}`,
      );
  }
  return { chosen, problems };
}

/**
 * Every problem with a draft request that the doc's list of tables can show (a name that matches
 * no table, a table whose target is unknown, a file that exists), so the draft command refuses
 * before reading a row; or the plan to draft.
 */
export function planDrafts(
  request: DraftRequest,
  tables: readonly Pick<DraftTable, 'id' | 'name'>[],
): { plan: DraftPlan; problems: string[] } {
  const wanted = chooseWantedTables(request.wanted, tables);
  const { problems } = wanted;
  const chosen = wanted.chosen.map((choice) => ({
    ...choice,
    file: path.join(request.dir, `${snakeCase(choice.table.name)}.yaml`),
  }));
  if (!request.force)
    for (const { file } of chosen)
      if (existsSync(file))
        problems.push(
          `${file} exists; draft into a new folder (--mappings DIR), or pass --force to overwrite it`,
        );
  const targetNames = request.schema.map((table) => table.name);
  const explicit = new Map(
    chosen.flatMap(({ table, targetName }) => (targetName ? [[table.id, targetName]] : [])),
  );
  const targetOf = (tableId: string) => {
    const table = tables.find((candidate) => candidate.id === tableId);
    return explicit.get(tableId) ?? (table ? suggestTarget(table.name, targetNames) : undefined);
  };
  for (const { table, targetName } of chosen) {
    if (targetName && !targetNames.includes(targetName))
      problems.push(
        `"${table.name}": there is no table ${targetName}; ${didYouMean(targetName, targetNames)}the erp tables are ${targetNames.join(', ')}`,
      );
    else if (!targetOf(table.id))
      problems.push(
        `"${table.name}" matches no erp table by name; say which one it fills: --table "${table.name}=erp.<table>" (${targetNames.join(', ')})`,
      );
  }
  return { plan: { chosen, targetOf, schema: request.schema }, problems };
}

/** Writes the planned drafts, reading each table's rows once for its choices and people. */
export async function writeDraftMappings(source: Snapshot, plan: DraftPlan): Promise<WrittenDraft[]> {
  const tables: DraftTable[] = source.manifest().tables;
  const { targetOf, schema } = plan;
  const unknownPeople = tables.some((table) => targetOf(table.id) === 'erp.people') ? 'reject' : 'create';
  const dirs = new Set(plan.chosen.map(({ file }) => path.dirname(file)));
  for (const dir of dirs) await mkdir(dir, { recursive: true });
  const written: WrittenDraft[] = [];
  for (const { table: chosen, file } of plan.chosen) {
    const table = tables.find((candidate) => candidate.id === chosen.id)!;
    const target = schema.find((candidate) => candidate.name === targetOf(table.id))!;
    const profiled = table.columns.map((column) => ({
      id: column.id,
      choice: isChoiceColumn(column)
        ? (column.format as { isArray?: boolean }).isArray
          ? ('multiple' as const)
          : ('single' as const)
        : undefined,
    }));
    const draft = draftMapping({
      table,
      target,
      tables,
      targetOf,
      profiles: await profileColumns(source, table.id, profiled),
      unknownPeople,
    });
    await writeFile(file, draft.text);
    written.push({
      file,
      target: target.name,
      unfilled: draft.unfilled,
      review: draft.review,
      skipped: draft.skipped,
    });
  }
  return written;
}
