import type { CausalLM, GenerateOptions } from '@tsformer/decoding';
import { generate } from '@tsformer/decoding';
import { measureForwardDecode, round } from './measure.js';

/** The strategies the generate benchmark compares, with Hugging Face's parameter names. */
export const STRATEGIES: Record<string, GenerateOptions> = {
  greedy: {},
  'sample top-k 50 top-p 0.9': { doSample: true, topK: 50, topP: 0.9, seed: 1 },
  'greedy repetition_penalty 1.3 no_repeat_ngram 3': { repetitionPenalty: 1.3, noRepeatNgramSize: 3 },
  'beam 4': { numBeams: 4 },
  'beam 4 sample': { numBeams: 4, doSample: true, seed: 1 },
};

export interface StrategyFigures {
  strategy: string;
  promptTokens: number;
  newTokens: number;
  /** Whole generate call (prefill included), all beams counted as one sequence: what a user waits for. */
  totalMs: number;
  tokensPerSecond: number;
  /** The same prefill and steps through the model's forward alone (argmax, one row per beam). */
  forwardOnlyTotalMs: number;
  /** What generate spends per step beyond the model's forward: processors, search, bookkeeping. */
  loopOverheadMsPerStep: number;
}

/** Each figure is the median of this many runs (the first run of a shape also warms kernels up). */
const REPEATS = 3;

async function medianOf(count: number, run: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(await run());
  return values.sort((a, b) => a - b)[Math.floor(count / 2)]!;
}

/** Runs `generate` with each strategy for `newTokens` tokens (no early stop) and times it. */
export async function measureStrategies(
  model: CausalLM,
  promptIds: number[],
  newTokens: number,
  generationConfig: GenerateOptions['generationConfig'],
): Promise<StrategyFigures[]> {
  const figures: StrategyFigures[] = [];
  for (const [strategy, options] of Object.entries(STRATEGIES)) {
    const rows = options.numBeams ?? 1;
    const forwardOnlyTotalMs = await medianOf(REPEATS, async () => {
      const cache = generationConfig?.cacheImplementation ?? 'dynamic';
      const forwardOnly = await measureForwardDecode(model, promptIds, newTokens, rows, cache);
      return forwardOnly.timeToFirstTokenMs + forwardOnly.decodeStepMs * (newTokens - 1);
    });
    const totalMs = await medianOf(REPEATS, async () => {
      const start = performance.now();
      const stream = generate(
        model,
        { inputIds: [promptIds] },
        { generationConfig, ...options, maxNewTokens: newTokens, minNewTokens: newTokens },
      );
      for await (const _ of stream) {
        // Each step's tokens are already downloaded by generate; nothing more to do with them here.
      }
      return performance.now() - start;
    });
    figures.push({
      strategy,
      promptTokens: promptIds.length,
      newTokens,
      totalMs: round(totalMs),
      tokensPerSecond: round((newTokens * 1000) / totalMs),
      forwardOnlyTotalMs: round(forwardOnlyTotalMs),
      loopOverheadMsPerStep: round((totalMs - forwardOnlyTotalMs) / newTokens),
    });
  }
  return figures;
}
