import { Queue, QueueEvents } from 'bullmq';
import { type GenerationJobData, type GenerationJobResult, jobId } from './generation-job.js';
import { redisConnection } from './redis-connection.js';

export interface GenerationProducerOptions {
  readonly redis: string;
  readonly queue: string;
  /** Tries per job before it fails for good (default 3). */
  readonly attempts?: number;
  /** Milliseconds before the first retry; each later retry waits twice as long (default 1000). */
  readonly backoffMs?: number;
}

/** How a job ended: its result, or the reason it failed for good. */
export type GenerationJobOutcome = GenerationJobResult | { readonly id: string; readonly error: string };

/**
 * Adds generation jobs to a BullMQ queue and waits for their results. Job ids come from the jobs
 * (`jobId`): adding a job whose id the queue already holds adds nothing, and waiting on it gives the
 * one result it has or will have, so a producer may re-send a whole file safely.
 */
export class GenerationProducer {
  private readonly queue: Queue<GenerationJobData, GenerationJobResult>;
  private readonly events: QueueEvents;

  constructor(private readonly options: GenerationProducerOptions) {
    const connection = redisConnection(options.redis);
    this.queue = new Queue(options.queue, { connection });
    this.events = new QueueEvents(options.queue, { connection });
    // Each job waited on listens on both: a file of many jobs is not a listener leak.
    this.queue.setMaxListeners(0);
    this.events.setMaxListeners(0);
  }

  /** Adds the jobs (in order); returns their ids. */
  async enqueue(jobs: readonly GenerationJobData[]): Promise<string[]> {
    await this.events.waitUntilReady();
    const ids = jobs.map(jobId);
    await this.queue.addBulk(
      jobs.map((data, index) => ({
        name: 'generate',
        data,
        opts: {
          jobId: ids[index]!,
          attempts: this.options.attempts ?? 3,
          backoff: { type: 'exponential', delay: this.options.backoffMs ?? 1000 },
        },
      })),
    );
    return ids;
  }

  /** Waits for the jobs to finish; outcomes in the order of `ids`. */
  async results(ids: readonly string[]): Promise<GenerationJobOutcome[]> {
    return Promise.all(
      ids.map(async (id): Promise<GenerationJobOutcome> => {
        const job = await this.queue.getJob(id);
        if (!job) return { id, error: 'no such job in the queue' };
        try {
          return await job.waitUntilFinished(this.events);
        } catch (error) {
          return { id, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  }

  /** Where job `id` stands: BullMQ's state (`waiting`, `active`, `completed`, `failed`, …) and tries made. */
  async jobState(id: string): Promise<{ state: string; attemptsMade: number } | undefined> {
    const job = await this.queue.getJob(id);
    return job && { state: await job.getState(), attemptsMade: job.attemptsMade };
  }

  /** Adds the jobs and waits for all of them. */
  async run(jobs: readonly GenerationJobData[]): Promise<GenerationJobOutcome[]> {
    return this.results(await this.enqueue(jobs));
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}
