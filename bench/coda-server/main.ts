/**
 * Serves the fixture doc (and optionally a large synthetic table) on a local port, for trying
 * `erp extract` by hand or benchmarking it:
 *
 *   node --import tsx bench/coda-server/main.ts --port 8765 --synthetic-rows 100000
 *   CODA_API_BASE_URL=http://127.0.0.1:8765/apis/v1 CODA_API_TOKEN=local-dev-token npm run erp -- extract --doc hR7tK2mQxZ
 */
import { parseArgs } from 'node:util';
import { parseRateLimit } from '../../src/extract/index.ts';
import { FIXTURE_DOC_ID, fixtureDoc } from './fixture-doc.ts';
import { startCodaServer, type RateLimitSpec } from './server.ts';
import { syntheticTable } from './synthetic.ts';

const DEV_TOKEN = 'local-dev-token';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8765' },
    token: { type: 'string' },
    'synthetic-rows': { type: 'string', default: '0' },
    'max-page-size': { type: 'string', default: '100' },
    'rate-limit': { type: 'string' },
    'retry-after': { type: 'string', default: 'seconds' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`Usage: node --import tsx bench/coda-server/main.ts [options]

  --port N                 port on 127.0.0.1 (default 8765; 0 for any free port)
  --token TOKEN            the bearer token to accept (default: CODA_API_TOKEN, else ${DEV_TOKEN})
  --synthetic-rows N       add a table "Synthetic Items" with N generated rows
  --max-page-size N        the server's cap on limit (default 100)
  --rate-limit N/WINDOW    answer 429 above this rate, e.g. 100/6s (default: no limit)
  --retry-after MODE       seconds | http-date | none: the Retry-After header on 429`);
  process.exit(0);
}

const syntheticRows = Number(values['synthetic-rows']);
const retryAfter = values['retry-after'] as RateLimitSpec['retryAfter'];
const rate = values['rate-limit'] ? parseRateLimit(values['rate-limit']) : undefined;
const token = values.token ?? process.env.CODA_API_TOKEN ?? DEV_TOKEN;

const server = await startCodaServer({
  token,
  port: Number(values.port),
  maxPageSize: Number(values['max-page-size']),
  ...(rate ? { rateLimit: { requests: rate.requests, windowMs: rate.intervalMs, retryAfter } } : {}),
  doc:
    syntheticRows > 0
      ? {
          ...fixtureDoc,
          tables: [
            ...fixtureDoc.tables,
            syntheticTable({ id: 'grid-Synth0001', name: 'Synthetic Items', rowCount: syntheticRows }),
          ],
        }
      : fixtureDoc,
});

console.log(`Fake Coda API serving doc ${FIXTURE_DOC_ID} ("${fixtureDoc.name}") at ${server.baseUrl}`);
console.log(
  `Try:\n  CODA_API_BASE_URL=${server.baseUrl} CODA_API_TOKEN=${token === DEV_TOKEN ? DEV_TOKEN : '<your token>'} npm run erp -- extract --doc ${FIXTURE_DOC_ID}`,
);
console.log('Press Ctrl-C to stop.');

const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
