/**
 * Failures the extractor reports. Messages are built here from the status and what was being
 * read; axios errors are never passed on, because they carry the request headers (the token).
 */

/** What a request was about, so that a failure names it. */
export interface RequestSubject {
  docId: string;
  table?: { id: string; name: string };
}

export function describeSubject(subject: RequestSubject): string {
  return subject.table
    ? `table "${subject.table.name}" (${subject.table.id}) in doc ${subject.docId}`
    : `doc ${subject.docId}`;
}

export class CodaApiError extends Error {
  override readonly name = 'CodaApiError';

  constructor(
    message: string,
    /** The HTTP status when Coda answered; absent for network failures and unusable bodies. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The message for a status that retrying cannot fix, saying what to check. */
export function refusalMessage(
  status: number,
  subject: RequestSubject,
  codaMessage: string | undefined,
): string {
  const what = describeSubject(subject);
  const idHint = subject.table
    ? `the table id ${subject.table.id}`
    : `the doc id ${subject.docId} (the part after "_d" in the doc's URL)`;
  const advice: Record<number, string> = {
    401: `Coda rejected the API token (401 Unauthorized) while reading ${what}. Check CODA_API_TOKEN (or --token-file): it may be mistyped, expired or revoked.`,
    403: `Coda denied access to ${what} (403 Forbidden). Check that the doc is shared with the account that owns the API token, and that the token is not restricted to other docs.`,
    404: `Coda could not find ${what} (404 Not Found). Check ${idHint}, and that the account that owns the API token can open the doc.`,
    410: `${capitalize(what)} has been deleted in Coda (410 Gone). Check ${idHint}, or restore it from the doc's trash.`,
  };
  const said = codaMessage ? ` Coda said: "${codaMessage}"` : '';
  return (advice[status] ?? `Coda answered ${status} while reading ${what}.`) + said;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
