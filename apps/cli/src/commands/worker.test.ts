import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAll } from '@tsformer/decoding';
import { fromPretrained, type PretrainedCausalLM } from '@tsformer/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer, REDIS_PACKAGE, startRedisServer } from '../../../../scripts/redis-server.mjs';
import { FIXTURES, RunningCli, runCli } from '../../test/run-cli.js';

const MODEL = `${FIXTURES}/llama`;
const available = hasRedisServer();
if (!available)
  console.warn(`SKIPPED: tsformer worker/enqueue tests need redis-server (Debian package ${REDIS_PACKAGE})`);

interface Job {
  id: string;
  prompt: string;
  max_tokens: number;
  temperature: number;
  seed?: number;
  min_tokens?: number;
}

/** The ids a worker printed after `word` ("started" or "completed"). */
function printed(worker: RunningCli, word: string): string[] {
  return [...worker.stdout.matchAll(new RegExp(`^${word} (\\S+)$`, 'gm'))].map((match) => match[1]!);
}

describe.skipIf(!available)('tsformer worker and enqueue (a real redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let folder: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    folder = mkdtempSync(join(tmpdir(), 'tsformer-worker-'));
  });

  afterAll(async () => {
    await redis?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('2 workers and a producer run 50 jobs; a worker killed mid-job has its job finished by the other, none lost or run twice', async () => {
    // One long job, so that a worker is surely in the middle of it when it is killed.
    const jobs: Job[] = [
      { id: 'long', prompt: 'Once', max_tokens: 110, min_tokens: 110, temperature: 0 },
      ...Array.from({ length: 49 }, (_, index) => ({
        id: `job-${index}`,
        prompt: `Item ${index} is`,
        max_tokens: 3 + (index % 5),
        ...(index % 3 === 0 ? { temperature: 0.7, seed: 100 + index } : { temperature: 0 }),
      })),
    ];
    const file = join(folder, 'jobs.jsonl');
    writeFileSync(file, `${jobs.map((job) => JSON.stringify(job)).join('\n')}\n`);
    const workerArgs = [
      'worker',
      '--redis',
      redis.url,
      '--queue',
      'cli',
      '--model',
      MODEL,
      '--concurrency',
      '2',
    ];
    const workers = [0, 1].map(() => new RunningCli([...workerArgs, '--lock-duration', '2000']));
    try {
      await Promise.all(workers.map((worker) => worker.until(({ stdout }) => stdout.includes('ready cli'))));
      const producer = new RunningCli([
        'enqueue',
        '--redis',
        redis.url,
        '--queue',
        'cli',
        file,
        '--backoff',
        '10',
      ]);
      // Kill whichever worker takes the long job, while it runs it.
      let victim: RunningCli | undefined;
      await new Promise<void>((resolve) => {
        const check = () => {
          victim = workers.find((worker) => printed(worker, 'started').includes('long'));
          if (victim) {
            victim.signal('SIGKILL');
            resolve();
          } else setImmediate(check);
        };
        check();
      });
      const survivor = workers.find((worker) => worker !== victim)!;
      const produced = await producer.finished();
      expect(produced.status, produced.stderr).toBe(0);
      await victim!.finished();
      const outcomes = produced.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(outcomes.map((outcome) => outcome.id)).toEqual(jobs.map((job) => job.id));

      // Every job completed exactly once over both workers; the long one by the survivor.
      const completed = [...printed(victim!, 'completed'), ...printed(survivor, 'completed')];
      expect([...completed].sort()).toEqual(jobs.map((job) => job.id).sort());
      expect(printed(victim!, 'completed')).not.toContain('long');
      expect(printed(survivor, 'completed')).toContain('long');

      // Each result is what generate gives the job alone.
      const { model, tokenizer } = await fromPretrained(MODEL, { backend: 'wasm' });
      try {
        for (const [index, job] of jobs.entries()) {
          const prompt = tokenizer!.encode(job.prompt);
          const { sequences } = await generateAll(
            model as PretrainedCausalLM,
            { inputIds: [prompt] },
            {
              maxNewTokens: job.max_tokens,
              ...(job.min_tokens !== undefined && { minNewTokens: job.min_tokens }),
              ...(job.temperature > 0
                ? { doSample: true, temperature: job.temperature, seed: job.seed }
                : { doSample: false }),
            },
          );
          const text = tokenizer!.decode(sequences[0]!.slice(prompt.length), { skipSpecialTokens: true });
          expect(outcomes[index].choices[0].text, job.id).toBe(text);
        }
      } finally {
        model.dispose();
      }

      // The same file again: the ids are in the queue, so nothing runs twice and the results come back.
      const survivorCompleted = printed(survivor, 'completed').length;
      const again = runCli(['enqueue', '--redis', redis.url, '--queue', 'cli', file]);
      expect(again.status).toBe(0);
      expect(again.stdout).toBe(produced.stdout);
      expect(printed(survivor, 'completed')).toHaveLength(survivorCompleted);
    } finally {
      for (const worker of workers) worker.signal('SIGTERM');
      await Promise.all(workers.map((worker) => worker.finished()));
    }
  });

  it('refuses a bad Redis URL and an unreadable job file with one line', () => {
    const badUrl = runCli(['enqueue', '--redis', 'http://x', '--queue', 'q', 'jobs.jsonl']);
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toMatch(/^tsformer: --redis: .*redis:\/\//);
    const badLine = join(folder, 'bad.jsonl');
    writeFileSync(badLine, '{"prompt": "a"}\n{oops\n');
    const badFile = runCli(['enqueue', '--redis', redis.url, '--queue', 'q', badLine]);
    expect(badFile.status).toBe(1);
    expect(badFile.stderr).toMatch(/bad\.jsonl:2: not JSON/);
  });
});
