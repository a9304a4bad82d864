/**
 * Reads what docs/DATABASE_SCHEMA.md describes from a live database's catalog: tables, columns,
 * keys, checks, triggers, policies, functions, comments and the privileges of the API and
 * service roles. Every list is sorted, so the same schema always gives the same document.
 */
import { withClient } from '../db/client.ts';

export interface Column {
  name: string;
  type: string;
  notNull: boolean;
  /** Default expression, identity or generation rule, as a reader would write it. */
  default: string | null;
  comment: string | null;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  notNull: boolean;
  target: { schema: string; table: string; columns: string[] };
  onDelete: string;
  comment: string | null;
}

export interface Table {
  schema: string;
  name: string;
  comment: string | null;
  columns: Column[];
  primaryKey: string[];
  unique: { name: string; definition: string }[];
  checks: { name: string; definition: string }[];
  foreignKeys: ForeignKey[];
  triggers: string[];
  policies: { name: string; comment: string | null }[];
  rowLevelSecurity: boolean;
  /** Role name to the privileges it holds, among SELECT, INSERT, UPDATE, DELETE. */
  privileges: Record<string, string[]>;
}

export interface DatabaseFunction {
  schema: string;
  signature: string;
  returns: string;
  comment: string | null;
}

export interface Schema {
  name: string;
  comment: string | null;
  tables: Table[];
  functions: DatabaseFunction[];
}

export interface Role {
  name: string;
  canLogin: boolean;
  comment: string | null;
}

export interface Catalog {
  schemas: Schema[];
  roles: Role[];
}

const ON_DELETE: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};
const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

type Row = Record<string, unknown>;

function groupBy<T extends Row>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

const tableKey = (row: Row) => `${String(row.schema)}.${String(row.table)}`;

