/**
 * The agent memory benchmark at a tiny size, so `npm run bench -- --only agent-memory` keeps
 * working: every figure is measured and finite and the results render. Timings are not judged
 * here, the test machine is no benchmark machine; what recall finds in the labelled set does not
 * depend on the machine and is held to the target.
 */
import { describe, expect, it } from 'vitest';
import { renderAgentMemoryMarkdown, runAgentMemoryBench } from '../../bench/agent-memory.ts';
import { connectionUrl } from '../../src/db/target.ts';
import { ensureTestLoginPasswords, TEST_LOGIN_PASSWORDS } from '../api/harness.ts';
import { createTestDatabase, testCluster } from '../support/db.ts';

describe('the agent memory benchmark', () => {
  it('measures recall directly and through PostgREST, and remember, on a tiny set', async () => {
    const cluster = testCluster();
    const scratch = await createTestDatabase();
    try {
      await ensureTestLoginPasswords(scratch);
    } finally {
      await scratch.drop();
    }
    const results = await runAgentMemoryBench({
      adminUrl: connectionUrl({
        ...cluster.superuser,
        host: cluster.host,
        port: cluster.port,
        database: 'postgres',
      }),
      // The cluster's roles and passwords, as other test files use them at the same time.
      owner: cluster.owner,
      loginPasswords: TEST_LOGIN_PASSWORDS,
      clients: 2,
      memoriesPerClient: 300,
      recalls: 20,
      rememberCalls: 20,
      log: () => {},
    });
    expect(results.totalMemories).toBe(600);
    for (const figure of [results.recallDirect, results.recallPostgrest])
      for (const value of Object.values(figure)) expect(Number.isFinite(value) && value > 0).toBe(true);
    expect(results.rememberPerSecond).toBeGreaterThan(0);
    expect(results.quality).toMatchObject({
      memories: 384,
      questions: 384,
      duplicatesMerged: results.quality.duplicates,
    });
    expect(results.quality.byKind.all.recallAt3).toBeGreaterThanOrEqual(results.targetRecallAt3);
    expect(Number.isFinite(results.quality.p95Ms)).toBe(true);
    expect(renderAgentMemoryMarkdown(results)).toMatch(
      /\| directly \(memory_gateway connection\) \| [\d.]+ \| [\d.]+ \|/,
    );
    expect(renderAgentMemoryMarkdown(results)).toMatch(/\| all \| 384 \| [\d.]+ \| [\d.]+ \|/);
  }, 120_000);
});
