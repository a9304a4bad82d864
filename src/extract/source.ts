/** A CodaSource from either an existing snapshot directory (`--snapshot DIR`) or a live extraction. */
import { readSnapshot, type Snapshot } from './snapshot-reader.ts';
import { extractSnapshot, type ExtractOptions } from './snapshot-writer.ts';

export type SourceOptions = { snapshotDir: string } | ExtractOptions;

/** Live reads extract to a snapshot first: later stages then see one kind of source, and the run leaves a record. */
export async function openCodaSource(options: SourceOptions): Promise<Snapshot> {
  if ('snapshotDir' in options) return readSnapshot(options.snapshotDir);
  const { dir } = await extractSnapshot(options);
  return readSnapshot(dir);
}
