/**
 * `erp agent …`: upkeep of the agent memory. `sweep` removes expired memories once, or with
 * --every keeps doing so until stopped (the compose service agent-sweep runs it that way).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SWEEP_BATCH_SIZE, sweepExpiredMemories } from '../db/memory-sweep.ts';
import { withDatabase } from '../db/target.ts';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected a whole number above 0');
  return parsed;
}

async function sweepAndReport(url: string, batchSize: number): Promise<void> {
  const { removed, batches } = await sweepExpiredMemories(url, { batchSize });
  console.log(
    removed
      ? `Removed ${removed} expired memor${removed === 1 ? 'y' : 'ies'} in ${batches} batch${batches === 1 ? '' : 'es'}`
      : 'No expired memories',
  );
}

/** Resolves on the first SIGINT or SIGTERM, so a sleeping sweeper stops at once. */
export function untilStopped(): { stopped: Promise<void>; isStopped: () => boolean } {
  let stoppedFlag = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      stoppedFlag = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve();
    };
    process.prependListener('SIGINT', onSignal);
    process.prependListener('SIGTERM', onSignal);
  });
  return { stopped, isStopped: () => stoppedFlag };
}

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('upkeep of the agent memory (schema agent)');
  agent
    .command('sweep')
    .description('remove expired agent memories, in short batches (agent.sweep_expired)')
    .option('--batch-size <n>', 'memories removed per transaction', positiveInteger, DEFAULT_SWEEP_BATCH_SIZE)
    .option('--every <minutes>', 'keep sweeping, every this many minutes, until stopped', positiveInteger)
    .action((options: { batchSize: number; every?: number }) =>
      withDatabase(async (target) => {
        if (options.every === undefined) return sweepAndReport(target.url, options.batchSize);
        const { stopped, isStopped } = untilStopped();
        while (!isStopped()) {
          await sweepAndReport(target.url, options.batchSize);
          await Promise.race([sleep(options.every * 60_000), stopped]);
        }
      }),
    );
}
