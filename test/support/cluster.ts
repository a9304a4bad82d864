/** What global-setup hands to every test file: how to reach the shared test cluster. */
export interface TestCluster {
  host: string;
  port: number;
  superuser: { user: string; password: string };
  owner: { user: string; password: string };
}

/** Migrated once per run; each test file's database is a copy of it. */
export const TEMPLATE_DATABASE = 'portfolio_template';

declare module 'vitest' {
  export interface ProvidedContext {
    testCluster: TestCluster;
  }
}
