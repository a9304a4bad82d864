/**
 * A new user's first doc, through the CLI as the README tells it: draft into a fresh folder with
 * no database prepared, check, plan and cut over with the drafts as they were written. The doc
 * has choices YAML likes to misread (True, 2024, Null), emoji, a second currency and no People
 * table.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import type { FixtureColumn, FixtureDoc } from '../../bench/coda-server/fixture-types.ts';
import { money, person } from '../../bench/coda-server/rich-values.ts';
import { startCodaServer, type CodaServer } from '../../bench/coda-server/server.ts';
import { tableDefiner } from '../../bench/coda-server/table-builder.ts';
import { erp } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const DOC_ID = 'fIrStD0c01';
const TOKEN = 'tok_first-doc-5e2a';
const defineTable = tableDefiner(DOC_ID);
const column = (
  id: string,
  name: string,
  format: FixtureColumn['format']['type'],
  extra: Partial<FixtureColumn['format']> = {},
): FixtureColumn => ({ id, name, format: { type: format, isArray: false, ...extra } });
const title = (id: string, name: string): FixtureColumn => ({ ...column(id, name, 'text'), display: true });
const AWKWARD = ['True', '2024', 'Null', '🚀 Launch'];

const blueprints = defineTable({
  id: 'grid-fBlueprn1',
  name: 'Service Blueprints',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: title('c-fBname', 'Name'),
    version: column('c-fBversion', 'Version', 'select', { options: AWKWARD }),
    status: column('c-fBstatus', 'Status', 'select', { options: ['Draft', 'Active', 'Beta'] }),
  },
  rows: AWKWARD.map((version, index) => ({
    id: `i-fb${index}`,
    values: { name: `Blueprint ${version}`, version, status: 'Active' },
  })).concat([{ id: 'i-fbBeta', values: { name: 'Blueprint in beta', version: '2024', status: 'Beta' } }]),
});

const offers = defineTable({
  id: 'grid-fOffers01',
  name: 'Offers',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: title('c-fOname', 'Name'),
    price: column('c-fOprice', 'Price', 'currency', { currencyCode: 'USD' }),
    blueprint: column('c-fOblue', 'Service Blueprint', 'lookup', { table: 'grid-fBlueprn1' }),
  },
  rows: [
    { id: 'i-foEur', values: { name: 'Workshop (Berlin)', price: money('1,250.50', 'EUR') } },
    {
      id: 'i-foUsd',
      values: { name: 'Workshop (Boston)', price: money(900), blueprint: blueprints.ref('i-fb0') },
    },
  ],
});

const projects = defineTable({
  id: 'grid-fProjct01',
  name: 'Projects',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: {
    name: title('c-fPname', 'Name'),
    owner: column('c-fPowner', 'Owner', 'person'),
    status: column('c-fPstatus', 'Status', 'select', { options: ['Planned', 'Active'] }),
    tags: {
      ...column('c-fPtags', 'Tags', 'select', { options: AWKWARD }),
      format: { type: 'select', isArray: true, options: AWKWARD },
    },
  },
  rows: [
    {
      id: 'i-fpOne',
      values: {
        name: 'Rebrand',
        owner: person('Noor Haddad', 'noor@example.com'),
        status: 'Active',
        tags: ['True', '🚀 Launch'],
      },
    },
    { id: 'i-fpTwo', values: { name: 'Audit', status: 'Planned', tags: ['Null'] } },
  ],
});

const deals = defineTable({
  id: 'grid-fDeals001',
  name: 'Deals',
  createdAt: '2024-01-01T00:00:00.000Z',
  columns: { name: title('c-fDname', 'Name') },
  rows: [{ id: 'i-fdOne', values: { name: 'Big one' } }],
});

const doc: FixtureDoc = {
  id: DOC_ID,
  name: 'Studio',
  owner: 'noor@example.com',
  ownerName: 'Noor Haddad',
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  tables: [blueprints, offers, projects, deals],
};

let server: CodaServer;
let db: TestDatabase;
let workDir: string;
let drafts: string;
let noDatabaseHere: string;

const withCoda = { CODA_API_TOKEN: TOKEN };
let extracts = 0;
/** The live doc, each read into a snapshot folder of its own. */
const live = () => [
  '--doc',
  DOC_ID,
  '--base-url',
  server.baseUrl,
  '--out',
  path.join(workDir, `snapshot-${++extracts}`),
];

