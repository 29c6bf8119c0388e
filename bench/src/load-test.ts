import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@tsformer/core-tensor';
import { processKernelPool } from '@tsformer/kernels';
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

/** What the process holds, in MiB: resident set, JS heap, array buffers, and the wasm backend's heap. */
interface MemorySnapshot {
  rssMiB: number;
  jsHeapUsedMiB: number;
  /** What V8 has reserved for the JS heap (it keeps what it grew to for a while). */
  jsHeapTotalMiB: number;
  arrayBuffersMiB: number;
  /** The tfjs wasm module's linear memory (it grows to its high-water mark and never shrinks). */
  wasmHeapMiB: number | null;
  /** tsformer's kernel pool's shared memory (packed weights and scratch; it never shrinks either). */
  kernelHeapMiB: number;
  tensors: number;
}

/**
 * The load test: `rounds` rounds of the same `total` requests, at most `concurrency` in flight,
 * against an in-process server with a small queue (so some get 429): 10% invalid JSON, 5% an invalid
 * field, 15% clients that disconnect mid-request, the rest valid (streamed or not, greedy or seeded
 * sampling, 1–16 tokens). Afterwards the server must still answer `/health`, every request must have
 * had its answer (or its client left), and the tensors alive must be those alive before; latency
 * percentiles and throughput are recorded per round. Memory is recorded before and after each round
 * (after a garbage collection when node runs with `--expose-gc`): growth in the first round that
 * stops in the second is a high-water mark (the wasm heap, the JS heap's size), growth that repeats
 * is a leak.
 */
export async function runLoadTest(
  folder: string,
  { total, concurrency, rounds = 2 }: { total: number; concurrency: number; rounds?: number },
) {
  const served = await loadServedModel(folder, { id: 'load', maxBatch: 8, maxQueue: 16 });
  const app = createServer({ models: [served] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    await streamCompletion(baseUrl, { model: 'load', prompt: 'warm up', max_tokens: 4 });
    await idle(served);
    const random = new SeededRandom(2026);
    const requests = Array.from({ length: total }, (_, index) => loadRequest(random, index));
    const before = await memorySnapshot();
    const results = [];
    for (let round = 0; round < rounds; round++) {
      const result = await runRound(baseUrl, served, requests, concurrency);
      results.push({ ...result, memoryAfter: await memorySnapshot() });
    }
    const health = await fetch(`${baseUrl}/health`);
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
      serverUpAfter: health.status === 200,
      gcBeforeSnapshots: typeof globalThis.gc === 'function',
      memoryBefore: before,
      rounds: results,
    };
  } finally {
    await app.close();
    (served.model as { dispose?: () => void }).dispose?.();
  }
}

/** One pass over the requests; waits until the scheduler is empty again. */
async function runRound(
  baseUrl: string,
  served: ServedModel,
  requests: readonly LoadRequest[],
  concurrency: number,
) {
  const outcomes: Outcome[] = [];
  const latencies: number[] = [];
  let completionTokens = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
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
  await idle(served);
  const counts = Object.fromEntries(
    (
      ['ok', 'rejected-400', 'queue-full-429', 'client-disconnected', 'server-error', 'no-answer'] as const
    ).map((outcome) => [outcome, outcomes.filter((seen) => seen === outcome).length]),
  );
  return {
    outcomes: counts,
    wallMs: Math.round(wallMs),
    requestsPerSecond: (requests.length / wallMs) * 1000,
    completionTokensPerSecond: (completionTokens / wallMs) * 1000,
    latencyMsP50: percentile(latencies, 50),
    latencyMsP99: percentile(latencies, 99),
  };
}

async function memorySnapshot(): Promise<MemorySnapshot> {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const wasm = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return {
    rssMiB: mib(usage.rss),
    jsHeapUsedMiB: mib(usage.heapUsed),
    jsHeapTotalMiB: mib(usage.heapTotal),
    arrayBuffersMiB: mib(usage.arrayBuffers),
    wasmHeapMiB: wasm === undefined ? null : mib(wasm.buffer.byteLength),
    kernelHeapMiB: mib((await processKernelPool()).heap.memory.buffer.byteLength),
    tensors: tf.memory().numTensors,
  };
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
