# The erp command line for the droplet's one-shot jobs (compose.yaml: migrate, erp-cli,
# coda-migration): migrations, role passwords, the Coda cutover. PostgREST has its own image.
FROM node:20-alpine

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# tsx is a runtime dependency: the CLI runs from its TypeScript sources, no build step.
# No install scripts: they only prepare the embedded Postgres for local use, never run here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY src ./src
COPY migrations ./migrations
COPY mappings ./mappings

USER node
ENTRYPOINT ["node", "--import", "tsx", "src/cli/main.ts"]
CMD ["--help"]
