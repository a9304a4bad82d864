import pg from 'pg';

/** Long enough for a busy server, short enough that an unroutable host is reported, not waited on. */
const CONNECT_TIMEOUT_MS = 15_000;

const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections on that port',
  ENOTFOUND: 'there is no host by that name',
  EAI_AGAIN: 'the host name could not be looked up',
  ETIMEDOUT: 'it did not answer',
  EHOSTUNREACH: 'the host cannot be reached from here',
  ENETUNREACH: 'the network cannot be reached from here',
  ECONNRESET: 'the connection was closed before it was set up',
};

/**
 * A connected client, or an error naming the host and port (never the password) when the server
 * cannot be reached. An error the server itself sent (wrong password, missing database) is kept
 * as it is, code included: it already says what is wrong.
 */
export async function openClient(
  url: string,
  config: Omit<pg.ClientConfig, 'connectionString'> = {},
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...config,
    connectionString: url,
  });
  // A connection lost between queries is reported by the next query; as an event nobody
  // listens to, it would end the process instead.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    if (error instanceof pg.DatabaseError) throw error;
    const { hostname, port } = new URL(url);
    const code = (error as { code?: string }).code ?? '';
    const message = (error as Error).message;
    const reason =
      UNREACHABLE_REASONS[code] ??
      (/timeout/i.test(message)
        ? `it did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`
        : /terminated unexpectedly/i.test(message)
          ? 'the connection was closed before it was set up (a firewall, or a port that is not Postgres)'
          : message);
    throw new Error(
      `cannot reach the database server at ${hostname || 'localhost'}:${port || 5432}: ${reason}. Check the host and port (DATABASE_URL), and that the server runs and accepts connections from here.`,
      { cause: error },
    );
  }
}

/** One connection for one piece of work, always closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await openClient(url);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
