import { readFile } from 'node:fs/promises';
import { type GenerationJobData, GenerationProducer, redisConnection } from '@tsformer/server/queue';
import type { Command } from 'commander';
import { InputFileError, UsageError } from '../cli-errors.js';
import { integerAtLeast } from '../option-parsers.js';
import type { SetStatus } from '../program.js';

interface EnqueueCommandOptions {
  redis: string;
  queue: string;
  attempts: number;
  backoff: number;
}

export function registerEnqueue(program: Command, setStatus: SetStatus): void {
  program
    .command('enqueue')
    .description(
      'add the generation jobs of a JSONL file (one {id, prompt | messages, parameters} per line) to a BullMQ ' +
        'queue, wait for them, and print their results as JSONL in the same order; a job id already in the ' +
        'queue is not run again',
    )
    .argument('<file>', 'the jobs, one JSON object per line')
    .requiredOption('--redis <url>', 'the Redis that carries the queue (redis://host:port[/db])')
    .requiredOption('--queue <name>', "the queue's name")
    .option('--attempts <n>', 'tries per job before it fails', integerAtLeast(1), 3)
    .option('--backoff <ms>', 'wait before the first retry (doubling after)', integerAtLeast(0), 1000)
    .action((file: string, options: EnqueueCommandOptions) => runEnqueue(file, options, setStatus));
}

async function runEnqueue(file: string, options: EnqueueCommandOptions, setStatus: SetStatus): Promise<void> {
  try {
    redisConnection(options.redis);
  } catch (error) {
    throw new UsageError(`--redis: ${(error as Error).message}`);
  }
  const jobs = await readJobs(file);
  const producer = new GenerationProducer({
    redis: options.redis,
    queue: options.queue,
    attempts: options.attempts,
    backoffMs: options.backoff,
  });
  try {
    const outcomes = await producer.run(jobs);
    for (const outcome of outcomes) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    const failed = outcomes.filter((outcome) => 'error' in outcome).length;
    if (failed > 0) {
      process.stderr.write(`tsformer: ${failed} of ${outcomes.length} jobs failed\n`);
      setStatus(1);
    }
  } finally {
    await producer.close();
  }
}

/** The file's jobs: one JSON object per non-empty line (errors name the file and line). */
async function readJobs(file: string): Promise<GenerationJobData[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputFileError(`${file}: ${(error as Error).message}`);
  }
  const jobs: GenerationJobData[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let job: unknown;
    try {
      job = JSON.parse(line);
    } catch (error) {
      throw new InputFileError(`${file}:${index + 1}: not JSON (${(error as Error).message})`);
    }
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      throw new InputFileError(`${file}:${index + 1}: a job must be a JSON object`);
    }
    jobs.push(job as GenerationJobData);
  });
  if (jobs.length === 0) throw new InputFileError(`${file}: no jobs`);
  return jobs;
}
