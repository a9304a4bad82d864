/**
 * Why a target was missed, in numbers from the same run: where the time goes, and which part a
 * limit of the machine or of the design accounts for. Written into the results beside the figures.
 */
import { baselineOf, LOAD_BASELINES, TARGETS, type BenchResults } from './results.ts';

const seconds = (rows: number, rowsPerSecond: number) => rows / rowsPerSecond;
const format = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} s`;

export function explainTargets(results: BenchResults): string[] {
  const largest = results.sizes.at(-1);
  if (!largest) return [];
  const missed = new Set(
    results.targets.filter((target) => target.met === false).map((target) => target.target),
  );
  const notes: string[] = [];
  const rows = largest.sourceRows;
  const loadSeconds = seconds(rows, largest.loadRowsPerSecond.value);
  const transformSeconds = seconds(rows, largest.transformRowsPerSecond.value);
  const readSeconds = seconds(rows, largest.transformRowsPerSecond.baselines[0]?.value ?? Number.NaN);
  const load = largest.loadRowsPerSecond;
  const rawCopy = baselineOf(load, LOAD_BASELINES.rawCopy);
  const pgloaderUnindexed = baselineOf(load, LOAD_BASELINES.pgloaderUnindexed);
  const pgloaderSameTables = baselineOf(load, LOAD_BASELINES.pgloaderSameTables);
  const at = `at ${largest.taskRows.toLocaleString('en-US')} tasks (${rows.toLocaleString('en-US')} rows in all tables)`;

  if (missed.has(TARGETS.extraction)) {
    const { extraction } = largest;
    const rowsPerRequest =
      extraction.rowsPerSecond.value /
        extraction.requestRateFraction /
        (results.config.codaLimit.requests / (results.config.serverWindowMs / 1000)) || 0;
    notes.push(
      `Extraction ${at}: requests went out at ${(extraction.requestRateFraction * 100).toFixed(1)}% of the allowed rate (the extractor is set to ` +
        `${results.config.clientRequestsPerWindow} of ${results.config.codaLimit.requests} per window), and a request carried ${rowsPerRequest.toFixed(1)} rows on average against ` +
        `${results.config.rowsPerPage} in a full page: the doc, table and column listings and each table's last, partial page carry fewer. Small docs cannot reach the ceiling for that reason alone.`,
    );
  }
  if (
    missed.has(TARGETS.loadVsRawCopy) ||
    missed.has(TARGETS.loadVsPgloader) ||
    missed.has(TARGETS.transform)
  ) {
    notes.push(
      `Load ${at}: ${format(loadSeconds)} in all, of which reading the snapshot takes about ${format(readSeconds)} and reading plus transforming (JSON parsing, ` +
        `row checks, conversions, a content hash per row) about ${format(transformSeconds)}, measured separately on the same rows; the load streams both into its staging COPY. ` +
        `Postgres, meanwhile, copies each chunk into the stage, resolves links and people, checks CHECK rules, inserts into the real tables (a first load into an empty table ` +
        `makes its secondary indexes and foreign keys once its rows are in) and writes one lineage row per loaded row (2 indexes). ` +
        `Node transforms the next chunk while Postgres works on this one, so the ${format(Math.max(0, loadSeconds - transformSeconds))} beyond the transform's own time is Postgres work that the transform did not cover. ` +
        `Raw COPY took ${format(seconds(rows, rawCopy?.value ?? Number.NaN))} for the same rows into heaps with no index, key or trigger` +
        `${pgloaderUnindexed ? `, pgloader ${format(seconds(rows, pgloaderUnindexed.value))} into the same kind of tables` : ''}` +
        `${pgloaderSameTables ? ` and ${format(seconds(rows, pgloaderSameTables.value))} into tables of the same definition as ours (indexes, CHECKs, foreign keys)` : ''}` +
        ': none of them resolves a link, checks a row before writing it or records lineage. ' +
        `On 2 shared cores Node (transform) and Postgres (COPY, indexes) share the CPUs with each other, as pgloader and its Postgres do.`,
    );
  }
  if (missed.has(TARGETS.noChangePlan100k) || missed.has(TARGETS.noChangePlan1M)) {
    notes.push(
      `No-change plan ${at}: ${format(largest.planUnchangedSeconds.value)}. A plan skips the rows whose Coda text, mapping and converter are unchanged since the last cutover ` +
        '(pipeline.coda_lineage.source_hash), but still reads and hashes every row of the snapshot and lets Postgres pick the unchanged ones.',
    );
  }
  if (missed.has(TARGETS.nightlySeconds) || missed.has(TARGETS.nightlyRequests)) {
    const { nightlyPlan } = largest;
    notes.push(
      `Nightly dry run ${at}: ${format(nightlyPlan.seconds.value)} for the whole \`erp plan\`: Node and the CLI start (${format(results.cliStartup.seconds.value)} for \`erp --version\`), ` +
        `${nightlyPlan.requests} requests to Coda (${nightlyPlan.tablesUnchanged} of ${nightlyPlan.tables} tables copied from the previous snapshot unread), ` +
        `and the plan, which takes ${format(nightlyPlan.seconds.baselines[0]?.value ?? Number.NaN)} with the snapshot given.`,
    );
  }
  if (missed.has(TARGETS.cutover)) {
    const cutover = largest.cutoverSeconds;
    const load = cutover.baselines[0]?.value ?? Number.NaN;
    notes.push(
      `Cutover ${at}: ${format(cutover.value)} for the whole \`erp cutover\`, against ${format(load)} for the load of the same rows into an empty database; ` +
        `the other ${format(cutover.value - load)} go to the backup taken first, the commit, the reconciliation of Coda's rows with Postgres and the reports.`,
    );
  }
  if (missed.has(TARGETS.memory)) {
    notes.push(
      `Memory ${at}: \`erp --version\` alone peaks at ${(results.cliStartup.peakRssBytes / 2 ** 20).toFixed(0)} MB (Node and the compiled CLI). ` +
        'The rows stream, but a cutover keeps a summary of every inserted row for its reports (streamed by issue 10), and V8 sizes its heap by the machine, so it collects the garbage of ' +
        'parsing and transforming late: the peak varies from run to run. Capping the heap (NODE_OPTIONS=--max-old-space-size=…) makes V8 collect sooner; ' +
        'the bench measures the CLI as shipped, without a cap.',
    );
  }
  return notes;
}
