/**
 * Deploy-time secrets of the database roles. The migration creates the login roles without
 * passwords; the one-shot `migrate` service in compose.yaml sets them from its secret files
 * (NAME_FILE, read into the environment by src/db/secrets.ts) with `erp set-role-passwords`
 * before PostgREST may start, and refuses unusable values there, since
 * PostgREST 12 would start with a short JWT secret and fail only on the first request.
 */
import pg from 'pg';
import { withClient } from '../db/client.ts';
import { PLACEHOLDER_MARKER } from '../db/secrets.ts';
import { MIN_JWT_SECRET_LENGTH } from './jwt.ts';
import { LOGIN_ROLE_PASSWORD_VARIABLES, type LoginRole } from './roles.ts';

const { escapeIdentifier: quoteIdent, escapeLiteral: quoteLiteral } = pg;

const MIN_PASSWORD_LENGTH = 16;

export interface DeploySecrets {
  passwords: Record<LoginRole, string>;
  jwtSecret: string;
}

/** Reads and checks every deploy-time secret, reporting all problems at once. */
export function readDeploySecrets(env: NodeJS.ProcessEnv): DeploySecrets {
  const problems: string[] = [];
  const usable = (variable: string, minLength: number): string => {
    const value = env[variable] ?? '';
    if (!value) problems.push(`${variable} is not set (nor ${variable}_FILE, the file holding it)`);
    else if (value.includes(PLACEHOLDER_MARKER))
      problems.push(`${variable} still holds the .env.example placeholder`);
    else if (value.length < minLength)
      problems.push(`${variable} has ${value.length} characters; use at least ${minLength}`);
    return value;
  };
  const passwords = Object.fromEntries(
    Object.entries(LOGIN_ROLE_PASSWORD_VARIABLES).map(([role, variable]) => [
      role,
      usable(variable, MIN_PASSWORD_LENGTH),
    ]),
  ) as Record<LoginRole, string>;
  const jwtSecret = usable('JWT_SECRET', MIN_JWT_SECRET_LENGTH);
  if (problems.length) throw new Error(`Deploy secrets are not usable:\n  ${problems.join('\n  ')}`);
  return { passwords, jwtSecret };
}

/**
 * Sets login passwords. ALTER ROLE takes no bind parameters, hence the quoted literal; Postgres
 * stores only the SCRAM verifier, and deploy/postgresql.conf does not log statements.
 */
export async function setLoginRolePasswords(
  url: string,
  passwords: Partial<Record<LoginRole, string>>,
): Promise<void> {
  await withClient(url, async (client) => {
    for (const [role, password] of Object.entries(passwords)) {
      await client.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(password)}`);
    }
  });
}
