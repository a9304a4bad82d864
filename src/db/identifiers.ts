/**
 * Schema-qualified table names ("erp.tasks"), as the catalog and the lineage spell them: split
 * and quoted here, and nowhere else.
 */
import pg from 'pg';

const { escapeIdentifier: q } = pg;

/** "erp.tasks" -> { schema: 'erp', table: 'tasks' }; a name without a schema has an empty one. */
export function splitQualified(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: '', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** "erp.tasks" -> "erp"."tasks", ready for SQL. */
export function quoteQualified(name: string): string {
  const { schema, table } = splitQualified(name);
  return schema ? `${q(schema)}.${q(table)}` : q(table);
}
