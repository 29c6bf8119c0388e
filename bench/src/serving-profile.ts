import type { AddressInfo } from 'node:net';
import { BatchScheduler } from '@tsformer/decoding';
import { createServer, loadServedModel } from '@tsformer/server';
import { streamCompletion } from './http-client.js';
import { round } from './measure.js';
import { runClients } from './serving.js';

type Phase = 'decodeForward' | 'decodeSelect' | 'prefill' | 'prefillForward' | 'join' | 'leave';

/** Milliseconds per phase, decode steps by batch size, and the scheduler's busy wall time. */
class Tally {
  readonly ms: Record<Phase, number> = {
    decodeForward: 0,
    decodeSelect: 0,
    prefill: 0,
    prefillForward: 0,
    join: 0,
    leave: 0,
  };
  readonly counts: Record<Phase, number> = {
    decodeForward: 0,
    decodeSelect: 0,
    prefill: 0,
    prefillForward: 0,
    join: 0,
    leave: 0,
  };
  /** Decode steps and their forward's ms, by the batch's rows. */
  readonly stepsByRows = new Map<number, { steps: number; forwardMs: number }>();
  busyMs = 0;

  add(phase: Phase, ms: number): void {
    this.ms[phase] += ms;
    this.counts[phase] += 1;
  }

  summary(wallMs: number) {
    const decodeMs = this.ms.decodeForward + this.ms.decodeSelect;
    const accounted = decodeMs + this.ms.prefill + this.ms.join + this.ms.leave;
    const phases = Object.fromEntries(
      (Object.keys(this.ms) as Phase[]).map((phase) => [
        phase,
        { ms: round(this.ms[phase]), calls: this.counts[phase], share: round(this.ms[phase] / wallMs, 3) },
      ]),
    );
    return {
      wallMs: round(wallMs),
      schedulerBusyMs: round(this.busyMs),
      phases,
      // The rest of the scheduler's busy time: its event-loop turns (HTTP, SSE, timers) and bookkeeping.
      busyOutsidePhasesMs: round(this.busyMs - accounted),
      idleMs: round(wallMs - this.busyMs),
      decodeSteps: [...this.stepsByRows]
        .sort((a, b) => a[0] - b[0])
        .map(([rows, { steps, forwardMs }]) => ({ rows, steps, forwardMsMean: round(forwardMs / steps, 1) })),
    };
  }
}

/**
 * Where the serving workload's wall time goes (the `serving` suite's requests, 1 client then
 * `clients`): the scheduler's methods and the model's forward are wrapped with timers, so each phase
 * — decode forwards, token selection and its read-back, prefills (and their forwards), cache joins,
 * rows leaving — is summed, beside the scheduler's busy time and the decode steps by batch size.
 * Wall time outside the phases is the event loop: HTTP parsing, SSE writes, the clients' own work.
 */
export async function profileServing(
  folder: string,
  {
    clients,
    requestsPerClient,
    newTokens,
  }: { clients: number; requestsPerClient: number; newTokens: number },
) {
  const served = await loadServedModel(folder, { id: 'bench', maxBatch: clients, maxQueue: clients * 4 });
  const app = createServer({ models: [served] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  let tally = new Tally();
  const restore = instrument(served.model as unknown as Record<string, unknown>, () => tally);
  const body = (client: number, request: number) => ({
    model: 'bench',
    prompt: `Request ${request} of client ${client}: the weather today is`,
    max_tokens: newTokens,
    min_tokens: newTokens,
    temperature: 0,
  });
  try {
    await streamCompletion(baseUrl, { ...body(0, 0), max_tokens: 4, min_tokens: 4 }); // warm-up
    const profiles: Record<string, unknown> = {};
    for (const concurrent of [1, clients]) {
      tally = new Tally();
      const started = performance.now();
      const run = await runClients(baseUrl, concurrent, clients * requestsPerClient, (index) => ({
        key: String(index),
        body: body(index % clients, Math.floor(index / clients)),
      }));
      profiles[`clients${concurrent}`] = {
        aggregateDecodeTokensPerSecond: round(run.aggregateDecodeTokensPerSecond, 1),
        ...tally.summary(performance.now() - started),
      };
    }
    return { model: folder, newTokens, requests: clients * requestsPerClient, ...profiles };
  } finally {
    restore();
    await app.close();
    (served.model as { dispose?: () => void }).dispose?.();
  }
}

/** Wraps the scheduler's steps and the model's forward with timers; returns what undoes it. */
function instrument(model: Record<string, unknown>, tally: () => Tally): () => void {
  const scheduler = BatchScheduler.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  let inPrefill = false;
  let stepForwardMs = 0;
  const wrapAsync = (name: string, onDone: (ms: number, self: unknown) => void, before?: () => void) => {
    const original = scheduler[name]!;
    originals.set(name, original);
    scheduler[name] = async function (this: unknown, ...args: unknown[]) {
      before?.();
      const started = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        onDone(performance.now() - started, this);
      }
    };
  };
  wrapAsync('run', (ms) => {
    tally().busyMs += ms;
  });
  wrapAsync(
    'prefill',
    (ms) => {
      inPrefill = false;
      tally().add('prefill', ms);
    },
    () => {
      inPrefill = true;
    },
  );
  wrapAsync(
    'decodeStep',
    (ms, self) => {
      const rows = (self as { running: unknown[] }).running.length;
      const byRows = tally().stepsByRows.get(rows) ?? { steps: 0, forwardMs: 0 };
      byRows.steps += 1;
      byRows.forwardMs += stepForwardMs;
      tally().stepsByRows.set(rows, byRows);
      tally().add('decodeSelect', ms - stepForwardMs);
    },
    () => {
      stepForwardMs = 0;
    },
  );
  const leave = scheduler.removeEndedRows!;
  originals.set('removeEndedRows', leave);
  scheduler.removeEndedRows = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return leave.apply(this, args);
    } finally {
      tally().add('leave', performance.now() - started);
    }
  };
  // Joins: the batch cache's own method (whatever the scheduler calls it from).
  const probe = (model.createCache as (...args: unknown[]) => { dispose(): void })(1, 1, 'dynamic');
  const cachePrototype = Object.getPrototypeOf(probe) as Record<string, (...args: unknown[]) => unknown>;
  probe.dispose();
  const join = cachePrototype.joinRows!;
  cachePrototype.joinRows = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return join.apply(this, args);
    } finally {
      tally().add('join', performance.now() - started);
    }
  };
  const forward = model.forwardLogits as (...args: unknown[]) => unknown;
  model.forwardLogits = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return forward.apply(this, args);
    } finally {
      const ms = performance.now() - started;
      if (inPrefill) tally().add('prefillForward', ms);
      else {
        stepForwardMs += ms;
        tally().add('decodeForward', ms);
      }
    }
  };
  return () => {
    for (const [name, original] of originals) scheduler[name] = original;
    model.forwardLogits = forward;
    cachePrototype.joinRows = join;
  };
}
