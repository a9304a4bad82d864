/**
 * `--decisions FILE`: which side wins, row by row, where a row edited in Postgres would be
 * changed by the load. Read here, by the command, so the load layer reads no file of the owner's.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Side } from '../load/core/reports.ts';

const decisionsFile = z.record(z.string().min(1), z.enum(['coda', 'postgres']));

/**
 * A decisions file: one line per Coda row id (the report shows it beside the row's name), saying
 * which side wins for that row, e.g. `i-jNwDisc1A: postgres`.
 */
export async function readConflictDecisions(file: string): Promise<Map<string, Side>> {
  const parsed = decisionsFile.safeParse(parseYaml(await readFile(file, 'utf8')) ?? {});
  if (!parsed.success)
    throw new Error(
      `${file}: each line must be a Coda row id, a colon, and coda or postgres (e.g. "i-jNwDisc1A: postgres"): ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ')}`,
    );
  return new Map(Object.entries(parsed.data));
}
