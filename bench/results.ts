/**
 * What a benchmark run produces. Every figure carries the baselines measured in the same run, as
 * ratios: the machine is shared and noisy, so absolute times say little on their own.
 */

export interface Baseline {
  /** What was measured instead, in words for the reader of the results. */
  label: string;
  value: number;
  /** figure / baseline; above 1 means the figure is larger (faster for rates, slower for times). */
  ratio: number;
}

export interface Figure {
  value: number;
  unit: 'rows/s' | 's' | 'bytes';
  baselines: Baseline[];
}

export function figure(
  value: number,
  unit: Figure['unit'],
  baselines: { label: string; value: number }[],
): Figure {
  return {
    value,
    unit,
    baselines: baselines.map((baseline) => ({ ...baseline, ratio: value / baseline.value })),
  };
}

/** The load figure's baselines, by label: raw COPY always, pgloader's two when it is installed. */
export const LOAD_BASELINES = {
  rawCopy: 'raw COPY of the same rows into unindexed copies of the tables',
  pgloaderUnindexed: 'pgloader loading the same rows from CSV into unindexed copies',
  pgloaderSameTables:
    'pgloader loading the same rows from CSV into tables of the same definition (indexes, CHECKs, foreign keys)',
} as const;

export type LoadBaseline = (typeof LOAD_BASELINES)[keyof typeof LOAD_BASELINES];

export function baselineOf(figure: Figure, label: LoadBaseline): Baseline | undefined {
  return figure.baselines.find((baseline) => baseline.label === label);
}

export interface ExtractionResult {
  /** Rows of every table, read through the rate limit by `erp extract`. */
  rowsPerSecond: Figure;
  /** Requests per second against the allowed rate: the pacing alone, without partial pages. */
  requestRateFraction: number;
  requests: number;
  rateLimited: number;
  /** Of the CLI process, Node start included. */
  cliSeconds: number;
  peakRssBytes: Figure;
}

export interface SizeResult {
  /** Rows of the largest table (Tasks). */
  taskRows: number;
  /** Rows of every mapped table of the doc. */
  sourceRows: number;
  extraction: ExtractionResult;
  transformRowsPerSecond: Figure;
  loadRowsPerSecond: Figure;
  /** Why there is no pgloader baseline, when there is none. */
  pgloaderNote: string | null;
  planUnchangedSeconds: Figure;
  planChangedSeconds: Figure;
  /** Rows the 10%-changed plan reports as updated. */
  changedRowsPlanned: number;
  /** The owner's nightly dry run of the unchanged doc: `erp plan` reading Coda live, since the last snapshot. */
  nightlyPlan: NightlyPlanResult;
  /** `erp cutover` into an empty database, against the load of the same doc (a plan, every row new). */
  cutoverSeconds: Figure;
  cutoverPeakRssBytes: Figure;
}

export interface NightlyPlanResult {
  /** The CLI's whole run, Node start included, against the plan of the same doc with the snapshot given. */
  seconds: Figure;
  /** Counted by the Coda server: the requests `erp plan` made. */
  requests: number;
  /** The doc's tables, and how many of them the extract copied from the previous snapshot unread. */
  tables: number;
  tablesUnchanged: number;
}

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  postgres: string;
  pgloader: string | null;
}

export interface BenchConfig {
  taskRowSizes: number[];
  /** 1: Coda's real window; 20: a window 20 times shorter, with the same number of requests in it. */
  timeScale: number;
  codaLimit: { requests: number; windowMs: number };
  /** The window the local server enforces: codaLimit.windowMs / timeScale. */
  serverWindowMs: number;
  /** What the extractor is told (--rate-limit): a margin below the server's limit. */
  clientRequestsPerWindow: number;
  rowsPerPage: number;
  /**
   * How many times the load and each of its baselines (raw COPY, pgloader) ran at each size; the
   * figures are their medians.
   */
  loadRuns: number;
  /** Whether pgloader was found, so its baseline is in the results. */
  pgloader: boolean;
}

/** The targets, by the words the results give them (the explanations of a miss look them up). */
export const TARGETS = {
  extraction: 'extraction at 90% or more of the ceiling, no 429 in steady state',
  loadVsRawCopy: 'load at half the speed of raw COPY or better',
  loadVsPgloader: 'load at least 1.5× pgloader into tables of the same definition, at 100k and 1M tasks',
  transform: 'transform not slower than the load (it must not bound it)',
  noChangePlan100k: 'no-change plan of 100k tasks in under 5 s',
  noChangePlan1M: 'no-change plan of 1M tasks, snapshot given, in under 10 s',
  changedPlan: 'plan with 10% changed at most a plan into an empty database, at 100k and 1M tasks',
  nightlyRequests:
    'nightly dry run (`erp plan` reading the unchanged doc live): one request per table, plus the doc and its table list',
  nightlySeconds: 'nightly dry run of the unchanged doc of 100k tasks in under 2 s',
  cutover: 'cutover of 1M tasks at most 1.5× its own load',
  memory: 'peak CLI memory (extract, cutover) under 300 MB at every size, 100k to 1M tasks',
  startup: '`erp --version` starts in under 0.5 s',
} as const;

export interface TargetCheck {
  target: string;
  /** The GitHub issue that set the target. */
  issue: number;
  measured: string;
  /** null: not judged in this run (pgloader missing, no 100k size, or a time-scaled extraction). */
  met: boolean | null;
  note?: string;
}

export interface BenchResults {
  generatedAt: string;
  commit: { sha: string; dirty: boolean };
  machine: MachineDescription;
  config: BenchConfig;
  sizes: SizeResult[];
  migrationSeconds: Figure;
  /** `erp --version`: the median of a few runs, against Node starting with nothing to load. */
  cliStartup: { seconds: Figure; peakRssBytes: number };
  targets: TargetCheck[];
}
