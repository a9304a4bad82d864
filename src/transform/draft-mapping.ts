/**
 * The mapping bootstrap: from a Coda table's columns and the target table's catalog, a draft
 * mapping file the owner reviews. Columns are keyed by id (rename-proof) with the names beside
 * them; each gets a suggested target column and conversion, or is listed as not mapped.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withClient } from '../db/client.ts';
import type { PublicApiColumn } from '../extract/index.ts';
import { listTargetTables, readTargetTable, type TargetTable } from '../catalog/target-tables.ts';
import type { ColumnSpec } from './mapping-spec.ts';

export interface DraftTable {
  id: string;
  name: string;
  columns: PublicApiColumn[];
}

/** Coda column names that mean an erp column of another name. */
const SYNONYMS: Record<string, string[]> = {
  name: ['title', 'full_name', 'objective'],
  title: ['name'],
  owner: ['owner_person_id'],
  assignee: ['assignee_id'],
  organization: ['organization_id', 'client_org_id'],
  client: ['client_org_id', 'organization_id'],
  project: ['project_id'],
  venture: ['venture_id'],
  workflow: ['workflow_id'],
  service_blueprint: ['service_blueprint_id'],
  blueprint: ['service_blueprint_id'],
  process_template: ['process_template_id'],
  template: ['process_template_id'],
  execution_run: ['execution_run_id'],
  run: ['execution_run_id'],
  sprint: ['sprint_id'],
  engagement: ['engagement_id'],
  offer: ['offer_id'],
  primary_contact: ['primary_contact_id'],
  contact: ['primary_contact_id'],
  type: ['org_type', 'template_type'],
  kind: ['org_type', 'template_type'],
  role: ['role_label'],
  active: ['is_active'],
  price: ['list_price'],
  start: ['start_date', 'started_at'],
  end: ['end_date', 'ended_at'],
  due: ['due_date'],
  started: ['started_at', 'start_date'],
  ended: ['ended_at', 'end_date'],
  run_id: ['run_identifier'],
};