export async function readCatalog(
  url: string,
  schemaNames: readonly string[],
  roles: readonly string[],
): Promise<Catalog> {
  return await withClient(url, async (client) => {
    const q = async <R extends Row>(sql: string, params: unknown[] = [schemaNames]) =>
      (await client.query<R>(sql, params)).rows;

    const schemas = await q<{ name: string; comment: string | null }>(
      `SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS comment
         FROM pg_namespace WHERE nspname = ANY ($1) ORDER BY array_position($1, nspname)`,
    );
    const tables = await q<{ schema: string; table: string; comment: string | null; rls: boolean }>(
      `SELECT n.nspname AS schema, c.relname AS table, obj_description(c.oid, 'pg_class') AS comment, c.relrowsecurity AS rls
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p')
        ORDER BY 1, 2`,
    );
    const columns = await q<{
      schema: string;
      table: string;
      name: string;
      type: string;
      not_null: boolean;
      default: string | null;
      comment: string | null;
    }>(
      `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name,
              format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              CASE
                WHEN a.attidentity = 'd' THEN 'identity (by default)'
                WHEN a.attidentity = 'a' THEN 'identity (always)'
                WHEN a.attgenerated = 's' THEN 'generated: ' || pg_get_expr(d.adbin, d.adrelid)
                ELSE pg_get_expr(d.adbin, d.adrelid)
              END AS default,
              col_description(c.oid, a.attnum) AS comment
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, 2, a.attnum`,
    );
    const constraints = await q<{
      schema: string;
      table: string;
      name: string;
      kind: string;
      columns: string[];
      definition: string;
      comment: string | null;
    }>(
      `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype AS kind,
              ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k (attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
              pg_get_constraintdef(con.oid, true) AS definition, obj_description(con.oid, 'pg_constraint') AS comment
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1) AND con.contype IN ('p', 'u', 'c')
        ORDER BY 1, 2, 3`,
    );
    // Unique indexes that are not constraints (expression or partial ones) are keys too.
    const uniqueIndexes = await q<{ schema: string; table: string; name: string; definition: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class c ON c.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1) AND x.indisunique
          AND NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = x.indexrelid)
        ORDER BY 1, 2, 3`,
    );
    const foreignKeys = await q<{
      schema: string;
      table: string;
      name: string;
      columns: string[];
      not_null: boolean;
      target_schema: string;
      target_table: string;
      target_columns: string[];
      on_delete: string;
      comment: string | null;
    }>(
      `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name,
              ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k (attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
              (SELECT bool_and(a.attnotnull) FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)) AS not_null,
              tn.nspname AS target_schema, t.relname AS target_table,
              ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k (attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS target_columns,
              con.confdeltype AS on_delete, obj_description(con.oid, 'pg_constraint') AS comment
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class t ON t.oid = con.confrelid
         JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE n.nspname = ANY ($1) AND con.contype = 'f'
        ORDER BY 1, 2, 3`,
    );
    const triggers = await q<{ schema: string; table: string; definition: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, pg_get_triggerdef(t.oid, true) AS definition
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1) AND NOT t.tgisinternal
        ORDER BY 1, 2, t.tgname`,
    );
    const policies = await q<{ schema: string; table: string; name: string; comment: string | null }>(
      `SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, obj_description(p.oid, 'pg_policy') AS comment
         FROM pg_policy p
         JOIN pg_class c ON c.oid = p.polrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1)
        ORDER BY 1, 2, 3`,
    );
    const privileges = await q<{ schema: string; table: string; role: string; privilege: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, r.role, p.privilege
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN unnest($2::text[]) AS r (role)
         CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS p (privilege, ord)
        WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p')
          AND has_schema_privilege(r.role, n.oid, 'USAGE')
          -- A grant on some columns counts (agent.memory_facts: INSERT without recorded_at).
          AND CASE WHEN p.privilege = 'DELETE' THEN has_table_privilege(r.role, c.oid, p.privilege)
                   ELSE has_any_column_privilege(r.role, c.oid, p.privilege) END
        ORDER BY 1, 2, array_position($2::text[], r.role), p.ord`,
      [schemaNames, roles, TABLE_PRIVILEGES],
    );
    const functions = await q<{ schema: string; signature: string; returns: string; comment: string | null }>(
      `SELECT n.nspname AS schema, format('%s(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) AS signature,
              pg_get_function_result(p.oid) AS returns, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY ($1)
        ORDER BY 1, 2`,
    );

    const roleRows = await q<{ name: string; can_login: boolean; comment: string | null }>(
      `SELECT rolname AS name, rolcanlogin AS can_login, shobj_description(oid, 'pg_authid') AS comment
         FROM pg_roles WHERE rolname = ANY ($1) ORDER BY array_position($1, rolname)`,
      [roles],
    );

    const columnsOf = groupBy(columns, tableKey);
    const constraintsOf = groupBy(constraints, tableKey);
    const uniqueIndexesOf = groupBy(uniqueIndexes, tableKey);
    const foreignKeysOf = groupBy(foreignKeys, tableKey);
    const triggersOf = groupBy(triggers, tableKey);
    const policiesOf = groupBy(policies, tableKey);
    const privilegesOf = groupBy(privileges, tableKey);
    const functionsOf = groupBy(functions, (row) => row.schema);

    const toTable = (row: (typeof tables)[number]): Table => {
      const key = tableKey(row);
      const tableConstraints = constraintsOf.get(key) ?? [];
      const rolePrivileges: Record<string, string[]> = {};
      for (const grant of privilegesOf.get(key) ?? []) {
        rolePrivileges[grant.role] = [...(rolePrivileges[grant.role] ?? []), grant.privilege];
      }
      return {
        schema: row.schema,
        name: row.table,
        comment: row.comment,
        rowLevelSecurity: row.rls,
        columns: (columnsOf.get(key) ?? []).map((column) => ({
          name: column.name,
          type: column.type,
          notNull: column.not_null,
          default: column.default,
          comment: column.comment,
        })),
        primaryKey: tableConstraints.find((constraint) => constraint.kind === 'p')?.columns ?? [],
        unique: [
          ...tableConstraints
            .filter((constraint) => constraint.kind === 'u')
            .map(({ name, definition }) => ({ name, definition })),
          ...(uniqueIndexesOf.get(key) ?? []).map(({ name, definition }) => ({ name, definition })),
        ],
        checks: tableConstraints
          .filter((constraint) => constraint.kind === 'c')
          .map(({ name, definition }) => ({ name, definition })),
        foreignKeys: (foreignKeysOf.get(key) ?? []).map((fk) => ({
          name: fk.name,
          columns: fk.columns,
          notNull: fk.not_null,
          target: { schema: fk.target_schema, table: fk.target_table, columns: fk.target_columns },
          onDelete: ON_DELETE[fk.on_delete] ?? fk.on_delete,
          comment: fk.comment,
        })),
        triggers: (triggersOf.get(key) ?? []).map((trigger) => trigger.definition),
        policies: (policiesOf.get(key) ?? []).map(({ name, comment }) => ({ name, comment })),
        privileges: rolePrivileges,
      };
    };

    return {
      schemas: schemas.map((schema) => ({
        name: schema.name,
        comment: schema.comment,
        tables: tables.filter((table) => table.schema === schema.name).map(toTable),
        functions: functionsOf.get(schema.name) ?? [],
      })),
      roles: roleRows.map((role) => ({ name: role.name, canLogin: role.can_login, comment: role.comment })),
    };
  });
}