beforeAll(async () => {
  server = await startCodaServer({ token: TOKEN, doc });
  db = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'erp-first-doc-'));
  drafts = path.join(workDir, 'my-mappings');
  noDatabaseHere = path.join(workDir, 'no-data');
});
afterAll(async () => {
  await server.close();
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe('a first doc, drafted with no database and loaded unedited', () => {
  // Each draft migrates a scratch database of its own.
  it('drafts into a new folder without a database, and prints the next commands', {
    timeout: 180_000,
  }, async () => {
    const drafted = await erp(
      [
        'mappings',
        'draft',
        ...live(),
        '--table',
        'Service Blueprints',
        'Offers',
        'Projects',
        '--mappings',
        drafts,
      ],
      { ...withCoda, DATABASE_URL: undefined, ERP_DATA_DIR: noDatabaseHere },
    );
    expect(drafted.code, drafted.stderr).toBe(0);
    expect(existsSync(noDatabaseHere)).toBe(false);
    expect(drafted.stdout).toMatch(/wrote .*service_blueprints\.yaml \(-> erp\.service_blueprints\)/);
    expect(drafted.stdout).toMatch(/review status: "Beta" \(1 row\)/);
    expect(drafted.stdout).toContain(`npm run erp -- plan --doc ${DOC_ID} --mappings ${drafts}`);

    const read = async (name: string) => {
      const file = path.join(drafts, name);
      return parseMappingSpec(file, await readFile(file, 'utf8')).spec;
    };
    const blueprintSpec = await read('service_blueprints.yaml');
    expect(blueprintSpec.columns.version).toMatchObject({
      as: 'select',
      values: { True: 'True', '2024': '2024', Null: 'Null', '🚀 Launch': '🚀 Launch' },
    });
    expect(blueprintSpec.columns.status).toMatchObject({ values: { Draft: 'draft', Active: 'active' } });
    const offerSpec = await read('offers.yaml');
    expect(offerSpec.columns.list_price).toMatchObject({ from: 'c-fOprice', as: 'currency' });
    expect(offerSpec.columns.currency).toMatchObject({ from: 'c-fOprice', as: 'currency', part: 'code' });
    expect(offerSpec.columns.name).toMatchObject({ from: 'c-fOname', required: true });
    const projectSpec = await read('projects.yaml');
    expect(projectSpec.people.unknown).toBe('create');

    const again = await erp(
      ['mappings', 'draft', ...live(), '--table', 'Offers', '--mappings', drafts],
      withCoda,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /offers\.yaml exists; draft into a new folder \(--mappings DIR\), or pass --force/,
    );
  });

  it('writes nothing for a table whose name says no erp table, and says how to choose one', {
    timeout: 120_000,
  }, async () => {
    const other = path.join(workDir, 'other');
    const result = await erp(
      ['mappings', 'draft', ...live(), '--table', 'Offers', 'Deals', '--mappings', other],
      withCoda,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /"Deals" matches no erp table by name; say which one it fills: --table "Deals=erp.<table>"/,
    );
    expect(existsSync(other)).toBe(false);
    const unknown = await erp(
      ['mappings', 'draft', ...live(), '--table', 'Nope', '--mappings', other],
      withCoda,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /no base table "Nope"; its tables are "Service Blueprints", "Offers", "Projects", "Deals"/,
    );
  });

  it('checks the drafts: the choice it could not match and the table it left behind, with their row counts', async () => {
    const checked = await erp(['mappings', 'check', ...live(), '--mappings', drafts], {
      ...withCoda,
      DATABASE_URL: db.url,
    });
    expect(checked.code, checked.stderr).toBe(1);
    expect(checked.stdout).toMatch(
      /service_blueprints\.yaml does not match the Coda doc:\n {2}columns\.status\.values: "Beta" \(1 row\) is not mapped/,
    );
    expect(checked.stdout).toMatch(/add "Beta": one of draft, active, deprecated/);
    // Deals names no erp table, so no draft was written for it: its row is left behind in Coda.
    expect(checked.stdout).toMatch(
      /Coda table "Deals" \(grid-fDeals001\) has 1 row\(s\), but no mapping names it/,
    );
    expect(checked.stdout).toMatch(/2 problem\(s\)/);
  });

  it('tells a plan with the example mappings (the default folder) to draft its own', async () => {
    const planned = await erp(['plan', ...live(), '--runs', path.join(workDir, 'runs')], {
      ...withCoda,
      DATABASE_URL: db.url,
    });
    expect(planned.code).toBe(1);
    expect(planned.stderr).toMatch(
      new RegExp(
        `none of the mappings in mappings \\(mappings/ holds the example doc's\\) is for a table of doc ${DOC_ID}; draft yours`,
      ),
    );
  });

  it('check lists every problem of a broken folder, each with its file, field and fix', async () => {
    const broken = path.join(workDir, 'broken');
    await cp(drafts, broken, { recursive: true });
    const edit = async (name: string, from: string, to: string) => {
      const file = path.join(broken, name);
      await writeFile(file, (await readFile(file, 'utf8')).replace(from, to));
    };
    await edit('offers.yaml', 'from: c-fOname', 'from: c-fOgone');
    await edit('projects.yaml', 'as: person', 'as: human');
    const checked = await erp(['mappings', 'check', ...live(), '--mappings', broken], {
      ...withCoda,
      DATABASE_URL: db.url,
    });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(
      /offers\.yaml does not match the Coda doc:\n {2}columns\.name\.from: .*has no column c-fOgone \("Name"\); a column named "Name" now has id c-fOname: use that id/,
    );
    expect(checked.stdout).toMatch(
      /projects\.yaml is not a valid mapping:\n {2}columns\.owner_person_id[.\w]*: needs "as:" set to one of/,
    );
    // A column the doc lacks is told from its columns: the rows the choices need are not read.
    expect(checked.stdout).toContain('No row was read, so the choices in the doc are not checked yet');
    expect(checked.stdout).not.toMatch(/"Beta" \(1 row\) is not mapped/);
  });

  it('plans and cuts over with the unedited drafts; the euro price keeps its currency', {
    timeout: 180_000,
  }, async () => {
    const runs = path.join(workDir, 'runs');
    const env = { ...withCoda, DATABASE_URL: db.url };
    const planned = await erp(['plan', ...live(), '--mappings', drafts, '--runs', runs], env);
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    const cut = await erp(
      ['cutover', ...live(), '--mappings', drafts, '--runs', runs, '--max-rejects', '1', '--accept-unmapped'],
      env,
    );
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/Cutover committed\..*1 Coda table left behind/);
    expect(cut.stdout).toMatch(/Status "Beta" is not one of the known choices/);

    const prices = await db.query(
      `SELECT name, list_price::text AS price, currency FROM erp.offers ORDER BY name`,
    );
    expect(prices.rows).toEqual([
      { name: 'Workshop (Berlin)', price: '1250.50', currency: 'EUR' },
      { name: 'Workshop (Boston)', price: '900', currency: 'USD' },
    ]);
    const versions = await db.query(`SELECT version FROM erp.service_blueprints ORDER BY version`);
    expect(versions.rows.map((row) => row.version).sort()).toEqual([...AWKWARD].sort());
    const tagged = await db.query(`SELECT name, tags FROM erp.projects ORDER BY name`);
    expect(tagged.rows).toEqual([
      { name: 'Audit', tags: ['Null'] },
      { name: 'Rebrand', tags: ['True', '🚀 Launch'] },
    ]);
    const owners = await db.query(`SELECT full_name FROM erp.people`);
    expect(owners.rows).toEqual([{ full_name: 'Noor Haddad' }]);
  });
});
