/**
 * Runtime checks of Coda's responses. Loose on purpose: Coda adds metadata fields over time (a new
 * `formula` field once broke a strict client), so unknown keys pass, and only the fields the
 * extractor relies on are required.
 */
import { z } from 'zod';

const pageToken = z.string().nullish();

export const docSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  browserLink: z.string(),
  docSize: z.looseObject({ overApiSizeLimit: z.boolean() }).optional(),
});

export const tableListSchema = z.looseObject({
  items: z.array(
    z.looseObject({ id: z.string(), name: z.string(), tableType: z.string(), browserLink: z.string() }),
  ),
  nextPageToken: pageToken,
});

/** A table's own metadata: what tells the next extract whether its rows changed. */
export const tableSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  rowCount: z.number().int().nonnegative(),
  updatedAt: z.string(),
});

/** A column: also what the snapshot reader checks the manifest's columns against. */
export const columnSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  format: z.looseObject({ type: z.string() }),
});

export const columnListSchema = z.looseObject({
  items: z.array(columnSchema),
  nextPageToken: pageToken,
});

/** A row: also what the snapshot reader checks each stored line against. */
export const rowSchema = z.looseObject({ id: z.string(), values: z.record(z.string(), z.unknown()) });

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Exactly what rowSchema accepts of parsed JSON, checked by hand: zod runs a check per cell,
 * about 0.3 s per 100k rows. Only a refused row needs zod, to word the problem.
 */
export function isRowJson(row: unknown): boolean {
  return isJsonObject(row) && typeof row.id === 'string' && isJsonObject(row.values);
}

export const rowListSchema = z.looseObject({
  items: z.array(rowSchema),
  nextPageToken: pageToken,
  nextSyncToken: z.string().nullish(),
});

export const errorBodySchema = z.looseObject({ message: z.string() });

/** The first problem, as "items.3.values: expected record, received string". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : error.message;
}
