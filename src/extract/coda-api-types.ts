/**
 * Coda API v1 types. The response shapes are Coda's own, from `@codahq/packs-sdk` (types only;
 * the SDK is a dev dependency). The `.js` subpath is what resolves under NodeNext: the package has
 * no `exports` map, so the extensionless path is not found.
 *
 * The SDK types are generated from OpenAPI 1.2.5. Where the newer OpenAPI 1.5.0 and real docs are
 * looser (a person without an email, value shapes that are not documented), the types below widen
 * them, so code written against them handles what Coda actually sends.
 */
import type {
  PublicApiCurrencyValue,
  PublicApiImageUrlValue,
  PublicApiPersonValue,
  PublicApiRow,
  PublicApiRowValue,
  PublicApiScalarValue,
  PublicApiUrlValue,
} from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';

export type {
  PublicApiColumn,
  PublicApiColumnFormat,
  PublicApiColumnList,
  PublicApiCurrencyValue,
  PublicApiDoc,
  PublicApiImageUrlValue,
  PublicApiRowDetail,
  PublicApiRowList,
  PublicApiRowValue,
  PublicApiTable,
  PublicApiTableList,
  PublicApiTableReference,
  PublicApiUrlValue,
} from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';

/** Coda's error body (OpenAPI 1.5.0 error responses; the SDK has no type for it). */
export interface CodaErrorBody {
  statusCode: number;
  statusMessage: string;
  message: string;
}

/** A person cell. OpenAPI 1.5.0 makes `email` optional and real docs omit it for non-members. */
export type CodaPersonValue = Omit<PublicApiPersonValue, 'email'> & { email?: string };

/**
 * Any other object in a cell: attachments are undocumented and Coda adds shapes over time. It is
 * data to keep, so consumers must be ready for an object whose `@type` they do not know.
 */
export interface CodaUnrecognisedObject {
  readonly [key: string]: unknown;
}

/** The documented rich values, one per cell or per array element. */
export type CodaKnownSingleValue =
  | PublicApiScalarValue
  | PublicApiCurrencyValue
  | PublicApiImageUrlValue
  | CodaPersonValue
  | PublicApiUrlValue
  | PublicApiRowValue;

export type CodaSingleValue = CodaKnownSingleValue | CodaUnrecognisedObject;

/** A cell as `valueFormat=rich` returns it: a value, or an array nested at most one level. */
export type CodaCellValue = CodaSingleValue | (CodaSingleValue | CodaSingleValue[])[];

/** A row exactly as Coda sent it with `valueFormat=rich`, values keyed by column id. */
export type CodaRow = Omit<PublicApiRow, 'values'> & { values: Record<string, CodaCellValue> };
