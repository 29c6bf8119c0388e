import * as tf from '@tensorflow/tfjs-core';
import { generateAll } from '@tsformer/decoding';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer, REDIS_PACKAGE, startRedisServer } from '../../../../scripts/redis-server.mjs';
import { loadServedModel } from '../load-served-model.js';
import type { ServedModel } from '../served-model.js';
import type { GenerationJobData, GenerationJobResult } from './generation-job.js';
import { GenerationProducer } from './generation-producer.js';
import { startGenerationWorker } from './generation-worker.js';
import { redisConnection } from './redis-connection.js';

const FIXTURE = new URL('../../../../fixtures/hf-reference/llama', import.meta.url).pathname;
const available = hasRedisServer();
if (!available) console.warn(`SKIPPED: BullMQ tests need redis-server (Debian package ${REDIS_PACKAGE})`);

describe.skipIf(!available)('generation jobs on BullMQ (a real redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let served: ServedModel;

  beforeAll(async () => {
    redis = await startRedisServer();
    served = await loadServedModel(FIXTURE, { id: 'tiny-llama', backend: 'wasm' });
  });

  afterAll(async () => {
    await served?.close();
    (served?.model as { dispose?: () => void } | undefined)?.dispose?.();
    await redis?.stop();
  });

  it('two workers complete every job once, as generate does alone; re-sent jobs are not run again', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const done: string[] = [];
    const workers = [0, 1].map(() =>
      startGenerationWorker({
        redis: redis.url,
        queue: 'library',
        model: served,
        concurrency: 3,
        onJobDone: (id) => done.push(id),
      }),
    );
    const events = new QueueEvents('library', { connection: redisConnection(redis.url) });
    const progress = new Map<string, number>();
    events.on('progress', ({ jobId, data }) => {
      progress.set(jobId, (data as { generatedTokens: number }).generatedTokens);
    });
    const producer = new GenerationProducer({ redis: redis.url, queue: 'library', backoffMs: 10 });
    const jobs: GenerationJobData[] = Array.from({ length: 10 }, (_, index) => ({
      id: `job-${index}`,
      prompt: `Story number ${index}:`,
      max_tokens: 4 + (index % 3),
      ...(index % 2 === 1 ? { temperature: 0.8, seed: index } : { temperature: 0 }),
    }));
    const bad: GenerationJobData = { id: 'bad', prompt: 'x', temperature: 'hot' };
    try {
      const outcomes = await producer.run([...jobs, bad]);
      for (const [index, job] of jobs.entries()) {
        const outcome = outcomes[index] as GenerationJobResult;
        const prompt = served.tokenizer.encode(job.prompt!);
        const { sequences } = await generateAll(
          served.model,
          { inputIds: [prompt] },
          {
            maxNewTokens: job.max_tokens as number,
            ...(index % 2 === 1 ? { doSample: true, temperature: 0.8, seed: index } : { doSample: false }),
          },
        );
        const generated = sequences[0]!.slice(prompt.length);
        expect(outcome.id).toBe(job.id);
        expect(outcome.choices[0]!.text).toBe(
          served.tokenizer.decode(generated, { skipSpecialTokens: true }),
        );
        expect(outcome.usage.completion_tokens).toBe(generated.length);
      }
      expect(outcomes[10]).toEqual({
        id: 'bad',
        error: expect.stringMatching(/temperature: must be a number/),
      });
      // The bad job failed at once: not retried.
      expect(await producer.jobState('bad')).toEqual({ state: 'failed', attemptsMade: 1 });
      expect([...done].sort()).toEqual(jobs.map((job) => job.id).sort());
      expect(progress.size).toBeGreaterThan(0);
      // The same jobs again: nothing runs, the results are the ones already there.
      const again = await producer.run(jobs);
      expect(again).toEqual(outcomes.slice(0, 10));
      expect(done).toHaveLength(10);
    } finally {
      await Promise.all([...workers.map((worker) => worker.close()), producer.close(), events.close()]);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
