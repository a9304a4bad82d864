/**
 * What the database says about a target table: its columns, CHECK constraints and foreign keys.
 * Mappings are checked against this before anything is loaded, and the SQL the load stage runs
 * only ever names tables and columns found here.
 */
import type pg from 'pg';
import { splitQualified } from '../db/identifiers.ts';

export interface TargetColumn {
  name: string;
  /** As Postgres spells it: text, numeric, date, timestamp with time zone, text[], jsonb, bigint ... */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  /** The default as Postgres prints it, e.g. 'USD'::text; null without one. */
  defaultExpression: string | null;
  /** Identity and generated columns are the database's to fill. */
  generated: boolean;
  /** COMMENT ON COLUMN: what the column means, which drafts match Coda column names against. */
  comment: string | null;
}

export interface TargetCheck {
  name: string;
  columns: string[];
  /** The constraint's expression, from pg_get_constraintdef: catalog text, not user input. */
  expression: string;
  /** The rule in one sentence for the owner (COMMENT ON CONSTRAINT), when the schema gives one. */
  comment: string | null;
}

export interface TargetTable {
  /** Schema-qualified, e.g. erp.projects. */
  name: string;
  schema: string;
  table: string;
  columns: Map<string, TargetColumn>;
  checks: TargetCheck[];
  /** Column -> the schema-qualified table its foreign key references. */
  references: Map<string, string>;
}

/**
 * The columns erp tables name their rows by (see the data model), in the order they are tried:
 * the load names an erp row by them, and a draft fills the first with the Coda table's row names.
 */
export const ROW_NAME_COLUMNS: readonly string[] = ['name', 'title', 'full_name', 'objective'];

/** Every table a mapping may target, schema-qualified. */
export async function listTargetTables(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT 'erp.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'erp' AND c.relkind = 'r' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

export async function readTargetTable(
  client: pg.ClientBase,
  qualifiedName: string,
): Promise<TargetTable | undefined> {
  const { schema, table } = splitQualified(qualifiedName);
  const relation = await client.query<{ oid: number }>(
    `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'`,
    [schema, table],
  );
  const oid = relation.rows[0]?.oid;
  if (oid === undefined) return undefined;

  const columns = await client.query<{
    name: string;
    type: string;
    not_null: boolean;
    has_default: boolean;
    default_expression: string | null;
    generated: boolean;
    comment: string | null;
  }>(
    `SELECT a.attname AS name, col_description(a.attrelid, a.attnum) AS comment, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            a.atthasdef AS has_default, pg_get_expr(d.adbin, d.adrelid) AS default_expression,
            (a.attidentity <> '' OR a.attgenerated <> '') AS generated
       FROM pg_attribute a
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const checks = await client.query<{
    name: string;
    columns: string[];
    expression: string;
    comment: string | null;
  }>(
    `SELECT con.conname AS name, obj_description(con.oid, 'pg_constraint') AS comment,
            array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey) ORDER BY a.attnum) AS columns,
            pg_get_constraintdef(con.oid) AS expression
       FROM pg_constraint con
      WHERE con.conrelid = $1 AND con.contype = 'c'
      ORDER BY con.conname`,
    [oid],
  );
  const references = await client.query<{ column: string; referenced: string }>(
    `SELECT a.attname AS column, rn.nspname || '.' || rc.relname AS referenced
       FROM pg_constraint con
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
       JOIN pg_class rc ON rc.oid = con.confrelid
       JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.conrelid = $1 AND con.contype = 'f' AND cardinality(con.conkey) = 1`,
    [oid],
  );
  return {
    name: qualifiedName,
    schema,
    table,
    columns: new Map(
      columns.rows.map((row) => [
        row.name,
        {
          name: row.name,
          type: row.type,
          notNull: row.not_null,
          hasDefault: row.has_default,
          defaultExpression: row.default_expression,
          generated: row.generated,
          comment: row.comment,
        },
      ]),
    ),
    checks: checks.rows,
    references: new Map(references.rows.map((row) => [row.column, row.referenced])),
  };
}

/** A column's default when it is a quoted constant ('USD'::text gives USD); null for none or an expression. */
export function textDefault(column: TargetColumn): string | null {
  return (
    /^'((?:[^']|'')*)'::[a-z ]+$/.exec(column.defaultExpression?.trim() ?? '')?.[1]?.replace(/''/g, "'") ??
    null
  );
}
