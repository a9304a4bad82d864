/**
 * compose.yaml and the files it uses, checked statically (there is no Docker in CI): pinned
 * images, limits, health checks, networks, Traefik routing, start order, and every variable it
 * reads documented in .env.example.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CLIENT_TIMEOUTS_MS,
  DEFAULT_JWT_AUDIENCE,
  MAX_REQUEST_BODY_BYTES,
  MAX_ROWS,
  PRODUCTION_DB_POOL,
  RATE_LIMITS,
  SHARED_POSTGREST_SETTINGS,
} from '../../src/api/config.ts';
import { POSTGREST_VERSION } from '../../src/api/postgrest-binary.ts';
import { PLACEHOLDER_MARKER } from '../../src/db/secrets.ts';
import { AUTHENTICATOR_ROLE, LOGIN_ROLE_PASSWORD_VARIABLES } from '../../src/api/roles.ts';
import { DATABASE_NAME, OWNER_ROLE } from '../../src/db/target.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  networks?: string[];
  ports?: unknown;
  profiles?: string[];
  labels?: string[];
  volumes?: string[];
  deploy?: { resources?: { limits?: { memory?: string; cpus?: string } } };
  restart?: string;
  secrets?: string[];
}

const read = (file: string) => readFileSync(file, 'utf8');
const composeText = read('compose.yaml');
const compose = parse(composeText, { merge: true }) as {
  name?: string;
  secrets?: unknown;
  services: Record<string, Service>;
  networks: Record<string, { external?: boolean; name?: string }>;
  volumes: Record<string, unknown>;
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
};
/** Every router limits the rate first (no body is read for a refused request), then the body. */
const FIRST_MIDDLEWARES = ['erp-db-rate-address', 'erp-db-rate-token', 'erp-db-body-limit'];
const postgres = service('postgres-erp');
const postgrest = service('postgrest-erp');
const migrate = service('migrate');
const coda = service('coda-migration');

/** KEY=value lines of .env.example. */
const envExample = new Map(
  read('.env.example')
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
);

/** Traefik labels as a map, key without the traefik. prefix. */
const labels = new Map(
  (postgrest.labels ?? []).map(
    (label) =>
      [
        label.slice(0, label.indexOf('=')).replace(/^traefik\./, ''),
        label.slice(label.indexOf('=') + 1),
      ] as const,
  ),
);

describe('the project', () => {
  it('has a fixed name, so the data volume does not depend on the folder of the checkout', () => {
    expect(compose.name).toBe('postgres-erp');
  });

  it('migrates once per deploy: no job of a profile (run by hand, often) starts migrate', () => {
    const byHand = Object.entries(compose.services).filter(([, { profiles }]) => profiles?.length);
    expect(byHand.length).toBeGreaterThan(1);
    for (const [name, { depends_on }] of byHand)
      expect(Object.keys(depends_on ?? {}), name).not.toContain('migrate');
  });
});

describe('the services', () => {
  it('are the database, the one-shot migration, the API and the tool jobs', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'agent-sweep',
      'backup',
      'coda-migration',
      'erp-cli',
      'migrate',
      'postgres-erp',
      'postgrest-erp',
    ]);
  });

  it('pin their images, never latest', () => {
    expect(postgres.image).toBe('postgres:15-alpine');
    expect(postgrest.image).toBe(`postgrest/postgrest:v${POSTGREST_VERSION}`);
    for (const [name, { image }] of Object.entries(compose.services)) {
      expect(image, name).toMatch(/:[^:]+$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
  });

  it('are limited to the droplet budget', () => {
    expect(postgres.deploy?.resources?.limits).toEqual({ memory: '300M', cpus: '0.5' });
    expect(postgrest.deploy?.resources?.limits).toEqual({ memory: '100M', cpus: '0.25' });
    for (const [name, { deploy }] of Object.entries(compose.services))
      expect(deploy?.resources?.limits?.memory, name).toBeTruthy();
    // The Haskell heap cap sits below the container limit.
    expect(postgrest.environment?.GHCRTS).toBe('-M80m');
  });
});

