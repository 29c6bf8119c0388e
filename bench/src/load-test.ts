import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@tsformer/core-tensor';
import { createServer, loadServedModel, type ServedModel } from '@tsformer/server';
import { percentile, streamCompletion } from './http-client.js';

type Outcome =
  | 'ok'
  | 'rejected-400'
  | 'queue-full-429'
  | 'client-disconnected'
  | 'server-error'
  | 'no-answer';

/** One request of the mix: what is sent, and whether the client walks away after `disconnectAfterMs`. */
interface LoadRequest {
  kind: 'valid' | 'invalid-json' | 'invalid-field' | 'disconnect';
  body: string;
  stream: boolean;
  disconnectAfterMs?: number;
}

/** A client waits this long for an answer before the request counts as unanswered (a server that hangs). */
const NO_ANSWER_MS = 120_000;

/**
 * The load test: `total` requests, at most `concurrency` in flight, against an in-process server with
 * a small queue (so some get 429): 10% invalid JSON, 5% an invalid field, 15% clients that disconnect
 * mid-request, the rest valid (streamed or not, greedy or seeded sampling, 1–16 tokens). Afterwards the
 * server must still answer `/health`, every request must have had its answer (or its client left),
 * and the tensors alive must be those alive before; latency percentiles and throughput are recorded.
 */
export async function runLoadTest(
  folder: string,
  { total, concurrency }: { total: number; concurrency: number },
) {
  const served = await loadServedModel(folder, { id: 'load', maxBatch: 8, maxQueue: 16 });
  const app = createServer({ models: [served] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    await streamCompletion(baseUrl, { model: 'load', prompt: 'warm up', max_tokens: 4 });
    await idle(served);
    const tensorsBefore = tf.memory().numTensors;
    const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
    const random = new SeededRandom(2026);
    const requests = Array.from({ length: total }, (_, index) => loadRequest(random, index));
    const outcomes: Outcome[] = [];
    const latencies: number[] = [];
    let completionTokens = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const request = requests[next++]!;
          const result = await send(baseUrl, request);
          outcomes.push(result.outcome);
          if (result.outcome === 'ok') {
            latencies.push(result.latencyMs);
            completionTokens += result.completionTokens;
          }
        }
      }),
    );
    const wallMs = performance.now() - started;
    while (served.stats().running > 0 || served.stats().waiting > 0)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const health = await fetch(`${baseUrl}/health`);
    const counts = Object.fromEntries(
      (
        ['ok', 'rejected-400', 'queue-full-429', 'client-disconnected', 'server-error', 'no-answer'] as const
      ).map((outcome) => [outcome, outcomes.filter((seen) => seen === outcome).length]),
    );
    return {
      model: folder,
      total,
      concurrency,
      mix: Object.fromEntries(
        ['valid', 'invalid-json', 'invalid-field', 'disconnect'].map((kind) => [
          kind,
          requests.filter((request) => request.kind === kind).length,
        ]),
      ),
      outcomes: counts,
      serverUpAfter: health.status === 200,
      tensorsBefore,
      tensorsAfter: tf.memory().numTensors,
      rssBeforeMiB: Math.round(rssBeforeMiB),
      rssAfterMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      wallMs: Math.round(wallMs),
      requestsPerSecond: (total / wallMs) * 1000,
      completionTokensPerSecond: (completionTokens / wallMs) * 1000,
      latencyMsP50: percentile(latencies, 50),
      latencyMsP99: percentile(latencies, 99),
    };
  } finally {
    await app.close();
    (served.model as { dispose?: () => void }).dispose?.();
  }
}

/** Resolves once the model's batch is empty and its loop has freed the batch's cache. */
async function idle(served: ServedModel): Promise<void> {
  do await new Promise((resolve) => setTimeout(resolve, 50));
  while (served.stats().running > 0 || served.stats().waiting > 0);
}

function loadRequest(random: SeededRandom, index: number): LoadRequest {
  const draw = random.uniform();
  const sampled = random.uniform() < 0.5;
  const valid = {
    model: 'load',
    prompt: `Load request ${index}: once upon a time`,
    max_tokens: 1 + Math.floor(random.uniform() * 16),
    ...(sampled ? { temperature: 0.8, seed: index } : { temperature: 0 }),
  };
  const stream = random.uniform() < 0.5;
  if (draw < 0.1) return { kind: 'invalid-json', body: JSON.stringify(valid).slice(0, 25), stream: false };
  if (draw < 0.15)
    return { kind: 'invalid-field', body: JSON.stringify({ ...valid, temperature: 'hot' }), stream };
  if (draw < 0.3) {
    const disconnectAfterMs = 1 + Math.floor(random.uniform() * 40);
    return {
      kind: 'disconnect',
      body: JSON.stringify({ ...valid, max_tokens: 64, min_tokens: 64 }),
      stream,
      disconnectAfterMs,
    };
  }
  return { kind: 'valid', body: JSON.stringify(valid), stream };
}

async function send(
  baseUrl: string,
  request: LoadRequest,
): Promise<{ outcome: Outcome; latencyMs: number; completionTokens: number }> {
  const controller = new AbortController();
  const noAnswer = setTimeout(() => controller.abort(new Error('no answer')), NO_ANSWER_MS);
  const leave =
    request.disconnectAfterMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new Error('left')), request.disconnectAfterMs);
  const started = performance.now();
  try {
    if (request.stream && request.kind !== 'invalid-json') {
      const result = await streamCompletion(baseUrl, JSON.parse(request.body), controller.signal);
      return {
        outcome: statusOutcome(result.status),
        latencyMs: result.latencyMs,
        completionTokens: result.completionTokens,
      };
    }
    const response = await fetch(`${baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request.body,
      signal: controller.signal,
    });
    const answer = (await response.json()) as { usage?: { completion_tokens: number } };
    return {
      outcome: statusOutcome(response.status),
      latencyMs: performance.now() - started,
      completionTokens: answer.usage?.completion_tokens ?? 0,
    };
  } catch (error) {
    const reason = controller.signal.reason as Error | undefined;
    const outcome: Outcome =
      reason?.message === 'left'
        ? 'client-disconnected'
        : reason?.message === 'no answer'
          ? 'no-answer'
          : 'server-error';
    if (outcome === 'server-error') console.error(error);
    return { outcome, latencyMs: performance.now() - started, completionTokens: 0 };
  } finally {
    clearTimeout(noAnswer);
    if (leave) clearTimeout(leave);
  }
}

function statusOutcome(status: number): Outcome {
  if (status === 200) return 'ok';
  if (status === 400) return 'rejected-400';
  if (status === 429) return 'queue-full-429';
  return 'server-error';
}
