/** The extract stage's public API: what the CLI and the transform stage use. */
export type {
  CodaCellValue,
  CodaKnownSingleValue,
  CodaPersonValue,
  CodaRow,
  CodaSingleValue,
  CodaUnrecognisedObject,
  PublicApiColumn,
  PublicApiColumnFormat,
  PublicApiCurrencyValue,
  PublicApiImageUrlValue,
  PublicApiRowValue,
  PublicApiUrlValue,
} from './coda-api-types.ts';
export {
  CodaClient,
  type CodaClientOptions,
  type CodaClientStats,
  type RetryNotice,
  type RowPage,
  type SlowAnswerNotice,
  type TableIdentity,
} from './client.ts';
export {
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT,
  displayBaseUrl,
  formatRateLimit,
  parseRateLimit,
  resolveConnection,
  type CodaConnection,
  type ConnectionSettings,
  type RateLimit,
} from './config.ts';
export { CodaApiError } from './errors.ts';
export {
  createProgress,
  formatRetryNotice,
  formatSlowAnswerNotice,
  formatTableSummary,
  type FullReadReason,
  silentProgress,
  type ExtractProgress,
  type TableSummary,
} from './progress.ts';
export type { RetryPolicy } from './retry-policy.ts';
export {
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  type SnapshotTable,
  type TableRead,
  type TableSyncState,
} from './snapshot-format.ts';
export {
  latestSnapshot,
  readSnapshot,
  type CodaSource,
  type Snapshot,
  type SnapshotEntry,
} from './snapshot-reader.ts';
export {
  defaultSnapshotDir,
  extractSnapshot,
  type DocOutline,
  type ExtractOptions,
  type ExtractResult,
} from './snapshot-writer.ts';
export { systemClock, type Clock, type Random } from './timing.ts';
