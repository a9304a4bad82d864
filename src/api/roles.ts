/**
 * The database roles of the HTTP API and of the internal services, as created by
 * migrations/003_api_roles.sql. Names live here once so the CLI, the docs generator and the
 * tests agree with the migration (a test checks that they do).
 */

/** PostgREST logs in as this role and switches to the role named in the JWT. */
export const AUTHENTICATOR_ROLE = 'authenticator';
/** Requests without a token run as this role; it can read nothing. */
export const ANONYMOUS_ROLE = 'web_anon';

/** Roles a JWT may claim, with what a token for each is for. */
export const JWT_ROLES = {
  erp_editor: 'ToolJet-style editing: reads and writes erp',
  dashboard_reader: 'dashboards: reads erp and agent, writes nothing',
  agent_service:
    "agent services over HTTP: reads and writes one client's agent rows (the token's client_id), reads the shared agent configuration and erp",
  agent_cross_client:
    'agent services working across clients: reads and writes every client in agent, reads the shared agent configuration and erp',
  agent_config_editor:
    'whoever configures the agents: reads and writes the shared agent configuration (profiles, tools, prompt templates, context recipes), nothing else',
} as const;
export type JwtRole = keyof typeof JWT_ROLES;

/** Every role PostgREST may run a request as. */
export const API_ROLES = [ANONYMOUS_ROLE, ...(Object.keys(JWT_ROLES) as JwtRole[])] as const;

/**
 * Login roles whose passwords are set at deploy time from the environment (never in a
 * migration), each with the variable that holds its password.
 */
export const LOGIN_ROLE_PASSWORD_VARIABLES = {
  [AUTHENTICATOR_ROLE]: 'AUTHENTICATOR_PASSWORD',
  planner_api: 'PLANNER_API_PASSWORD',
  memory_gateway: 'MEMORY_GATEWAY_PASSWORD',
} as const;
export type LoginRole = keyof typeof LOGIN_ROLE_PASSWORD_VARIABLES;

/** The internal services that connect directly on the private network. */
export const SERVICE_LOGIN_ROLES = ['planner_api', 'memory_gateway'] as const satisfies readonly LoginRole[];

/**
 * The one JWT role not scoped to a client (migration 008): dashboard_reader and agent_service
 * see agent client rows only with a client_id claim, and none without it.
 */
export const CROSS_CLIENT_ROLE = 'agent_cross_client' satisfies JwtRole;

export function isJwtRole(role: string): role is JwtRole {
  return Object.hasOwn(JWT_ROLES, role);
}
