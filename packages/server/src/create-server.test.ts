import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { generateAll } from '@tsformer/decoding';
import { ChatTemplate } from '@tsformer/models';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from './create-server.js';
import { loadServedModel } from './load-served-model.js';
import type { ServedModel } from './served-model.js';

const FIXTURE = new URL('../../../fixtures/hf-reference/llama', import.meta.url).pathname;
const CHAT_TEMPLATE =
  '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}';
const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Name a colour.' },
];

let served: ServedModel;
let app: FastifyInstance;
let client: OpenAI;
let baseURL: string;
let tensorsBefore: number;

/** What `generate` gives for a prompt alone: its generated ids. */
async function generatedAlone(
  prompt: number[],
  options: Parameters<typeof generateAll>[2],
): Promise<number[]> {
  const { sequences } = await generateAll(served.model, { inputIds: [prompt] }, options);
  return sequences[0]!.slice(prompt.length);
}

function tokenizer() {
  return served.tokenizer;
}

function chatPromptIds(): number[] {
  const text = new ChatTemplate(CHAT_TEMPLATE, tokenizer().specialTokens).render(MESSAGES, {
    addGenerationPrompt: true,
  });
  return tokenizer().encode(text, { addSpecialTokens: false });
}

beforeAll(async () => {
  served = await loadServedModel(FIXTURE, {
    id: 'tiny-llama',
    chatTemplate: CHAT_TEMPLATE,
    backend: 'wasm',
    maxBatch: 1,
    maxQueue: 2,
  });
  tensorsBefore = tf.memory().numTensors;
  app = createServer({ models: [served], bodyLimit: 4096 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseURL = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await app?.close();
  (served?.model as { dispose?: () => void } | undefined)?.dispose?.();
});

describe('the OpenAI-compatible server, through the official openai client', () => {
  it('answers a chat completion with generate’s greedy tokens and real usage counts', async () => {
    const completion = await client.chat.completions.create({
      model: 'tiny-llama',
      messages: MESSAGES,
      max_tokens: 8,
      temperature: 0,
    });
    const prompt = chatPromptIds();
    const expected = await generatedAlone(prompt, { maxNewTokens: 8 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe(
      tokenizer().decode(expected, { skipSpecialTokens: true }),
    );
    expect(completion.usage).toEqual({
      prompt_tokens: prompt.length,
      completion_tokens: expected.length,
      total_tokens: prompt.length + expected.length,
    });
    expect(completion.choices[0]!.finish_reason).toBe(expected.length === 8 ? 'length' : 'stop');
  });

  it('streams the same text as chunks, then a usage chunk, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny-llama',
      messages: MESSAGES,
      max_completion_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    let first = true;
    for await (const part of stream) {
      expect(part.object).toBe('chat.completion.chunk');
      if (part.usage) usage = part.usage;
      for (const choice of part.choices) {
        if (first) expect(choice.delta.role).toBe('assistant');
        first = false;
        text += choice.delta.content ?? '';
        finishReasons.push(choice.finish_reason);
      }
    }
    const expected = await generatedAlone(chatPromptIds(), { maxNewTokens: 8 });
    expect(text).toBe(tokenizer().decode(expected, { skipSpecialTokens: true }));
    expect(finishReasons.at(-1)).toBe(expected.length === 8 ? 'length' : 'stop');
    expect(usage?.completion_tokens).toBe(expected.length);
    const raw = await fetch(`${baseURL}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-llama', prompt: 'Once', max_tokens: 3, stream: true }),
    });
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    expect((await raw.text()).endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('samples n seeded choices, each as generate samples it with seed, seed + 1', async () => {
    const completion = await client.completions.create({
      model: 'tiny-llama',
      prompt: 'The sky is',
      max_tokens: 6,
      n: 2,
      seed: 40,
      temperature: 0.9,
      top_p: 0.95,
      presence_penalty: 0.5,
    });
    const prompt = tokenizer().encode('The sky is');
    for (const choice of completion.choices) {
      // The server's presence penalty is a logits processor; generate gets the same one.
      const { PresenceFrequencyPenaltyProcessor } = await import('./openai-penalties.js');
      const expected = await generatedAlone(prompt, {
        maxNewTokens: 6,
        doSample: true,
        temperature: 0.9,
        topP: 0.95,
        seed: 40 + choice.index,
        logitsProcessors: [new PresenceFrequencyPenaltyProcessor(prompt.length, 0.5, 0)],
      });
      expect(choice.text).toBe(tokenizer().decode(expected, { skipSpecialTokens: true }));
    }
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(completion.usage!.prompt_tokens).toBe(prompt.length);
  });

  it('cuts the text before a stop sequence and reports finish_reason stop', async () => {
    const prompt = tokenizer().encode('Once upon');
    const full = tokenizer().decode(await generatedAlone(prompt, { maxNewTokens: 12 }), {
      skipSpecialTokens: true,
    });
    const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 2);
    const completion = await client.completions.create({
      model: 'tiny-llama',
      prompt: 'Once upon',
      max_tokens: 12,
      temperature: 0,
      stop: [stop],
    });
    expect(completion.choices[0]!.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('runs num_beams through beam search, n returned sequences as generate returns them', async () => {
    const completion = await client.completions.create({
      model: 'tiny-llama',
      prompt: 'Once upon',
      max_tokens: 6,
      n: 2,
      num_beams: 3,
    } as never);
    const prompt = tokenizer().encode('Once upon');
    const { sequences } = await generateAll(
      served.model,
      { inputIds: [prompt] },
      { maxNewTokens: 6, numBeams: 3, numReturnSequences: 2 },
    );
    expect((completion as OpenAI.Completion).choices.map((choice) => choice.text)).toEqual(
      sequences.map((sequence) =>
        tokenizer().decode(sequence.slice(prompt.length), { skipSpecialTokens: true }),
      ),
    );
    const tooMany = await fetch(`${baseURL}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-llama', prompt: 'Once', n: 4, num_beams: 2 }),
    });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { param: string } }).error.param).toBe('n');
  });

  it('returns log-probabilities in chat’s format', async () => {
    const completion = await client.chat.completions.create({
      model: 'tiny-llama',
      messages: MESSAGES,
      max_tokens: 3,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(completion.usage!.completion_tokens);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(2);
      // Greedy: the chosen token is the most likely one.
      expect(entry.logprob).toBeCloseTo(entry.top_logprobs[0]!.logprob, 5);
      expect(entry.logprob).toBeLessThanOrEqual(0);
    }
  });

  it('lists the model, answers /health and exposes Prometheus metrics', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['tiny-llama']);
    expect(await (await fetch(`${baseURL}/health`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${baseURL}/metrics`)).text();
    expect(metrics).toMatch(/tsformer_requests_total\{endpoint="\/v1\/chat\/completions",status="200"\} \d+/);
    expect(metrics).toMatch(/tsformer_queue_depth\{model="tiny-llama"\} 0/);
    expect(metrics).toMatch(/tsformer_batch_size\{model="tiny-llama"\} 0/);
    expect(metrics).toMatch(/tsformer_generated_tokens_total\{model="tiny-llama"\} [1-9]\d*/);
    expect(metrics).toMatch(/tsformer_tokens_per_second \d/);
    expect(metrics).toMatch(/tsformer_time_to_first_token_seconds_count [1-9]/);
    // A streamed request counts once, as a non-streamed one does.
    const completions = async () => {
      const text = await (await fetch(`${baseURL}/metrics`)).text();
      return Number(
        /tsformer_requests_total\{endpoint="\/v1\/completions",status="200"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const before = await completions();
    const stream = await client.completions.create({
      model: 'tiny-llama',
      prompt: 'A',
      max_tokens: 2,
      stream: true,
    });
    for await (const _ of stream);
    await client.completions.create({ model: 'tiny-llama', prompt: 'A', max_tokens: 2 });
    expect(await completions()).toBe(before + 2);
  });
});

describe('bad requests and load', () => {
  async function post(path: string, body: string) {
    const response = await fetch(`${baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as { error: Record<string, unknown> },
    };
  }

  it('answers invalid JSON, invalid fields and oversized bodies with OpenAI-shaped 400s and 413', async () => {
    const invalidJson = await post('/v1/chat/completions', '{"model": "tiny-llama", "messages": [');
    expect(invalidJson.status).toBe(400);
    expect(invalidJson.body.error).toMatchObject({ type: 'invalid_request_error' });
    const cases: [Record<string, unknown>, string][] = [
      [{ messages: MESSAGES }, 'model'],
      [{ model: 'tiny-llama', messages: [] }, 'messages'],
      [{ model: 'tiny-llama', messages: MESSAGES, temperature: 'hot' }, 'temperature'],
      [{ model: 'tiny-llama', messages: MESSAGES, top_p: 0 }, 'top_p'],
      [{ model: 'tiny-llama', messages: MESSAGES, n: 0 }, 'n'],
      [{ model: 'tiny-llama', messages: MESSAGES, max_tokens: 1.5 }, 'max_tokens'],
      [{ model: 'tiny-llama', messages: MESSAGES, stop: [1] }, 'stop'],
      [{ model: 'tiny-llama', messages: MESSAGES, top_logprobs: 2 }, 'top_logprobs'],
      [{ model: 'tiny-llama', messages: MESSAGES, repetition_penalty: -1 }, 'repetition_penalty'],
    ];
    for (const [body, field] of cases) {
      const answer = await post('/v1/chat/completions', JSON.stringify(body));
      expect(answer.status, field).toBe(400);
      expect(answer.body.error.param, JSON.stringify(body)).toBe(field);
      expect(answer.body.error.message).toContain(field);
    }
    const tooLarge = await post(
      '/v1/completions',
      JSON.stringify({ model: 'tiny-llama', prompt: 'x'.repeat(5000) }),
    );
    expect(tooLarge.status).toBe(413);
    const tooLong = await post(
      '/v1/completions',
      JSON.stringify({ model: 'tiny-llama', prompt: 'word '.repeat(200) }),
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ param: 'prompt', code: 'context_length_exceeded' });
  });

  it('answers an unknown model with 404, as the openai client expects', async () => {
    await expect(
      client.chat.completions.create({ model: 'gpt-5', messages: MESSAGES }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('queues up to maxQueue, answers 429 with Retry-After beyond, and a client that leaves frees its row', async () => {
    const leaving = new AbortController();
    // maxBatch 1: this one holds the only row (min_tokens keeps it from ending early).
    const first = await client.completions.create(
      { model: 'tiny-llama', prompt: 'A', max_tokens: 100, min_tokens: 100, stream: true } as never,
      { signal: leaving.signal },
    );
    const iterator = (first as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await iterator.next();
    expect(served.stats().running).toBe(1);
    // Its two choices are two rows: the queue (maxQueue 2) is full.
    const queued = client.completions.create({
      model: 'tiny-llama',
      prompt: 'B',
      max_tokens: 2,
      temperature: 0,
      n: 2,
    });
    while (served.stats().waiting < 2) await new Promise((resolve) => setImmediate(resolve));
    const refused = await post(
      '/v1/completions',
      JSON.stringify({ model: 'tiny-llama', prompt: 'C', max_tokens: 2 }),
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error' });
    leaving.abort();
    await iterator.return?.();
    const answer = await queued;
    expect(answer.usage!.completion_tokens).toBe(4);
    while (served.stats().running > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(served.stats().generatedTokens).toBeGreaterThan(0);
  });

  it('cancels a request past its deadline with a 504, and leaks no tensor', async () => {
    const strict = createServer({ models: [served], requestTimeoutMs: 1 });
    const answer = await strict.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: { model: 'tiny-llama', prompt: 'A', max_tokens: 100, min_tokens: 100 },
    });
    expect(answer.statusCode).toBe(504);
    expect(answer.json().error.code).toBe('deadline_exceeded');
    while (served.stats().running > 0) await new Promise((resolve) => setImmediate(resolve));
    // Every request has ended and left the batch: only the model's own tensors are alive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
