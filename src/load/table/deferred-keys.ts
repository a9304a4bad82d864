/**
 * A first load into an empty table builds its secondary indexes and checks its foreign keys once,
 * after its rows are in, as pg_restore does, instead of row by row: at 100k tasks the row-by-row
 * foreign-key checks alone took 1.4 s, and keeping seven indexes up to date row by row costs more
 * than building them from the finished table.
 *
 * Only when the table is empty when the load starts (nobody's rows can be affected) and this
 * session's user owns it. The table's non-unique indexes and its foreign keys are dropped in the
 * load's transaction and made again, from their own definitions, comments included, before the
 * load goes on: adding a foreign key checks every row in one join, and refuses the load if a row
 * does not match, exactly as the row-by-row check would have. Unique indexes and CHECKs stay.
 *
 * Dropping takes an exclusive lock on the table and the tables its keys point at until the load
 * ends. Should another session hold one of them for more than a few seconds, the load goes on the
 * row-by-row way instead of waiting.
 *
 * The definitions are the server's own (pg_get_constraintdef, pg_get_indexdef), read from the
 * catalog in this transaction; names are quoted.
 */
import pg from 'pg';

const { escapeIdentifier: q, escapeLiteral: literal } = pg;

/** How long the drop may wait for a lock before the load keeps the keys and indexes as they are. */
const LOCK_WAIT = '1s';

export interface DeferredKeys {
  /** Makes the indexes and foreign keys again; a row that breaks a key fails the load. */
  restore(): Promise<void>;
}

interface KeyOrIndex {
  kind: 'foreign key' | 'index';
  name: string;
  definition: string;
  comment: string | null;
}

export async function deferKeysOfEmptyTable(
  client: pg.ClientBase,
  target: { schema: string; table: string },
): Promise<DeferredKeys | null> {
  const table = `${q(target.schema)}.${q(target.table)}`;
  const { rows: state } = await client.query<{ empty: boolean; owned: boolean }>(
    `SELECT NOT EXISTS (SELECT FROM ${table}) AS empty,
            pg_has_role(current_user, c.relowner, 'USAGE') AS owned
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [table],
  );
  if (!state[0]?.empty || !state[0].owned) return null;
  const { rows: deferred } = await client.query<KeyOrIndex>(
    `SELECT 'foreign key' AS kind, conname AS name, pg_get_constraintdef(oid) AS definition,
            obj_description(oid, 'pg_constraint') AS comment
       FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'
     UNION ALL
     SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class')
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass AND NOT i.indisunique
        AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)
      ORDER BY 1, 2`,
    [table],
  );
  if (!deferred.length) return null;

  await client.query('SAVEPOINT defer_keys');
  try {
    // Set for the savepoint only: released, it is the transaction's again; rolled back, undone.
    const { rows: before } = await client.query<{ wait: string }>(
      `SELECT current_setting('lock_timeout') AS wait, set_config('lock_timeout', $1, true)`,
      [LOCK_WAIT],
    );
    for (const item of deferred)
      await client.query(
        item.kind === 'foreign key'
          ? `ALTER TABLE ${table} DROP CONSTRAINT ${q(item.name)}`
          : `DROP INDEX ${q(target.schema)}.${q(item.name)}`,
      );
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [before[0]?.wait ?? '0']);
    await client.query('RELEASE SAVEPOINT defer_keys');
  } catch (error) {
    // 55P03: a lock not granted in time. Anything else is a real failure.
    if ((error as { code?: string }).code !== '55P03') throw error;
    await client.query('ROLLBACK TO SAVEPOINT defer_keys');
    return null;
  }

  return {
    async restore() {
      for (const item of deferred) {
        await client.query(
          item.kind === 'foreign key'
            ? `ALTER TABLE ${table} ADD CONSTRAINT ${q(item.name)} ${item.definition}`
            : item.definition,
        );
        if (item.comment !== null)
          await client.query(
            item.kind === 'foreign key'
              ? `COMMENT ON CONSTRAINT ${q(item.name)} ON ${table} IS ${literal(item.comment)}`
              : `COMMENT ON INDEX ${q(target.schema)}.${q(item.name)} IS ${literal(item.comment)}`,
          );
      }
    },
  };
}
