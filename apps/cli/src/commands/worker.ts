import { redisConnection, startGenerationWorker } from '@tsformer/server/queue';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { integerAtLeast } from '../option-parsers.js';
import type { SetStatus } from '../program.js';
import {
  addServedModelOptions,
  loadServedModelFromFlags,
  type ServedModelFlags,
  untilStopSignal,
} from '../served-model-options.js';

interface WorkerCommandOptions extends ServedModelFlags {
  redis: string;
  queue: string;
  concurrency: number;
  lockDuration: number;
}

export function registerWorker(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('worker')
    .description(
      'run generation jobs from a BullMQ queue on Redis (many workers, on many machines, may share one); ' +
        'prints "started ID" and "completed ID" lines; stops on SIGINT or SIGTERM after its running jobs',
    )
    .requiredOption('--redis <url>', 'the Redis that carries the queue (redis://host:port[/db])')
    .requiredOption('--queue <name>', "the queue's name")
    .option('--concurrency <n>', 'jobs run at once (they share the batch)', integerAtLeast(1), 1)
    .option(
      '--lock-duration <ms>',
      'how long a job stays locked without renewal: after a worker dies, another takes its jobs this much later',
      integerAtLeast(100),
      30_000,
    );
  addServedModelOptions(command);
  command.action((options: WorkerCommandOptions) => runWorker(options));
}

async function runWorker(options: WorkerCommandOptions): Promise<void> {
  try {
    redisConnection(options.redis);
  } catch (error) {
    throw new UsageError(`--redis: ${(error as Error).message}`);
  }
  const served = await loadServedModelFromFlags(options);
  const worker = startGenerationWorker({
    redis: options.redis,
    queue: options.queue,
    model: served,
    concurrency: options.concurrency,
    lockDurationMs: options.lockDuration,
    onJobStart: (id) => process.stdout.write(`started ${id}\n`),
    onJobDone: (id) => process.stdout.write(`completed ${id}\n`),
  });
  worker.on('error', (error) => process.stderr.write(`tsformer: worker: ${error.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write(`ready ${options.queue}\n`);
  await untilStopSignal();
  await worker.close();
  await served.close();
}
