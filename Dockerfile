# The erp command line for the droplet's one-shot jobs (compose.yaml: migrate, erp-cli,
# coda-migration): migrations, role passwords, the Coda cutover. PostgREST has its own image.
FROM node:20-alpine

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# tsx is a runtime dependency: the CLI runs from its TypeScript sources, no build step.
# No install scripts: they only prepare the embedded Postgres for local use, never run here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# pg_dump for the backup a cutover takes before it loads anything.
RUN apk add --no-cache postgresql15-client

COPY src ./src
COPY migrations ./migrations
# The defaults; compose.yaml mounts the checkout's mappings/ over them, so a pulled mapping change
# needs no rebuild.
COPY mappings ./mappings
# `erp docs --check` compares the database with docs/DATABASE_SCHEMA.md; `erp --help` points here.
COPY docs ./docs
# Where a cutover keeps its snapshot, backup and reports (bind-mounted by compose.yaml).
RUN mkdir -p runs snapshots && chown node:node runs snapshots

USER node
ENTRYPOINT ["node", "--import", "tsx", "src/cli/main.ts"]
CMD ["--help"]
