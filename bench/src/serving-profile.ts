import type { AddressInfo } from 'node:net';
import { BatchScheduler } from '@tsformer/decoding';
import { createServer, loadServedModel } from '@tsformer/server';
import { streamCompletion } from './http-client.js';
import { round } from './measure.js';
import { runClients } from './serving.js';

type Phase =
  | 'decodeForward'
  | 'decodeSelect'
  | 'prefill'
  | 'prefillForward'
  | 'prefillWhileDecoding'
  | 'join'
  | 'leave'
  | 'cacheReorder'
  | 'cacheDropStart';

const PHASES: readonly Phase[] = [
  'decodeForward',
  'decodeSelect',
  'prefill',
  'prefillForward',
  'prefillWhileDecoding',
  'join',
  'leave',
  'cacheReorder',
  'cacheDropStart',
];

/** Milliseconds per phase, decode steps by batch size, and the scheduler's busy wall time. */
class Tally {
  constructor(
    /** When each run of the scheduler's loop started and ended (`end` undefined while it runs). */
    readonly loops: { start: number; end?: number }[],
  ) {}

  readonly ms = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  readonly counts = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  /** Decode steps and their forward's ms, by the batch's rows. */
  readonly stepsByRows = new Map<number, { steps: number; forwardMs: number; vacantRows: number }>();

  add(phase: Phase, ms: number): void {
    this.ms[phase] += ms;
    this.counts[phase] += 1;
  }

  /**
   * Milliseconds of `[from, to]` during which the scheduler's loop ran. A loop may start before the
   * window (a request of the previous run still ending) or end after it (its last turn after the
   * clients had their answers): only the part inside the window counts.
   */
  busyMs(from: number, to: number): number {
    return this.loops.reduce(
      (total, { start, end = to }) => total + Math.max(0, Math.min(end, to) - Math.max(start, from)),
      0,
    );
  }

  summary(from: number, to: number) {
    const wallMs = to - from;
    const busyMs = this.busyMs(from, to);
    const decodeMs = this.ms.decodeForward + this.ms.decodeSelect;
    const accounted = decodeMs + this.ms.prefill + this.ms.join + this.ms.leave;
    const phases = Object.fromEntries(
      PHASES.map((phase) => [
        phase,
        { ms: round(this.ms[phase]), calls: this.counts[phase], share: round(this.ms[phase] / wallMs, 3) },
      ]),
    );
    return {
      wallMs: round(wallMs),
      schedulerBusyMs: round(busyMs),
      phases,
      // The rest of the scheduler's busy time: its event-loop turns (HTTP, SSE, timers) and bookkeeping.
      busyOutsidePhasesMs: round(busyMs - accounted),
      idleMs: round(wallMs - busyMs),
      decodeSteps: [...this.stepsByRows]
        .sort((a, b) => a[0] - b[0])
        .map(([rows, { steps, forwardMs, vacantRows }]) => ({
          rows,
          steps,
          forwardMsMean: round(forwardMs / steps, 1),
          // Rows of those forwards that were vacant slots (a finished request's, kept for a joiner).
          vacantRowSteps: vacantRows,
        })),
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
  // One record of the loop's runs for the whole profile: a run may span two measured windows.
  const loops: Tally['loops'] = [];
  let tally = new Tally(loops);
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
    await loopsEnded(loops);
    const profiles: Record<string, unknown> = {};
    for (const concurrent of [1, clients]) {
      tally = new Tally(loops);
      const started = performance.now();
      const run = await runClients(baseUrl, concurrent, clients * requestsPerClient, (index) => ({
        key: String(index),
        body: body(index % clients, Math.floor(index / clients)),
      }));
      // The window ends when the scheduler has done its last turn (rows leaving after the answers).
      await loopsEnded(loops);
      profiles[`clients${concurrent}`] = {
        aggregateDecodeTokensPerSecond: round(run.aggregateDecodeTokensPerSecond, 1),
        timeToFirstTokenMsP50: round(run.timeToFirstTokenMsP50),
        ...tally.summary(started, performance.now()),
      };
    }
    return { model: folder, newTokens, requests: clients * requestsPerClient, ...profiles };
  } finally {
    restore();
    await app.close();
    (served.model as { dispose?: () => void }).dispose?.();
  }
}

/** Resolves once every run of the scheduler's loop has ended (its last turn comes after the answers). */
async function loopsEnded(loops: readonly { end?: number }[]): Promise<void> {
  while (loops.some((loop) => loop.end === undefined)) await new Promise((resolve) => setTimeout(resolve, 5));
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
  const runLoop = scheduler.run!;
  originals.set('run', runLoop);
  scheduler.run = async function (this: unknown, ...args: unknown[]) {
    const loop: { start: number; end?: number } = { start: performance.now() };
    tally().loops.push(loop);
    try {
      return await runLoop.apply(this, args);
    } finally {
      loop.end = performance.now();
    }
  };
  wrapAsync(
    'prefill',
    (ms, self) => {
      inPrefill = false;
      tally().add('prefill', ms);
      // The rows already running waited for this prefill: decode time lost to it.
      if ((self as BatchScheduler).stats().running > 0) tally().add('prefillWhileDecoding', ms);
    },
    () => {
      inPrefill = true;
    },
  );
  wrapAsync(
    'decodeStep',
    (ms, self) => {
      // The forward's rows: running requests and vacant slots.
      const slots = (self as unknown as { slots: unknown[] }).slots;
      const rows = slots.length;
      const byRows = tally().stepsByRows.get(rows) ?? { steps: 0, forwardMs: 0, vacantRows: 0 };
      byRows.steps += 1;
      byRows.forwardMs += stepForwardMs;
      byRows.vacantRows += slots.filter((row) => row === undefined).length;
      tally().stepsByRows.set(rows, byRows);
      tally().add('decodeSelect', ms - stepForwardMs);
    },
    () => {
      stepForwardMs = 0;
    },
  );
  // Rows leaving: their slots vacated, and vacant slots taken out of the cache.
  for (const name of ['vacateEndedRows', 'removeVacantSlots']) {
    const leave = scheduler[name]!;
    originals.set(name, leave);
    scheduler[name] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return leave.apply(this, args);
      } finally {
        tally().add('leave', performance.now() - started);
      }
    };
  }
  // The batch cache's joins, reorders and padding drops, whatever calls them (reorders and drops sit
  // inside `leave`, or `prefill` when a joining row ended at once; `join` is outside the others).
  const probe = (model.createCache as (...args: unknown[]) => { dispose(): void })(1, 1, 'dynamic');
  const cachePrototype = Object.getPrototypeOf(probe) as Record<string, (...args: unknown[]) => unknown>;
  probe.dispose();
  const cacheMethods = { joinRows: 'join', reorder: 'cacheReorder', dropStart: 'cacheDropStart' } as const;
  const cacheOriginals = new Map<string, (...args: unknown[]) => unknown>();
  for (const [name, phase] of Object.entries(cacheMethods)) {
    const original = cachePrototype[name]!;
    cacheOriginals.set(name, original);
    cachePrototype[name] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        tally().add(phase, performance.now() - started);
      }
    };
  }
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
    for (const [name, original] of cacheOriginals) cachePrototype[name] = original;
  };
}
