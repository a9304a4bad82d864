/**
 * The shape of a fake Coda doc: what the server serves, in Coda's rich value format. Tables hand
 * out rows by index so that a synthetic table of any size needs no memory.
 */
import type { CodaKnownSingleValue } from '../../src/extract/index.ts';
import type {
  PublicApiColumnFormatType,
  PublicApiCurrencyFormatType,
  PublicApiLinkDisplayType,
} from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';

/** Fixture values are the documented shapes only: a typo in a fixture must not type-check. */
export type FixtureCellValue = CodaKnownSingleValue | (CodaKnownSingleValue | CodaKnownSingleValue[])[];

/** A column format as stored; the server turns it into Coda's PublicApiColumnFormat. */
export interface FixtureColumnFormat {
  type: `${PublicApiColumnFormatType}`;
  isArray: boolean;
  /** lookup: the id of the table it points to. */
  table?: string;
  /** select: the fixed options. */
  options?: string[];
  /** checkbox (required by OpenAPI 1.5.0). */
  displayType?: 'check' | 'toggle';
  /** currency */
  currencyCode?: string;
  precision?: number;
  currencyFormat?: `${PublicApiCurrencyFormatType}`;
  /** date */
  format?: string;
  /** dateTime */
  dateFormat?: string;
  timeFormat?: string;
  /** link */
  display?: `${PublicApiLinkDisplayType}`;
}

export interface FixtureColumn {
  id: string;
  name: string;
  display?: boolean;
  calculated?: boolean;
  formula?: string;
  format: FixtureColumnFormat;
}

export interface FixtureRow {
  id: string;
  createdAt: string;
  updatedAt: string;
  /** Keyed by column id; every column of the table has a value ("" when empty). */
  values: Record<string, FixtureCellValue>;
}

export interface FixtureTable {
  id: string;
  name: string;
  tableType: 'table' | 'view';
  /** For a view: the base table it shows. */
  parentTableId?: string;
  createdAt: string;
  updatedAt: string;
  columns: FixtureColumn[];
  rowCount: number;
  /** The row at `index` (0-based, creation order); may build it on demand. */
  rowAt(index: number): FixtureRow;
}

export interface FixtureDoc {
  id: string;
  name: string;
  owner: string;
  ownerName: string;
  createdAt: string;
  updatedAt: string;
  /** Coda's docSize.overApiSizeLimit: true makes every data read pointless. */
  overApiSizeLimit?: boolean;
  tables: FixtureTable[];
}
