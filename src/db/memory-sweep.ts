/**
 * Removes expired agent memories with agent.sweep_expired (migration 009), one batch per
 * transaction: each call locks at most one batch of rows for a moment, so agents writing memory
 * meanwhile are never held up for the length of the whole sweep.
 */
import { withClient } from './client.ts';

export const DEFAULT_SWEEP_BATCH_SIZE = 1000;

export interface SweepResult {
  removed: number;
  batches: number;
}

export async function sweepExpiredMemories(
  url: string,
  { batchSize = DEFAULT_SWEEP_BATCH_SIZE }: { batchSize?: number } = {},
): Promise<SweepResult> {
  return await withClient(url, async (client) => {
    const result: SweepResult = { removed: 0, batches: 0 };
    for (;;) {
      const { rows } = await client.query<{ removed: number }>('SELECT agent.sweep_expired($1) AS removed', [
        batchSize,
      ]);
      const removed = rows[0]!.removed;
      result.removed += removed;
      result.batches += 1;
      // A short batch means nothing expired is left that no one else holds.
      if (removed < batchSize) return result;
    }
  });
}
