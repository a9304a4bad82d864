import path from 'node:path';
import type { Command } from 'commander';
import type { TableRead } from '../extract/index.ts';
import { addCodaOptions, extractFromOptions, type CodaOptions } from './coda-options.ts';

/** Relative to the working directory when inside it, as the user most likely typed it. */
export function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

export function registerExtractCommands(program: Command): void {
  addCodaOptions(
    program
      .command('extract')
      .description(
        'read every base table of a Coda doc into a new snapshot directory (manifest.json, tables/<tableId>.jsonl); only what changed since the previous snapshot unless --full',
      )
      .option('--out <dir>', 'the snapshot directory to create (default: snapshots/<docId>-<UTC time>)'),
    { snapshot: false },
  ).action(async (options: CodaOptions) => {
    const { dir, manifest, client, previous } = await extractFromOptions(options);
    const rows = manifest.tables.reduce((sum, table) => sum + table.rowCount, 0);
    const { requests, rateLimited, transientFailures } = client.stats;
    const spared = (read: TableRead) => manifest.tables.filter((table) => table.coda?.read === read).length;
    const since = previous
      ? `; since ${displayPath(previous)}: ${spared('unchanged')} unchanged, ${spared('changes')} read for their changes only`
      : '';
    console.log(
      `Snapshot of "${manifest.doc.name}" (${manifest.tables.length} tables, ${rows.toLocaleString('en-US')} rows${since}) written to ${displayPath(dir)}` +
        ` (${requests} requests, ${rateLimited} rate-limited, ${transientFailures} retried after a fault)`,
    );
  });
}