describe('postgres-erp', () => {
  it('creates the portfolio database owned by erp_admin, with the password from its secret file', () => {
    expect(postgres.environment).toMatchObject({ POSTGRES_DB: DATABASE_NAME, POSTGRES_USER: OWNER_ROLE });
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
    expect(postgres.environment).not.toHaveProperty('POSTGRES_PASSWORD');
  });

  it('is health-checked with pg_isready, keeps its data in a named volume and publishes no port', () => {
    expect(postgres.healthcheck?.test.join(' ')).toMatch(/pg_isready -h 127\.0\.0\.1/);
    expect(postgres.volumes).toContain('postgres-erp-data:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('postgres-erp-data');
    expect(postgres.ports).toBeUndefined();
    expect(postgres.networks).toEqual(['portfolio-network']);
  });

  it('runs with deploy/postgresql.conf, sized for 300 MB', () => {
    expect(postgres.volumes).toContain('./deploy/postgresql.conf:/etc/postgresql/postgresql.conf:ro');
    expect(postgres.command).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf']);
    const settings = Object.fromEntries(
      read('deploy/postgresql.conf')
        .split('\n')
        .map((line) => /^(\w+)\s*=\s*'?([^'#]*?)'?\s*(#.*)?$/.exec(line))
        .filter((match) => match !== null)
        .map((match) => [match[1], match[2]]),
    );
    expect(settings).toMatchObject({
      listen_addresses: '*',
      shared_buffers: '64MB',
      max_connections: '25',
      work_mem: '2MB',
      maintenance_work_mem: '32MB',
      effective_cache_size: '200MB',
      max_parallel_workers_per_gather: '0',
      autovacuum_max_workers: '2',
      log_statement: 'none',
    });
  });
});

describe('the migrate service', () => {
  it('is built from the repository, migrates, then sets the role passwords', () => {
    expect(migrate.build).toMatchObject({ context: '.' });
    expect(migrate.command?.join(' ')).toMatch(
      /^node dist\/cli\/main\.js migrate && node dist\/cli\/main\.js set-role-passwords$/,
    );
    expect(migrate.depends_on).toEqual({ 'postgres-erp': { condition: 'service_healthy' } });
  });

  it('gets every deploy secret that set-role-passwords checks, as a file', () => {
    for (const variable of [...Object.values(LOGIN_ROLE_PASSWORD_VARIABLES), 'JWT_SECRET']) {
      expect(migrate.environment?.[`${variable}_FILE`], variable).toBe(
        `/run/secrets/${variable.toLowerCase()}`,
      );
      expect(migrate.environment, variable).not.toHaveProperty(variable);
    }
    expect(migrate.environment?.DATABASE_URL).toBe(
      `postgresql://${OWNER_ROLE}@postgres-erp:5432/${DATABASE_NAME}`,
    );
    expect(migrate.environment?.PGPASSWORD_FILE).toBe('/run/secrets/postgres_password');
  });

  it('must finish before the API starts', () => {
    expect(postgrest.depends_on).toEqual({
      'postgres-erp': { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
  });
});

describe('the agent-sweep service', () => {
  const sweep = service('agent-sweep');
  it('keeps sweeping expired agent memory as the owner, once the migrations are in', () => {
    expect(sweep.build).toMatchObject({ context: '.' });
    expect(sweep.command).toEqual(['agent', 'sweep', '--every', '15']);
    expect(sweep.restart).toBe('unless-stopped');
    expect(sweep.environment?.DATABASE_URL).toBe(migrate.environment?.DATABASE_URL);
    expect(sweep.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
  });
});

describe("the stack's health", () => {
  const sweep = service('agent-sweep');
  it('is checked by `erp doctor` in agent-sweep, unhealthy on FAIL (exit 2) only, with the API and backups in view', async () => {
    const [kind, script] = sweep.healthcheck?.test ?? [];
    expect(kind).toBe('CMD-SHELL');
    expect(script).toMatch(/^node dist\/cli\/main\.js doctor;/);
    // The probe as Docker runs it, with a stand-in `node` exiting as the doctor would.
    const bin = await mkdtemp(path.join(os.tmpdir(), 'erp-healthcheck-'));
    try {
      await writeFile(path.join(bin, 'node'), '#!/bin/sh\nexit "$DOCTOR_EXIT"\n', { mode: 0o755 });
      const probe = (exit: number) =>
        spawnSync('/bin/sh', ['-c', script!.replaceAll('$$', '$')], {
          env: { PATH: `${bin}:${process.env.PATH}`, DOCTOR_EXIT: String(exit) },
        }).status;
      expect([probe(0), probe(1), probe(2)]).toEqual([0, 0, 1]);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
    for (const name of ['agent-sweep', 'erp-cli']) {
      expect(service(name).environment?.POSTGREST_ADMIN_URL, name).toBe(
        `http://postgrest-erp:${postgrest.environment?.PGRST_ADMIN_SERVER_PORT}`,
      );
      expect(service(name).volumes, name).toEqual(
        expect.arrayContaining(['./coda/runs:/app/runs:ro', './backups:/app/backups:ro']),
      );
    }
    expect(coda.volumes).toContain('./coda/runs:/app/runs');
  });
});

describe('backups', () => {
  const backup = service('backup');
  it('are taken every night by the backup service into the folder the doctor reads, and copied where the cutover copies its own', () => {
    expect(backup.command).toEqual(['backup', '--daily-at', expect.stringMatching(/^\d\d:\d\d$/)]);
    expect(backup.restart).toBe('unless-stopped');
    expect(backup.volumes).toContain('./backups:/app/backups');
    expect(Object.keys(backup.depends_on ?? {})).toEqual(['postgres-erp']);
    for (const name of ['BACKUP_TARGET', 'BACKUP_KEEP', 'BACKUP_S3_ENDPOINT', 'AWS_SECRET_ACCESS_KEY_FILE'])
      expect(coda.environment?.[name], name).toBe(backup.environment?.[name]);
    expect(coda.volumes).toEqual(
      expect.arrayContaining(backup.volumes!.filter((volume) => volume.endsWith(':/app/offsite'))),
    );
    for (const name of [
      'BACKUP_TARGET',
      'BACKUP_KEEP',
      'BACKUP_S3_ENDPOINT',
      'BACKUP_S3_REGION',
      'BACKUP_OFFSITE_DIR',
    ])
      expect(envExample.has(name), name).toBe(true);
  });
});

describe('postgrest-erp', () => {
  it('is configured as src/api/config.ts configures the local API', () => {
    expect(postgrest.environment).toMatchObject(SHARED_POSTGREST_SETTINGS);
    expect(postgrest.environment?.PGRST_DB_MAX_ROWS).toBe(String(MAX_ROWS));
    expect(postgrest.environment?.PGRST_DB_POOL).toBe(String(PRODUCTION_DB_POOL));
    // PostgREST reads a value starting with @ from that file.
    expect(postgrest.environment?.PGRST_DB_URI).toBe('@/run/secrets/postgrest_db_uri');
    expect(postgrest.environment?.PGRST_JWT_SECRET).toBe('@/run/secrets/jwt_secret');
    expect(postgrest.environment?.PGRST_JWT_AUD).toMatch(/^\$\{JWT_AUDIENCE:\?/);
    expect(envExample.get('JWT_AUDIENCE')).toBe(DEFAULT_JWT_AUDIENCE);
  });

  it('is on the private network and on a network of its own, which only Traefik joins, never on the shared proxy network', () => {
    expect(postgrest.networks).toEqual(['portfolio-network', 'erp-api']);
    expect(compose.networks['erp-api']).toEqual({ name: 'erp-api', internal: true });
    expect(compose.networks['portfolio-network']).toEqual({ name: 'portfolio-network' });
    for (const [name, { networks }] of Object.entries(compose.services))
      if (name !== 'postgrest-erp') expect(networks, name).not.toContain('erp-api');
    expect(Object.keys(compose.networks)).not.toContain('docker_proxy');
  });

  it('is health-checked by Traefik on the admin server, which no router exposes', () => {
    const { PGRST_SERVER_PORT: apiPort, PGRST_ADMIN_SERVER_PORT: adminPort } = postgrest.environment ?? {};
    expect(apiPort).not.toBe(adminPort);
    expect(labels.get('http.services.postgrest-erp.loadbalancer.server.port')).toBe(apiPort);
    expect(labels.get('http.services.postgrest-erp.loadbalancer.healthcheck.path')).toBe('/ready');
    expect(labels.get('http.services.postgrest-erp.loadbalancer.healthcheck.port')).toBe(adminPort);
    const services = [...labels]
      .filter(([key]) => /^http\.services\.[^.]+\./.test(key))
      .map(([key]) => key.split('.')[2]);
    expect(new Set(services)).toEqual(new Set(['postgrest-erp']));
    expect(postgrest.healthcheck).toBeUndefined();
  });

  it('has a router for header-based access and one per schema prefix, each naming its service', () => {
    const routers = [
      ...new Set(
        [...labels.keys()].filter((key) => key.startsWith('http.routers.')).map((key) => key.split('.')[2]),
      ),
    ].sort();
    expect(routers).toEqual(['erp-db', 'erp-db-agent', 'erp-db-erp']);
    for (const router of routers)
      expect(labels.get(`http.routers.${router}.service`), router).toBe('postgrest-erp');
    expect(labels.get('http.routers.erp-db.rule')).toBe('Host(`erp-db.bestviable.com`)');
    expect(labels.get('enable')).toBe('true');
    expect(labels.get('docker.network')).toBe('erp-api');
  });

  it.each(['erp', 'agent'])(
    'routes /%s/... with the prefix stripped and both profile headers overwritten',
    (schema) => {
      const router = `http.routers.erp-db-${schema}`;
      expect(labels.get(`${router}.rule`)).toBe(
        `Host(\`erp-db.bestviable.com\`) && (Path(\`/${schema}\`) || PathPrefix(\`/${schema}/\`))`,
      );
      const middlewares = labels.get(`${router}.middlewares`)?.split(',') ?? [];
      const strip = middlewares.find((name) => labels.has(`http.middlewares.${name}.stripprefix.prefixes`));
      const profile = middlewares.find((name) =>
        labels.has(`http.middlewares.${name}.headers.customrequestheaders.Accept-Profile`),
      );
      expect(labels.get(`http.middlewares.${strip}.stripprefix.prefixes`)).toBe(`/${schema}`);
      expect(labels.get(`http.middlewares.${profile}.headers.customrequestheaders.Accept-Profile`)).toBe(
        schema,
      );
      expect(labels.get(`http.middlewares.${profile}.headers.customrequestheaders.Content-Profile`)).toBe(
        schema,
      );
      expect(middlewares).toEqual([...FIRST_MIDDLEWARES, strip, profile]);
    },
  );

  it('refuses request bodies over the limit in Traefik, on every router, before PostgREST reads them', () => {
    expect(labels.get('http.middlewares.erp-db-body-limit.buffering.maxRequestBodyBytes')).toBe(
      String(MAX_REQUEST_BODY_BYTES),
    );
    for (const router of ['erp-db', 'erp-db-erp', 'erp-db-agent'])
      expect(labels.get(`http.routers.${router}.middlewares`)?.split(',').slice(0, 3), router).toEqual(
        FIRST_MIDDLEWARES,
      );
  });

  it("rate-limits every router per address and per token, with the local proxy's figures, before reading a body", () => {
    const limit = (name: string) => ({
      average: Number(labels.get(`http.middlewares.${name}.ratelimit.average`)),
      burst: Number(labels.get(`http.middlewares.${name}.ratelimit.burst`)),
      source: labels.get(`http.middlewares.${name}.ratelimit.sourcecriterion.requestheadername`),
    });
    // Behind the tunnel every connection comes from cloudflared: the client's address is Cloudflare's header.
    expect(limit('erp-db-rate-address')).toEqual({ ...RATE_LIMITS.perAddress, source: 'Cf-Connecting-Ip' });
    expect(limit('erp-db-rate-token')).toEqual({ ...RATE_LIMITS.perToken, source: 'Authorization' });
  });

  it('is routed only from the Cloudflare tunnel: every router on the unpublished tunnel entry point', () => {
    const entryPoints = [...labels].filter(([key]) => /^http\.routers\.[^.]+\.entrypoints$/.test(key));
    expect(entryPoints).toHaveLength(3);
    for (const [key, value] of entryPoints) expect(value, key).toBe('tunnel');
    expect(postgrest.ports).toBeUndefined();
    const traefik = parse(read('deploy/traefik/tunnel-entrypoint.yml')) as {
      entryPoints: Record<
        string,
        { address: string; transport?: { respondingTimeouts?: { readTimeout?: string } } }
      >;
    };
    // A slow client is dropped at the tunnel as the local proxy drops it.
    expect(traefik.entryPoints.tunnel?.transport?.respondingTimeouts?.readTimeout).toBe(
      `${CLIENT_TIMEOUTS_MS.request / 1000}s`,
    );
    const port = /^:(\d+)$/.exec(traefik.entryPoints.tunnel?.address ?? '')?.[1];
    expect(port).toBeDefined();
    const { ingress } = parse(read('deploy/cloudflared/ingress.yml')) as { ingress: { service: string }[] };
    expect(ingress[0]?.service).toBe(`http://traefik:${port}`);
    // No service of this stack publishes a port on the droplet.
    for (const [name, { ports }] of Object.entries(compose.services)) expect(ports, name).toBeUndefined();
  });
});

describe('the Coda migration', () => {
  it('runs in the network under the coda profile, a dry run unless told to cut over, with the Coda token and doc from .env', () => {
    expect(coda.profiles).toEqual(['coda']);
    expect(coda.command).toEqual(['plan']);
    expect(coda.networks).toEqual(['portfolio-network']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not a JavaScript template
    expect(coda.environment?.CODA_API_TOKEN).toBe('${CODA_API_TOKEN:-}');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not a JavaScript template
    expect(coda.environment?.CODA_DOC_ID).toBe('${CODA_DOC_ID:-}');
    expect(coda.volumes).toEqual([
      './coda/runs:/app/runs',
      './coda/snapshots:/app/snapshots',
      MAPPINGS_VOLUME,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not a JavaScript template
      '${BACKUP_OFFSITE_DIR:-./offsite}:/app/offsite',
    ]);
    // Migrations are the deploy's (`up`); every profile run would otherwise run migrate again.
    expect(coda.depends_on).toEqual({ 'postgres-erp': { condition: 'service_healthy' } });
  });
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not a JavaScript template
const MAPPINGS_VOLUME = '${CODA_MAPPINGS:-./mappings}:/app/mappings:ro';

describe('mapping files', () => {
  it('come from the checkout, read-only, for every job that reads them: a pulled change needs no rebuild', () => {
    for (const name of ['coda-migration', 'erp-cli'])
      expect(service(name).volumes, name).toContain(MAPPINGS_VOLUME);
    // The image's default, which the mount covers: the CLI reads /app/mappings.
    expect(read('Dockerfile')).toMatch(/^WORKDIR \/app$/m);
    expect(read('Dockerfile')).toMatch(/^COPY mappings \.\/mappings$/m);
  });
});

describe("postgres-erp's password file", () => {
  // The entrypoint as the container's shell runs it: compose turns $$ into $.
  const [shell, flag, script, name] = (postgres.entrypoint ?? []).map((part) => part.replaceAll('$$', '$'));
  let fakeImage: string;
  beforeAll(async () => {
    // Stands in for the image's own entrypoint: prints what it was started with.
    fakeImage = await mkdtemp(path.join(os.tmpdir(), 'erp-postgres-entrypoint-'));
    const entrypoint = path.join(fakeImage, 'docker-entrypoint.sh');
    await writeFile(entrypoint, '#!/bin/sh\necho "started: $*"\n', { mode: 0o755 });
  });
  afterAll(async () => {
    await rm(fakeImage, { recursive: true, force: true });
  });
  const start = async (password: string | undefined) => {
    const file = path.join(fakeImage, 'postgres_password');
    await rm(file, { force: true });
    if (password !== undefined) await writeFile(file, password);
    return spawnSync(shell!, [flag!, script!, name!, ...(postgres.command ?? [])], {
      env: { PATH: `${fakeImage}:${process.env.PATH}`, POSTGRES_PASSWORD_FILE: file },
      encoding: 'utf8',
    });
  };

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a placeholder', 'change-me-postgres-password'],
  ])(
    "is refused %s by postgres-erp's entrypoint before the database is created with it",
    async (_, password) => {
      const refused = await start(password);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/secrets\/postgres_password is missing, empty or a placeholder/);
      expect(refused.stderr).toMatch(/deploy\/make-secrets\.sh/);
      expect(refused.stdout).toBe('');
    },
  );

  it("lets a real password through to the image's entrypoint, with the command unchanged", async () => {
    const started = await start('9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c');
    expect(started.status, started.stderr).toBe(0);
    expect(started.stdout.trim()).toBe(`started: ${postgres.command?.join(' ')}`);
  });
});

describe('the secrets', () => {
  /** The backup bucket's keys: made empty, written by the operator only for a bucket target. */
  const OPTIONAL_SECRETS = ['backup_s3_access_key_id', 'backup_s3_secret_access_key'];
  const secrets = (compose.secrets ?? {}) as Record<string, { file: string }>;

  it('are files in secrets/, never values in an environment or in .env', () => {
    expect(Object.keys(secrets).length).toBeGreaterThan(4);
    for (const [secret, { file }] of Object.entries(secrets))
      expect(file, secret).toBe(`./secrets/${secret}`);
    expect(composeText).not.toMatch(/\$\{[A-Z_]*(PASSWORD|SECRET)\b/);
    expect(read('.gitignore').split('\n')).toContain('secrets/');
    expect(read('.dockerignore').split('\n')).toContain('secrets');
  });

  it('reach each container that names one, and only those it lists', () => {
    for (const [name, { environment, secrets: listed }] of Object.entries(compose.services)) {
      const named = Object.values(environment ?? {})
        .map((value) => /^@?\/run\/secrets\/(.+)$/.exec(value)?.[1])
        .filter((secret) => secret !== undefined);
      expect([...new Set(named)].sort(), name).toEqual([...(listed ?? [])].sort());
      for (const secret of named) expect(secrets, `${name}: ${secret}`).toHaveProperty(secret);
    }
  });

  it('are all made by deploy/make-secrets.sh, which keeps existing ones and derives PostgREST connection string', async () => {
    const checkout = await mkdtemp(path.join(os.tmpdir(), 'erp-make-secrets-'));
    try {
      const make = () =>
        spawnSync(path.resolve('deploy/make-secrets.sh'), [], { cwd: checkout, encoding: 'utf8' });
      const first = make();
      expect(first.status, first.stderr).toBe(0);
      const readSecret = (secret: string) => readFileSync(path.join(checkout, 'secrets', secret), 'utf8');
      for (const secret of Object.keys(secrets))
        expect(readSecret(secret), secret).toMatch(OPTIONAL_SECRETS.includes(secret) ? /^$/ : /^\S{32,}$/);
      const authenticator = readSecret('authenticator_password');
      expect(readSecret('postgrest_db_uri')).toBe(
        `postgresql://${AUTHENTICATOR_ROLE}:${authenticator}@postgres-erp:5432/${DATABASE_NAME}`,
      );
      // A rotated authenticator password: kept, and the connection string follows it.
      await writeFile(
        path.join(checkout, 'secrets', 'authenticator_password'),
        'rotated0authenticator0password',
      );
      const jwt = readSecret('jwt_secret');
      expect(make().status).toBe(0);
      expect(readSecret('jwt_secret')).toBe(jwt);
      expect(readSecret('postgrest_db_uri')).toContain(':rotated0authenticator0password@');
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  });
});

describe('.env.example', () => {
  const used = [
    ...new Set([...composeText.matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]!)),
  ].sort();

  it('documents every variable compose.yaml reads, and nothing else', () => {
    expect(used.length).toBeGreaterThanOrEqual(5);
    expect([...envExample.keys()].sort()).toEqual(used);
  });

  it('holds only placeholders that are obviously not real', () => {
    for (const [variable, value] of envExample) {
      // Settings rather than secrets: their example values are real ones.
      if (['JWT_AUDIENCE', 'CODA_MAPPINGS'].includes(variable) || variable.startsWith('BACKUP_')) continue;
      expect(value, variable).toContain(PLACEHOLDER_MARKER);
    }
  });

  it('is documented line by line', () => {
    const lines = read('.env.example').split('\n');
    for (const [index, line] of lines.entries()) {
      if (/^[A-Z_]+=/.test(line)) expect(lines[index - 1], line).toMatch(/^#/);
    }
  });
});

describe('deploy/', () => {
  it('routes erp-db.bestviable.com through the Cloudflare tunnel to Traefik, before the catch-all', () => {
    const { ingress } = parse(read('deploy/cloudflared/ingress.yml')) as {
      ingress: { hostname?: string; service: string }[];
    };
    expect(ingress[0]).toMatchObject({
      hostname: 'erp-db.bestviable.com',
      service: expect.stringMatching(/^http:\/\/traefik:\d+$/),
    });
    expect(ingress.at(-1)).toEqual({ service: 'http_status:404' });
  });

  it('puts docs/ into the tool image, so `erp docs --check` works there', () => {
    expect(read('Dockerfile')).toMatch(/^COPY docs \.\/docs$/m);
    expect(read('.dockerignore').split('\n')).not.toContain('docs');
  });

  it('builds the tool image on a pinned Node LTS, without dev or optional dependencies, running the compiled CLI', () => {
    const dockerfile = read('Dockerfile');
    const base = /^ARG NODE_IMAGE=(.+)$/m.exec(dockerfile)?.[1];
    // An exact Node 22 (LTS) release on an exact Alpine, never a moving tag like node:22-alpine.
    expect(base).toMatch(/^node:22\.\d+\.\d+-alpine3\.\d+$/);
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG syntax, not a JavaScript template
    expect(stages).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\/main\.js"\]/);
    expect(read('.dockerignore').split('\n')).toEqual(
      expect.arrayContaining(['.data', '.env', 'node_modules']),
    );
  });

  it('tags the tool image with the release in .env and labels it with its version and commit', () => {
    const dockerfile = read('Dockerfile');
    expect(migrate.image).toMatch(/^postgres-erp-tools:\$\{ERP_VERSION:\?/);
    for (const [name, { build, image }] of Object.entries(compose.services))
      if (build) expect(image, name).toBe(migrate.image);
    expect(migrate.build).toMatchObject({ context: '.', args: expect.arrayContaining(['GIT_COMMIT']) });
    expect(dockerfile).toMatch(/^ARG ERP_VERSION$/m);
    expect(dockerfile).toMatch(/^ARG GIT_COMMIT=unknown$/m);
    expect(dockerfile).toMatch(/org\.opencontainers\.image\.version="\$\{ERP_VERSION\}"/);
    expect(dockerfile).toMatch(/org\.opencontainers\.image\.revision="\$\{GIT_COMMIT\}"/);
  });

  it("refuses to build an image whose ERP_VERSION is not the code's version", () => {
    // The Dockerfile's check, run as the build runs it, in a folder with this package.json.
    const check = /^RUN (version=.*?fi)$/ms.exec(read('Dockerfile'))?.[1]?.replaceAll('\\\n', '\n');
    expect(check).toBeDefined();
    const build = (version: string) =>
      spawnSync('/bin/sh', ['-c', check!], {
        cwd: process.cwd(),
        env: { PATH: process.env.PATH, ERP_VERSION: version },
        encoding: 'utf8',
      });
    const ours = JSON.parse(read('package.json')).version as string;
    expect(build(ours).status).toBe(0);
    const refused = build(envExample.get('ERP_VERSION')!);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`set ERP_VERSION=${ours} in .env`);
  });
});
