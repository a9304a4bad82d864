/** Builders for Coda's rich (JSON-LD) cell values, as `valueFormat=rich` returns them. */
import type {
  CodaPersonValue,
  PublicApiCurrencyValue,
  PublicApiImageUrlValue,
  PublicApiRowValue,
  PublicApiUrlValue,
} from '../../src/extract/index.ts';
import type {
  PublicApiImageStatus,
  PublicApiLinkedDataType,
} from '@codahq/packs-sdk/dist/helpers/external-api/v1.js';
import { rowBrowserLink, tableBrowserLink } from './links.ts';

const SCHEMA_ORG = 'http://schema.org/';

// The SDK declares `@type` and `status` as enums, which a type-only import cannot name as values:
// hence the casts of their string values.

/** A person; Coda leaves out the email of people who are not members of the doc's workspace. */
export function person(name: string, email?: string): CodaPersonValue {
  return {
    '@context': SCHEMA_ORG,
    '@type': 'Person' as PublicApiLinkedDataType.Person,
    name,
    ...(email === undefined ? {} : { email }),
  };
}

/** Coda sends the amount as a number or as a formatted string ("1,500.00"), depending on the doc. */
export function money(amount: number | string, currency = 'USD'): PublicApiCurrencyValue {
  return {
    '@context': SCHEMA_ORG,
    '@type': 'MonetaryAmount' as PublicApiLinkedDataType.MonetaryAmount,
    currency,
    amount,
  };
}

export function image(name: string, url: string, width: number, height: number): PublicApiImageUrlValue {
  return {
    '@context': SCHEMA_ORG,
    '@type': 'ImageObject' as PublicApiLinkedDataType.ImageObject,
    name,
    url,
    width,
    height,
    status: 'live' as PublicApiImageStatus.Live,
  };
}

export function webPage(url: string, name?: string): PublicApiUrlValue {
  return {
    '@context': SCHEMA_ORG,
    '@type': 'WebPage' as PublicApiLinkedDataType.WebPage,
    url,
    ...(name === undefined ? {} : { name }),
  };
}

/** A reference to a row of another table, named by that row's display value. */
export function rowReference(
  docId: string,
  table: { id: string; name: string },
  rowId: string,
  name: string,
): PublicApiRowValue {
  return {
    '@context': SCHEMA_ORG,
    '@type': 'StructuredValue' as PublicApiLinkedDataType.StructuredValue,
    additionalType: 'row',
    name,
    url: rowBrowserLink(docId, table, rowId),
    tableId: table.id,
    rowId,
    tableUrl: tableBrowserLink(docId, table),
  };
}
