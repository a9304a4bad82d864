/**
 * Mapping files with mistakes: every problem, as the report words it, names the file, the field
 * and the fix.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLoads } from '../../src/load/core/load-plan.ts';
import {
  loadMappingFolder,
  loadMappings,
  parseMappingFile,
  parseMappingSpec,
} from '../../src/transform/mapping-spec.ts';
import { checkMappingAgainstTable } from '../../src/transform/transform.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { mappingErrorWords } from '../support/mapping-errors.ts';

const FILE = 'mappings/projects.yaml';
const valid = `
coda: { table: grid-Pr0j, name: Projects }
target: erp.projects
columns:
  name: { from: c-name, label: Name, as: text, required: true }
`;

const parseError = (text: string) => mappingErrorWords(() => parseMappingSpec(FILE, text));

describe('a mapping file with a mistake', () => {
  it.each([
    [
      'a misspelt field',
      valid.replace('required: true', 'requried: true'),
      /columns\.name: unknown field "requried": check the spelling, or remove it/,
    ],
    [
      'a column name instead of an id',
      valid.replace('from: c-name', 'from: Name'),
      /columns\.name\.from: must be a Coda column id such as c-AbC123xyz, not a column name/,
    ],
    [
      'an unknown conversion',
      valid.replace('as: text', 'as: txt'),
      /columns\.name\.as: needs "as:" set to one of text, number/,
    ],
    [
      'a view instead of a base table',
      valid.replace('grid-Pr0j', 'table-Pr0j'),
      /coda\.table: must be a Coda base table id/,
    ],
    ['no target', valid.replace('target: erp.projects\n', ''), /target: must be given: every mapping has it/],
    [
      'a target outside erp',
      valid.replace('erp.projects', 'agent.sessions'),
      /target: must name a table in the erp schema/,
    ],
    [
      'a select without values',
      `${valid}  status: { from: c-status, as: select }\n`,
      /columns\.status\.values: must map each Coda choice/,
    ],
    [
      'a lookup without its table',
      `${valid}  venture_id: { from: c-venture, as: lookup }\n`,
      /columns\.venture_id\.table: must be a Coda table id/,
    ],
    [
      'several people in one cell, told an unknown way',
      `${valid}  owner_person_id: { from: c-owner, as: person, multiple: all }\n`,
      /columns\.owner_person_id\.multiple: must be "reject" \(reject a row naming several people\) or "first"/,
    ],
    ['a person policy typo', `${valid}people: { unknown: add }\n`, /people\.unknown: must be "create"/],
    [
      'broken YAML',
      `${valid}  bad: [1, 2\n`,
      /^mappings\/projects\.yaml is not a valid mapping:\n {2}line \d+ is not valid YAML: .*\. Fix the indentation or quoting there\.$/,
    ],
    [
      'a skipped column without a reason',
      `${valid}skip: { c-budget: { label: Budget } }\n`,
      /skip\.c-budget\.reason: must say why the column stays in Coda/,
    ],
    [
      'a skipped column with a blank reason',
      `${valid}skip: { c-budget: "  " }\n`,
      /skip\.c-budget\.reason: must say why the column stays in Coda/,
    ],
    [
      'a skipped column named instead of by id',
      `${valid}skip: { Budget: "kept in Coda" }\n`,
      /skip\.Budget: must be a Coda column id/,
    ],
    [
      'a column both loaded and skipped',
      `${valid}skip: { c-name: "kept in Coda" }\n`,
      /skip\.c-name: the column is also loaded into columns\.name; remove it from one of them/,
    ],
    [
      'a skipped table with columns',
      `coda: { table: grid-Pr0j, name: Projects }\nskip: "kept in Coda"\ncolumns: {}\n`,
      /unknown field "columns"/,
    ],
    [
      'a skipped table where a mapping is needed',
      `coda: { table: grid-Pr0j, name: Projects }\nskip: "kept in Coda"\n`,
      /it declares the Coda table "Projects" skipped; a mapping needs target: and columns:/,
    ],
  ])('%s', async (_name, text, message) => {
    const error = await parseError(text);
    expect(error).toMatch(/^mappings\/projects\.yaml is not a valid mapping:\n {2}/);
    expect(error).toMatch(message);
  });

  it('lists each problem of a file under it, on a line of its own', async () => {
    const error = await parseError(
      valid.replace('from: c-name', 'from: Name').replace('erp.projects', 'agent.sessions'),
    );
    expect(error).toBe(
      [
        'mappings/projects.yaml is not a valid mapping:',
        '  target: must name a table in the erp schema, e.g. erp.projects',
        '  columns.name.from: must be a Coda column id such as c-AbC123xyz, not a column name (names change, ids do not)',
      ].join('\n'),
    );
  });

  it('names both files when two map the same Coda table', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erp-mappings-'));
    try {
      await writeFile(path.join(dir, 'a.yaml'), valid);
      await writeFile(path.join(dir, 'b.yaml'), valid.replace('erp.projects', 'erp.tasks'));
      expect(await mappingErrorWords(() => loadMappings(dir))).toMatch(
        /^\S*b\.yaml and \S*a\.yaml both map grid-Pr0j; keep one mapping per Coda table$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads skipped columns in both forms, and a skipped table', () => {
    const mapping = parseMappingSpec(
      FILE,
      `${valid}skip:\n  c-budget: "kept in Coda: no budget column"\n  c-brief: { label: Brief, reason: lives in Coda docs }\n`,
    );
    expect(mapping.spec.skip).toEqual({
      'c-budget': { reason: 'kept in Coda: no budget column' },
      'c-brief': { label: 'Brief', reason: 'lives in Coda docs' },
    });
    expect(parseMappingSpec(FILE, valid).spec.skip).toEqual({});
    expect(
      parseMappingFile(
        'mappings/notes.yaml',
        'coda: { table: grid-N0tes, name: Notes }\nskip: "meeting notes stay in Coda"\n',
      ),
    ).toEqual({
      file: 'mappings/notes.yaml',
      table: { id: 'grid-N0tes', name: 'Notes' },
      reason: 'meeting notes stay in Coda',
    });
  });

  it('keeps skipped tables apart from mappings, and refuses a table both mapped and skipped', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erp-mappings-'));
    try {
      await writeFile(path.join(dir, 'projects.yaml'), valid);
      await writeFile(
        path.join(dir, 'notes.yaml'),
        'coda: { table: grid-N0tes, name: Notes }\nskip: "kept in Coda"\n',
      );
      const folder = await loadMappingFolder(dir);
      expect(folder.mappings.map((mapping) => mapping.spec.target)).toEqual(['erp.projects']);
      expect(folder.skippedTables.map((table) => table.table.name)).toEqual(['Notes']);
      expect(await loadMappings(dir)).toHaveLength(1);
      await writeFile(
        path.join(dir, 'projects-skipped.yaml'),
        'coda: { table: grid-Pr0j, name: Projects }\nskip: "later"\n',
      );
      expect(await mappingErrorWords(() => loadMappingFolder(dir))).toMatch(
        /both map grid-Pr0j; keep one mapping per Coda table/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a skip entry for a column the Coda table no longer has, pointing at the new id', async () => {
    const mapping = parseMappingSpec(
      FILE,
      `${valid}skip:\n  c-gone: { label: Budget, reason: kept in Coda }\n  c-old: gone too\n`,
    );
    const table = {
      id: 'grid-Pr0j',
      name: 'Projects',
      columns: [
        { id: 'c-name', name: 'Name' },
        { id: 'c-budget2', name: 'Budget' },
      ],
    } as never;
    expect(await mappingErrorWords(() => checkMappingAgainstTable({ mapping, docId: 'doc', table }))).toMatch(
      /^mappings\/projects\.yaml does not match the Coda doc:\n {2}skip\.c-gone: Coda table "Projects" \(grid-Pr0j\) has no column c-gone \("Budget"\); a column named "Budget" now has id c-budget2: use that id\n {2}skip\.c-old: Coda table "Projects" \(grid-Pr0j\) has no column c-old; remove the entry/,
    );
  });

  it('points at the new id when a mapped Coda column was recreated under another id', async () => {
    const mapping = parseMappingSpec(FILE, valid);
    const table = {
      id: 'grid-Pr0j',
      name: 'Projects',
      columns: [{ id: 'c-newName', name: 'Name' }],
    } as never;
    expect(await mappingErrorWords(() => checkMappingAgainstTable({ mapping, docId: 'doc', table }))).toMatch(
      /columns\.name\.from: Coda table "Projects" \(grid-Pr0j\) has no column c-name \("Name"\); a column named "Name" now has id c-newName: use that id/,
    );
  });
});

describe('a mapping that does not fit the database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const prepare = async (text: string) => {
    const client = await db.pool.connect();
    try {
      return await prepareLoads(client, [parseMappingSpec(FILE, text)], new Set(['grid-Pr0j']));
    } finally {
      client.release();
    }
  };

  it.each([
    [
      'an unknown column',
      `${valid}  nmae: { from: c-x, as: text }\n`,
      /columns\.nmae: erp\.projects has no column nmae; its columns are id, global_id, name/,
    ],
    [
      'a conversion that does not fit the type',
      `${valid}  start_date: { from: c-x, as: number }\n`,
      /columns\.start_date: "as: number" cannot fill erp\.projects\.start_date, which is date/,
    ],
    [
      'a column the database computes',
      `${valid}  id: { from: c-x, as: number }\n`,
      /columns\.id: erp\.projects\.id is filled by the database; remove it/,
    ],
    [
      'a NOT NULL column that may end up empty',
      `${valid}  status: { from: c-x, as: select, values: { A: active } }\n`,
      /columns\.status: erp\.projects\.status may not be empty; add a default \(default: …\) or mark it required/,
    ],
    [
      'a link to a table the doc does not have',
      `${valid}  venture_id: { from: c-x, as: lookup, table: grid-Nope }\n`,
      /columns\.venture_id\.table: the doc has no table grid-Nope/,
    ],
    [
      'a person in a column that is not a link to people',
      `${valid}  venture_id: { from: c-x, as: person }\n`,
      /columns\.venture_id: erp\.projects\.venture_id references erp\.ventures, but the person resolves to erp\.people/,
    ],
    [
      'a target table that does not exist',
      valid.replace('erp.projects', 'erp.projets'),
      /target: there is no table erp\.projets/,
    ],
  ])('%s', async (_name, text, message) => {
    const error = await mappingErrorWords(() => prepare(text));
    expect(error).toMatch(/^mappings\/projects\.yaml does not fit the database:\n {2}/);
    expect(error).toMatch(message);
  });

  it('needs every column the database requires', async () => {
    const error = await mappingErrorWords(() =>
      prepare(
        valid.replace(
          '  name: { from: c-name, label: Name, as: text, required: true }\n',
          '  description: { from: c-d, as: text }\n',
        ),
      ),
    );
    expect(error).toMatch(
      /\n {2}columns: erp\.projects\.name must be filled, but the mapping does not map it; add columns\.name/,
    );
  });

  it('accepts the default mappings', async () => {
    const client = await db.pool.connect();
    try {
      const mappings = await loadMappings();
      const loads = await prepareLoads(
        client,
        mappings,
        new Set(mappings.map((mapping) => mapping.spec.coda.table)),
      );
      expect(loads).toHaveLength(mappings.length);
    } finally {
      client.release();
    }
  });
});
