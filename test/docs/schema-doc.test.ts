/**
 * docs/DATABASE_SCHEMA.md must describe the schema the migrations build: regenerate it from a
 * fresh test database and compare it with the committed file.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSchemaDocument, REGENERATE_COMMAND, SCHEMA_DOCUMENT } from '../../src/docs/schema-doc.ts';
import { migrate } from '../../src/db/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let generated: string;
beforeAll(async () => {
  // Migrated here rather than copied from the template: role comments are cluster-wide, and the
  // runbook rehearsal migrates an older release's files on the same cluster, which rewrites them.
  db = await createEmptyDatabase();
  await migrate(db.url);
  generated = await generateSchemaDocument(db.url);
});
afterAll(async () => {
  await db?.drop();
});

describe('docs/DATABASE_SCHEMA.md', () => {
  it(`is up to date (if not: ${REGENERATE_COMMAND})`, async () => {
    const committed = await readFile(SCHEMA_DOCUMENT, 'utf8').catch(() => '');
    // A boolean first: a 1,000-line diff would drown the instruction.
    expect(committed === generated, `docs/DATABASE_SCHEMA.md is stale: run \`${REGENERATE_COMMAND}\``).toBe(
      true,
    );
  });

  it('is generated deterministically', async () => {
    expect(await generateSchemaDocument(db.url)).toBe(generated);
  });

  it('describes every table of both schemas, with a diagram per schema and one for the links', async () => {
    const { rows } = await db.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(38);
    for (const { name } of rows) expect(generated).toContain(`\n### ${name}\n`);
    expect(generated.match(/```mermaid\nerDiagram\n/g)).toHaveLength(3);
    expect(generated).toContain('erp_people |o--o{ agent_sessions : "client_person_id"');
  });

  it('shows what each API role may do', () => {
    expect(generated).toMatch(/\| \[people\]\(#erppeople\) \| – \| SIUD \| S \| S \| S \| – \| – \| – \|/);
    expect(generated).toMatch(
      /\| \[memory_facts\]\(#agentmemory_facts\) \| – \| – \| S \| SI \| SI \| – \| – \| SI \|/,
    );
    // Shared configuration: read by the agent roles, written only by agent_config_editor (016).
    expect(generated).toMatch(
      /\| \[prompt_templates\]\(#agentprompt_templates\) \| – \| – \| S \| S \| S \| SIUD \| – \| – \|/,
    );
  });
});
