import { createHash } from 'node:crypto';
import { type CompletionRequest, readChatRequest, readTextRequest } from '../completion-request.js';
import { InvalidFieldError } from '../errors.js';
import { usage } from '../openai-responses.js';
import type { Completion } from '../served-model.js';

/**
 * One job of a generation queue (a line of an `enqueue` JSONL file): `prompt` (a completion) or
 * `messages` (a chat completion) with the same parameters as the OpenAI endpoints' bodies
 * (`max_tokens`, `temperature`, `stop`, `n`, `seed`, `top_k`, …); `model` and `stream` are the
 * worker's. `id` makes the job idempotent: a job whose id is already in the queue is not added again.
 */
export interface GenerationJobData {
  readonly id?: string;
  readonly prompt?: string;
  readonly messages?: readonly { role: string; content: unknown }[];
  readonly [parameter: string]: unknown;
}

/** What a finished job returns (and `enqueue` prints as one JSONL line). */
export interface GenerationJobResult {
  readonly id: string;
  readonly choices: readonly { index: number; text: string; finish_reason: string }[];
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The job's id: its own `id`, else a hash of its content (the same job twice is one job). */
export function jobId(data: GenerationJobData): string {
  if (data.id !== undefined) {
    if (typeof data.id !== 'string' || data.id === '' || /^\d+$/.test(data.id)) {
      throw new InvalidFieldError(
        'id',
        'must be a non-empty string that is not only digits (BullMQ reserves those)',
      );
    }
    return data.id;
  }
  return `job-${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 32)}`;
}

/** The job as an OpenAI request for the worker's model (400-style errors name the field). */
export function jobRequest(data: GenerationJobData, model: string): CompletionRequest {
  const { id: _id, ...fields } = data;
  const body = { ...fields, model, stream: false };
  if ('messages' in data) return readChatRequest(body);
  if ('prompt' in data) return readTextRequest(body);
  throw new InvalidFieldError('prompt', 'a job needs `prompt` or `messages`');
}

export function jobResult(id: string, completion: Completion): GenerationJobResult {
  return {
    id,
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      text: choice.text,
      finish_reason: choice.finishReason,
    })),
    usage: usage(completion),
  };
}
