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

export const rowListSchema = z.looseObject({
  items: z.array(rowSchema),
  nextPageToken: pageToken,
});

export const errorBodySchema = z.looseObject({ message: z.string() });

/** The first problem, as "items.3.values: expected record, received string". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : error.message;
}
