# The erp command line for the droplet's one-shot jobs (compose.yaml: migrate, erp-cli,
# coda-migration): migrations, role passwords, the Coda cutover. PostgREST has its own image.

# Compiles src/ to dist/ (TypeScript is a dev dependency, so it stays in this stage).
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: they only prepare the embedded Postgres for local use, never run here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-alpine

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

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
