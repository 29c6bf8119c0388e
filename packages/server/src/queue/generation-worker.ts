import { GenerationConfigError, GenerationInputError } from '@tsformer/decoding';
import { ChatTemplateError, TokenizerInputError } from '@tsformer/models';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { OpenAIRequestError } from '../errors.js';
import type { ServedModel } from '../served-model.js';
import { type GenerationJobData, type GenerationJobResult, jobRequest, jobResult } from './generation-job.js';
import { redisConnection } from './redis-connection.js';

export interface GenerationWorkerOptions {
  /** `redis://host:port[/db]` of the Redis that carries the queue. */
  readonly redis: string;
  /** The BullMQ queue's name (the producer's). */
  readonly queue: string;
  readonly model: ServedModel;
  /** Jobs run at once (each a row, or `n` rows, of the model's batch). Default 1. */
  readonly concurrency?: number;
  /**
   * Milliseconds a job's lock lasts unless renewed (BullMQ's `lockDuration`, default 30 000): a worker
   * that dies mid-job loses it after this long, and another worker takes the job again.
   */
  readonly lockDurationMs?: number;
  /** Called as a job starts and as it completes (logs, tests). */
  readonly onJobStart?: (id: string) => void;
  readonly onJobDone?: (id: string) => void;
}

/**
 * A BullMQ worker that runs generation jobs on a served model: each job (`GenerationJobData`) is
 * completed through the model's batching scheduler, reports its progress (`{generatedTokens}`) as
 * tokens come, and returns a `GenerationJobResult`. A job that cannot succeed (a bad field, a prompt
 * too long) fails at once without retries (UnrecoverableError); other failures are retried as the
 * producer's `attempts`/`backoff` say; a job whose worker died is taken again once its lock expires.
 */
export function startGenerationWorker(
  options: GenerationWorkerOptions,
): Worker<GenerationJobData, GenerationJobResult> {
  const { model } = options;
  const lockDuration = options.lockDurationMs ?? 30_000;
  return new Worker<GenerationJobData, GenerationJobResult>(
    options.queue,
    async (job: Job<GenerationJobData, GenerationJobResult>) => {
      const id = job.id!;
      options.onJobStart?.(id);
      let generatedTokens = 0;
      let request: ReturnType<typeof jobRequest>;
      try {
        request = jobRequest(job.data, model.id);
      } catch (error) {
        throw unrecoverable(error);
      }
      try {
        const completion = await model.complete(request, {
          onToken: () => {
            generatedTokens += 1;
            job.updateProgress({ generatedTokens }).catch(() => {});
          },
        });
        options.onJobDone?.(id);
        return jobResult(id, completion);
      } catch (error) {
        throw unrecoverable(error);
      }
    },
    {
      connection: redisConnection(options.redis),
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval: Math.max(100, Math.floor(lockDuration / 2)),
      // A job whose worker died goes back to the queue (its first stall), rather than failing.
      maxStalledCount: 2,
    },
  );
}

/** Errors that the same job would hit again become UnrecoverableError (no retry); others stay as they are. */
function unrecoverable(error: unknown): unknown {
  const permanent =
    error instanceof OpenAIRequestError ||
    error instanceof GenerationConfigError ||
    error instanceof GenerationInputError ||
    error instanceof ChatTemplateError ||
    error instanceof TokenizerInputError;
  return permanent ? new UnrecoverableError((error as Error).message) : error;
}