function snakeCase(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The erp table a Coda table most likely fills, by name. */
function suggestTarget(tableName: string, targets: string[]): string | undefined {
  const wanted = snakeCase(tableName);
  return (
    targets.find((target) => target === `erp.${wanted}`) ??
    targets.find((target) => target === `erp.${wanted}s`)
  );
}

function conversionFor(column: PublicApiColumn): ColumnSpec['as'] | undefined {
  const format = column.format as { type: string; isArray?: boolean };
  switch (format.type) {
    case 'text':
    case 'email':
    case 'link':
    case 'canvas':
      return format.isArray ? 'list' : 'text';
    case 'select':
      return format.isArray ? 'tags' : 'select';
    case 'number':
    case 'slider':
    case 'scale':
      return 'number';
    case 'currency':
      return 'currency';
    case 'percent':
      return 'percent';
    case 'date':
      return 'date';
    case 'dateTime':
      return 'datetime';
    case 'checkbox':
      return 'checkbox';
    case 'person':
      return 'person';
    case 'lookup':
      return 'lookup';
    default:
      return undefined;
  }
}

function suggestColumn(column: PublicApiColumn, target: TargetTable, taken: Set<string>): string | undefined {
  const base = snakeCase(column.name);
  const candidates = [base, `${base}_id`, ...(SYNONYMS[base] ?? [])];
  return candidates.find(
    (candidate) =>
      target.columns.has(candidate) && !taken.has(candidate) && !target.columns.get(candidate)?.generated,
  );
}

const quote = (text: string) => JSON.stringify(text);

function selectOptions(column: PublicApiColumn): string[] {
  const options = (column.format as { options?: unknown }).options;
  if (!Array.isArray(options)) return [];
  return options.map((option) =>
    typeof option === 'string'
      ? option
      : typeof option === 'object' && option && 'name' in option
        ? String(option.name)
        : String(option),
  );
}

function draftMapping(table: DraftTable, target: TargetTable | undefined, allTables: DraftTable[]): string {
  const lines = [
    `# Draft mapping for the Coda table "${table.name}", written by \`erp mappings draft\`.`,
    '# Review every line: columns are keyed by Coda column id (renames do not break them), the names',
    '# are for humans. Select values map a Coda choice to a database value; unknown choices are rejected.',
    `coda: { table: ${table.id}, name: ${quote(table.name)} }`,
    `target: ${target?.name ?? 'erp.CHOOSE_A_TABLE'}`,
    'people: { unknown: reject }',
    'columns:',
  ];
  const unmapped: string[] = [];
  const taken = new Set<string>();
  for (const column of table.columns) {
    const as = conversionFor(column);
    const targetColumn = target && as ? suggestColumn(column, target, taken) : undefined;
    const format = column.format as {
      type: string;
      isArray?: boolean;
      table?: { id?: string; name?: string };
    };
    const formula = column.calculated ? ', formula' : '';
    if (!as || !targetColumn) {
      unmapped.push(
        `#   ${column.id} ${quote(column.name)} (${format.type}${format.isArray ? ' list' : ''}${formula})`,
      );
      continue;
    }
    taken.add(targetColumn);
    const fields = [`from: ${column.id}`, `label: ${quote(column.name)}`, `as: ${as}`];
    const notes = column.calculated ? ['a formula column'] : [];
    if (as === 'lookup') {
      fields.push(`table: ${format.table?.id ?? 'grid-CHOOSE'}`);
      const linked = allTables.find((candidate) => candidate.id === format.table?.id);
      notes.push(
        linked ? `links to ${quote(linked.name)}` : 'links to a table that is not extracted: map it too',
      );
    }
    const comment = notes.length ? `  # ${notes.join('; ')}` : '';
    if (as !== 'select' && as !== 'tags') {
      lines.push(`  ${targetColumn}: { ${fields.join(', ')} }${comment}`);
      continue;
    }
    const options = selectOptions(column);
    lines.push(
      `  ${targetColumn}:${comment}`,
      ...fields.map((field) => `    ${field}`),
      options.length ? '    values:' : '    values: {}  # add each Coda choice and its database value',
    );
    for (const option of options) lines.push(`      ${quote(option)}: ${snakeCase(option)}`);
  }
  if (unmapped.length)
    lines.push(
      '# Not mapped (no matching column in the target, or a kind of value that is not loaded):',
      ...unmapped,
    );
  return `${lines.join('\n')}\n`;
}

export interface DraftRequest {
  databaseUrl: string;
  /** The doc's base tables with their columns. */
  tables: DraftTable[];
  /** Table names (any case) or ids to draft. */
  wanted: string[];
  dir: string;
  force: boolean;
}

/** Writes one draft per wanted table, refusing to overwrite a mapping unless forced. */
export async function writeDraftMappings(
  request: DraftRequest,
): Promise<{ file: string; target: string | undefined }[]> {
  return await withClient(request.databaseUrl, async (client) => {
    const targets = await listTargetTables(client);
    await mkdir(request.dir, { recursive: true });
    const written: { file: string; target: string | undefined }[] = [];
    for (const wanted of request.wanted) {
      const table = request.tables.find(
        (candidate) => candidate.id === wanted || candidate.name.toLowerCase() === wanted.toLowerCase(),
      );
      if (!table)
        throw new Error(
          `the doc has no base table "${wanted}"; its tables are ${request.tables.map((candidate) => `"${candidate.name}"`).join(', ')}`,
        );
      const target = suggestTarget(table.name, targets);
      const file = path.join(request.dir, `${snakeCase(table.name)}.yaml`);
      if (existsSync(file) && !request.force)
        throw new Error(`${file} exists; review it, or pass --force to overwrite it`);
      await writeFile(
        file,
        draftMapping(table, target ? await readTargetTable(client, target) : undefined, request.tables),
      );
      written.push({ file, target });
    }
    return written;
  });
}
