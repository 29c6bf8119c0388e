import type { AddressInfo } from 'node:net';
import { createServer, loadServedModel } from '@tsformer/server';
import { percentile, streamCompletion } from './http-client.js';

export interface ServingRun {
  clients: number;
  requests: number;
  completionTokens: number;
  wallMs: number;
  /**
   * CPU time the process spent meanwhile, all its threads (user + system): on a shared machine it
   * moves less with other work than wall time does.
   */
  cpuMs: number;
  /** Generated tokens per second over all clients (prefills included, as a user sees it). */
  aggregateTokensPerSecond: number;
  /**
   * Decode tokens per second over all clients: every token after each request's first, over the time
   * during which at least one request was past its first token (the union of their decode intervals).
   */
  aggregateDecodeTokensPerSecond: number;
  timeToFirstTokenMsP50: number;
  latencyMsP50: number;
  latencyMsP99: number;
}

/**
 * The batching benchmark: `requestsPerClient` greedy streaming completions per client, each exactly
 * `newTokens` long (`min_tokens`), from 1 client and then from `clients` concurrent ones, against an
 * in-process server on `folder`, `rounds` times in turn (alone, together, alone, …: on a shared
 * machine the ratio of neighbouring runs is the figure to trust; the medians are reported). The
 * concurrent runs share decode steps; their texts must equal the first alone run's (each request
 * alone), which the result records as `identicalToAlone`.
 */
export async function measureServing(
  folder: string,
  {
    clients,
    requestsPerClient,
    newTokens,
    rounds = 1,
  }: { clients: number; requestsPerClient: number; newTokens: number; rounds?: number },
) {
  const served = await loadServedModel(folder, { id: 'bench', maxBatch: clients, maxQueue: clients * 4 });
  const app = createServer({ models: [served] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const body = (client: number, request: number) => ({
    model: 'bench',
    prompt: `Request ${request} of client ${client}: the weather today is`,
    max_tokens: newTokens,
    min_tokens: newTokens,
    temperature: 0,
  });
  const requestAt = (index: number) => {
    const client = index % clients;
    const request = Math.floor(index / clients);
    return { key: `${client}/${request}`, body: body(client, request) };
  };
  try {
    await streamCompletion(baseUrl, { ...body(0, 0), max_tokens: 4, min_tokens: 4 }); // warm-up
    const aloneTexts = new Map<string, string>();
    const runs: { alone: ServingRun; together: ServingRun }[] = [];
    let identicalToAlone = true;
    for (let round = 0; round < rounds; round++) {
      // Alone: the same requests one after another (one client).
      const alone = await runClients(baseUrl, 1, clients * requestsPerClient, requestAt, aloneTexts);
      const togetherTexts = new Map<string, string>();
      const together = await runClients(
        baseUrl,
        clients,
        clients * requestsPerClient,
        requestAt,
        togetherTexts,
      );
      identicalToAlone &&= [...aloneTexts].every(([key, text]) => togetherTexts.get(key) === text);
      runs.push({ alone, together });
    }
    const median = (values: number[]) => percentile(values, 50);
    return {
      model: folder,
      newTokens,
      rounds: runs,
      speedup: median(
        runs.map(({ alone, together }) => together.aggregateTokensPerSecond / alone.aggregateTokensPerSecond),
      ),
      decodeSpeedup: median(
        runs.map(
          ({ alone, together }) =>
            together.aggregateDecodeTokensPerSecond / alone.aggregateDecodeTokensPerSecond,
        ),
      ),
      // Tokens per CPU second, together over alone: the hint to read when the machine was busy.
      cpuSpeedup: median(runs.map(({ alone, together }) => alone.cpuMs / together.cpuMs)),
      identicalToAlone,
    };
  } finally {
    await app.close();
    (served.model as { dispose?: () => void }).dispose?.();
  }
}

/** `total` requests from `clients` concurrent loops, each taking the next request index. */
export async function runClients(
  baseUrl: string,
  clients: number,
  total: number,
  request: (index: number) => { key: string; body: Record<string, unknown> },
  texts = new Map<string, string>(),
): Promise<ServingRun> {
  let next = 0;
  const latencies: number[] = [];
  const firstTokens: number[] = [];
  const decodeIntervals: [number, number][] = [];
  let completionTokens = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const { key, body } = request(next++);
        const sent = performance.now();
        const result = await streamCompletion(baseUrl, body);
        decodeIntervals.push([sent + result.timeToFirstTokenMs, sent + result.latencyMs]);
        if (result.status !== 200) throw new Error(`request ${key} answered ${result.status}`);
        texts.set(key, result.text);
        latencies.push(result.latencyMs);
        firstTokens.push(result.timeToFirstTokenMs);
        completionTokens += result.completionTokens;
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  return {
    clients,
    requests: total,
    completionTokens,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    aggregateTokensPerSecond: (completionTokens / wallMs) * 1000,
    aggregateDecodeTokensPerSecond: ((completionTokens - total) / unionLength(decodeIntervals)) * 1000,
    timeToFirstTokenMsP50: percentile(firstTokens, 50),
    latencyMsP50: percentile(latencies, 50),
    latencyMsP99: percentile(latencies, 99),
  };
}

/** Total length covered by the intervals (overlaps counted once). */
function unionLength(intervals: readonly [number, number][]): number {
  let covered = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [start, end] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (end <= reach) continue;
    covered += end - Math.max(start, reach);
    reach = end;
  }
  return covered;
}
