/**
 * docs/DATABASE_SCHEMA.md, generated from a migrated database: `erp docs` writes it, the test
 * suite regenerates it from a fresh test database and fails when the committed file differs.
 */
import { fileURLToPath } from 'node:url';
import { AGENT_PRIVATE_SCHEMA, API_SCHEMAS, API_SUPPORT_SCHEMA } from '../api/config.ts';
import { API_ROLES, AUTHENTICATOR_ROLE, SERVICE_LOGIN_ROLES } from '../api/roles.ts';
import { BOOKKEEPING_SCHEMA } from '../db/migrations.ts';
import { readCatalog } from './catalog.ts';
import { renderSchemaDocument } from './render.ts';

export const SCHEMA_DOCUMENT = fileURLToPath(new URL('../../docs/DATABASE_SCHEMA.md', import.meta.url));
export const REGENERATE_COMMAND = 'npm run erp -- docs';

/** Schemas that exist only for the machinery: listed briefly, never served. */
const INTERNAL_SCHEMAS = [BOOKKEEPING_SCHEMA, API_SUPPORT_SCHEMA, AGENT_PRIVATE_SCHEMA];

export async function generateSchemaDocument(url: string): Promise<string> {
  const accessRoles = [...API_ROLES, ...SERVICE_LOGIN_ROLES];
  const catalog = await readCatalog(
    url,
    [...API_SCHEMAS, ...INTERNAL_SCHEMAS],
    [AUTHENTICATOR_ROLE, ...accessRoles],
  );
  return renderSchemaDocument(catalog, {
    apiSchemas: API_SCHEMAS,
    accessRoles,
    regenerateCommand: REGENERATE_COMMAND,
  });
}
