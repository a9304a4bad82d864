/**
 * `erp mappings list | draft | check`: the doc's tables and columns, drafts that load as they
 * are, and every problem of a mapping folder against the doc and the database.
 */
import type { Command } from 'commander';
import { withClient } from '../db/client.ts';
import { assertMigrated } from '../db/migrations.ts';
import { withDatabase } from '../db/target.ts';
import { checkCoverage, checkMappingsAgainstDoc } from '../draft/check.ts';
import type { DraftTable } from '../draft/draft-mapping.ts';
import { readMigratedSchema, readSchema } from '../draft/target-schema.ts';
import {
  chooseWantedTables,
  planDrafts,
  refusedDraft,
  writeDraftMappings,
  type DraftPlan,
} from '../draft/write-drafts.ts';
import { prepareLoads } from '../load/core/load-plan.ts';
import { mappingProblemsText } from '../report/mapping-problems.ts';
import { MappingError, type MappingProblem } from '../transform/mapping-problems.ts';
import { MAPPINGS_DIR, readMappingFolder } from '../transform/mapping-spec.ts';
import { mappingProblemsAgainstDoc } from '../transform/transform.ts';
import { addCodaOptions, codaClient, openSource, type CodaOptions } from './coda-options.ts';
import { displayPath } from './extract-commands.ts';

async function draftTables(options: CodaOptions): Promise<DraftTable[]> {
  if (options.snapshot || !options.doc) return (await openSource(options)).source.manifest().tables;
  const client = await codaClient(options);
  const tables = await client.listBaseTables(options.doc);
  return Promise.all(
    tables.map(async (table) => ({
      id: table.id,
      name: table.name,
      columns: await client.listColumns(options.doc!, table),
    })),
  );
}

export function registerMappingCommands(program: Command): void {
  const mappings = program
    .command('mappings')
    .description("list a doc's tables and columns, write draft mapping files, and check a mapping folder");
  addCodaOptions(
    mappings
      .command('list')
      .description('every base table and column: name, id, format, formula, link target'),
    { snapshot: true },
  ).action(async (options: CodaOptions) => {
    const tables = await draftTables(options);
    for (const table of tables) {
      console.log(`${table.name} (${table.id})`);
      for (const column of table.columns) {
        const format = column.format as {
          type: string;
          isArray?: boolean;
          table?: { id?: string; name?: string };
        };
        const link = format.table ? ` -> ${format.table.name ?? ''} (${format.table.id ?? '?'})` : '';
        console.log(
          `  ${column.id}  ${column.name}  ${format.type}${format.isArray ? ' list' : ''}${column.calculated ? ' formula' : ''}${link}`,
        );
      }
    }
  });
  addCodaOptions(
    mappings
      .command('check')
      .description(
        'check a mapping folder against the doc and the database without loading: every problem with its file, field and fix, and every choice the value maps miss; exit 1 on any',
      )
      .option(
        '--out <dir>',
        'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)',
      )
      .option('--mappings <dir>', 'the mapping files', MAPPINGS_DIR),
    { snapshot: true },
  ).action(async (options: CodaOptions & { mappings: string }) => {
    const { mappings: loaded, skippedTables, problems } = await readMappingFolder(options.mappings);
    // A table or column the doc lacks is told from the doc's columns: the rows, which only the
    // choices need, are then not read at all.
    let docTables = new Set<string>();
    const unlikeTheDoc: MappingProblem[] = [];
    const opened = await openSource(options, (outline) => {
      docTables = new Set(outline.tables.map((table) => table.id));
      unlikeTheDoc.push(...mappingProblemsAgainstDoc(loaded, outline.doc, outline.tables));
      if (unlikeTheDoc.length) throw new MappingError(unlikeTheDoc);
    }).catch((error: unknown) => {
      if (unlikeTheDoc.length) return null;
      throw error;
    });
    problems.push(...unlikeTheDoc);
    await withDatabase(async (target) => {
      await assertMigrated(target.url, target.label);
      if (opened) {
        problems.push(
          ...(await checkMappingsAgainstDoc(opened.source, loaded, await readSchema(target.url))),
        );
        problems.push(...(await checkCoverage(opened.source, { mappings: loaded, skippedTables })));
      }
      await withClient(target.url, (client) => prepareLoads(client, loaded, docTables)).catch(
        (error: unknown) => {
          if (!(error instanceof MappingError)) throw error;
          problems.push(...error.problems);
        },
      );
    });
    if (problems.length) {
      const unread = opened
        ? ''
        : ' No row was read, so the choices in the doc are not checked yet: run the check again once the mappings fit the doc.';
      console.log(
        `${mappingProblemsText(problems)}\n\n${problems.length} problem(s) in ${displayPath(options.mappings)}.${unread}`,
      );
      process.exitCode = 1;
    } else
      console.log(
        `${loaded.length} mapping file(s) in ${displayPath(options.mappings)} fit the doc and the database; every choice in the doc is mapped, and every Coda column and table holding data is loaded or skipped.`,
      );
  });
  addCodaOptions(
    mappings
      .command('draft')
      .description(
        'write mapping files for the named tables that load as they are: columns by id, choices from the doc, the target from the migrations (no database needed)',
      )
      .requiredOption(
        '--table <names...>',
        'Coda table names or ids to draft; "Name=erp.table" when the name does not say which erp table it fills',
      )
      .option(
        '--out <dir>',
        'where a live extract writes its snapshot (default: snapshots/<docId>-<UTC time>)',
      )
      .option('--mappings <dir>', 'a new folder for the drafts (default: mappings-<docId>)')
      .option('--force', 'overwrite mapping files that already exist in that folder'),
    { snapshot: true },
  ).action(async (options: CodaOptions & { table: string[]; mappings?: string; force?: boolean }) => {
    // Whatever the doc's list of tables can refuse (a name that matches none, an unknown target,
    // a file in the way) is refused before a row is read; the schema comes from the migrations.
    let plan: DraftPlan | undefined;
    let dir = options.mappings ?? '';
    const { source } = await openSource(options, async ({ doc, tables }) => {
      const named = chooseWantedTables(options.table, tables);
      if (named.problems.length) throw refusedDraft(named.problems);
      dir = options.mappings ?? `mappings-${doc.id}`;
      const planned = planDrafts(
        { wanted: options.table, dir, force: options.force ?? false, schema: await readMigratedSchema() },
        tables,
      );
      if (planned.problems.length) throw refusedDraft(planned.problems);
      plan = planned.plan;
    });
    const written = await writeDraftMappings(source, plan!);
    for (const draft of written) {
      console.log(`wrote ${displayPath(draft.file)} (-> ${draft.target})`);
      for (const choice of draft.review)
        console.log(`  review ${choice}: not mapped, such rows are rejected`);
      for (const { label, reason } of draft.skipped) console.log(`  skip "${label}": ${reason}`);
      if (draft.unfilled.length)
        console.log(
          `  ${draft.target} needs ${draft.unfilled.join(', ')}, which no Coda column matched: map them before planning`,
        );
    }
    const from = options.snapshot ? `--snapshot ${source.dir}` : `--doc ${source.manifest().doc.id}`;
    console.log(`
Next, with this folder on every command:
  npm run erp -- mappings check ${from} --mappings ${displayPath(dir)}
  npm run erp -- plan ${from} --mappings ${displayPath(dir)}
  npm run erp -- cutover ${from} --mappings ${displayPath(dir)}`);
  });
}
