/**
 * The words the reports use, explained on the page for a reader who knows the business and not
 * the database. docs/GLOSSARY.md carries the same entries under "Words of the reports" (a test
 * holds them equal), so there is one wording.
 */
export const REPORT_GLOSSARY: readonly { term: string; meaning: string }[] = [
  {
    term: 'Coda link',
    meaning:
      'A link that opens the row or table in the Coda doc, where it can be checked or fixed. Every row the report names links there.',
  },
  {
    term: 'target',
    meaning:
      'The Postgres table a Coda table is loaded into (shown in small type after the Coda name, e.g. erp.people after Team).',
  },
  {
    term: 'rejected',
    meaning:
      'A Coda row that could not be loaded as it is (an empty required cell, an unknown choice, a value a rule forbids). It stays in Coda; the report says why and what to do.',
  },
  {
    term: 'accepted difference',
    meaning:
      'Something that keeps Postgres from being exactly Coda that a cutover accepted on purpose (a rejected row, an empty link, Coda data left behind). It is listed, but does not stop a sign-off.',
  },
  {
    term: 'left behind',
    meaning:
      'Coda data no mapping loads and no mapping skips with a reason. A cutover refuses while any is left behind, unless told to accept it.',
  },
  {
    term: 'skipped on purpose',
    meaning: 'Coda data the mappings keep out of Postgres, each with the reason written in the mapping.',
  },
  {
    term: 'conflict',
    meaning:
      'A row edited or deleted in Postgres since the last load that Coda would change: someone has to say which side wins.',
  },
  {
    term: 'bridge',
    meaning:
      "How a total gets from Coda's figure to Postgres's: Coda − rejected − not converted + extra = Postgres + unexplained, each figure in the total's own unit.",
  },
  {
    term: 'unexplained',
    meaning:
      'The part of a total that rejected, not converted and extra rows do not account for. Anything but 0 is a difference to look at before signing off.',
  },
  {
    term: 'extra',
    meaning:
      'Rows in Postgres that this read of Coda did not load (added by hand, or their Coda row is gone). They are kept.',
  },
];
