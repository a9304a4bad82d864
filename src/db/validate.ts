/**
 * Runs migrations/validate_schema.sql, the same file the owner runs with psql in production,
 * so there is one definition of "the schema is complete".
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openClient } from './client.ts';
import { MIGRATIONS_DIR } from './migrations.ts';

export const VALIDATION_SCRIPT = path.join(MIGRATIONS_DIR, 'validate_schema.sql');

export interface ValidationResult {
  ok: boolean;
  /** NOTICE lines on success; the failure message otherwise. */
  messages: string[];
}

export async function validateSchema(url: string): Promise<ValidationResult> {
  const sql = await readFile(VALIDATION_SCRIPT, 'utf8');
  const client = await openClient(url);
  const messages: string[] = [];
  client.on('notice', (notice) => messages.push(notice.message ?? String(notice)));
  try {
    await client.query(sql);
    return { ok: true, messages };
  } catch (error) {
    return { ok: false, messages: [...messages, (error as Error).message] };
  } finally {
    await client.end();
  }
}
