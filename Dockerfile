# The erp command line for the droplet's one-shot jobs (compose.yaml: migrate, erp-cli,
# coda-migration): migrations, role passwords, the Coda cutover. PostgREST has its own image.
#
# Built as postgres-erp-tools:<version> (compose.yaml, ERP_VERSION), so a rollback runs the
# previous version's image instead of rebuilding it.

# Node 22 (LTS) on Alpine 3.21, the Alpine that still packages postgresql15-client, by exact
# version so a rebuild of a tag gets the same Node. Not pinned by digest: none could be verified
# from where this was written (no registry access); add `@sha256:...` from
# `docker buildx imagetools inspect node:22.21.1-alpine3.21` on the droplet to freeze it fully.
ARG NODE_IMAGE=node:22.21.1-alpine3.21

# Compiles src/ to dist/ (TypeScript is a dev dependency, so it stays in this stage).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: they only prepare the embedded Postgres for local use, never run here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}

# The release (package.json's version) and the git commit it was built from, as OCI labels:
# `docker image inspect postgres-erp-tools:<version>` says what runs.
ARG ERP_VERSION
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="postgres-erp-tools" \
      org.opencontainers.image.version="${ERP_VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}"

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# The image is tagged with ERP_VERSION: refuse to build one whose code is another version.
RUN version="$(node -p 'require("./package.json").version')" && \
    if [ "$ERP_VERSION" != "$version" ]; then \
      echo "ERP_VERSION is \"$ERP_VERSION\" but this checkout is version $version: set ERP_VERSION=$version in .env (docs/RUNBOOK.md, Deploying a release)" >&2; \
      exit 1; \
    fi
# Only what runs here: no dev dependencies, and no optional ones, which are the embedded
# Postgres binaries (glibc, for local runs) and the PostgREST binary (postgrest-erp has its own).
# test/deploy/runtime-dependencies.test.ts runs the container's commands without them.
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force

# pg_dump for the backup a cutover takes before it loads anything.
RUN apk add --no-cache postgresql15-client

# dist/ sits where src/ would, so the CLI finds migrations/ and mappings/ next to it.
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# The defaults; compose.yaml mounts the checkout's mappings/ over them, so a pulled mapping change
# needs no rebuild.
COPY mappings ./mappings
# `erp docs --check` compares the database with docs/DATABASE_SCHEMA.md; `erp --help` points here.
COPY docs ./docs
# Where a cutover keeps its snapshot, backup and reports (bind-mounted by compose.yaml).
RUN mkdir -p runs snapshots && chown node:node runs snapshots

USER node
# Compiled JavaScript: no TypeScript compiler at every start.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["--help"]
