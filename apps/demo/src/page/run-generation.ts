import { type GenerateOptions, generate } from '@tsformer/decoding';
import type { Pretrained, PretrainedTokenizer } from '@tsformer/models';
import type { GenerationRequest } from './generation-form.js';
import { ProbabilityRecorder, type TokenChoice } from './token-probabilities.js';

/** A finished (or stopped) run. */
export interface GenerationRun {
  promptIds: number[];
  /** What `generate` returned: decoder-only rows start with the prompt, encoder-decoder rows with the start token. */
  sequences: number[][];
  /** Each output row's generated ids (decoder-only: after the prompt; encoder-decoder: after the start token). */
  generated: number[][];
  /** Each row's text, special tokens left out (what `tsformer generate` prints after the prompt). */
  texts: string[];
  /** Beam search: each returned hypothesis's score. */
  scores?: number[];
  /** Row 0's tokens with their distributions (not for beam search). */
  choices: TokenChoice[];
  firstTokenMs: number;
  totalMs: number;
}

export interface RunCallbacks {
  /** Row 0 gained a token (greedy search and sampling). */
  onToken?: (choice: TokenChoice) => void;
  signal?: AbortSignal;
  /** A cache the caller keeps (chat): generate feeds only what it does not hold. */
  cache?: GenerateOptions['cache'];
}

/**
 * Runs `generate` on `promptIds` with the request's options as `tsformer generate` does (an attention
 * mask of ones: the tokenizer pads nothing), recording row 0's distributions step by step.
 */
export async function runGeneration(
  pretrained: Pretrained,
  tokenizer: PretrainedTokenizer,
  promptIds: number[],
  request: GenerationRequest,
  callbacks: RunCallbacks = {},
): Promise<GenerationRun> {
  const isSeq2Seq = pretrained.family.task === 'seq2seq-lm';
  const beams = (request.options.numBeams ?? pretrained.generationConfig.numBeams ?? 1) > 1;
  const recorder = beams ? undefined : new ProbabilityRecorder();
  const options: GenerateOptions = {
    ...request.options,
    tokenDecoder: tokenizer,
    ...(request.seed !== undefined && { seed: request.seed }),
    ...(recorder && { logitsProcessors: [recorder] }),
    ...(callbacks.signal && { signal: callbacks.signal }),
    ...(callbacks.cache && { cache: callbacks.cache }),
  };
  const choices: TokenChoice[] = [];
  const start = performance.now();
  let firstTokenMs: number | undefined;
  let rowZeroFinished = false;
  try {
    const steps = generate(
      pretrained.model,
      { inputIds: [promptIds], attentionMask: [promptIds.map(() => 1)] },
      options,
    );
    for (;;) {
      const step = await steps.next();
      firstTokenMs ??= performance.now() - start;
      if (step.done) {
        const offset = isSeq2Seq ? 1 : promptIds.length;
        const generated = step.value.sequences.map((row) => row.slice(offset));
        return {
          promptIds,
          sequences: step.value.sequences,
          generated,
          texts: generated.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true })),
          ...(step.value.sequencesScores && { scores: step.value.sequencesScores }),
          choices,
          firstTokenMs,
          totalMs: performance.now() - start,
        };
      }
      if (recorder) {
        // Always read (it frees the step's record); a row already finished only gains padding.
        const choice = await recorder.read(step.value.newTokens[0]![0]!);
        if (choice !== undefined && !rowZeroFinished) {
          choices.push(choice);
          callbacks.onToken?.(choice);
        }
      }
      rowZeroFinished = step.value.finished[0] ?? false;
    }
  } finally {
    recorder?.dispose();
  }
}

/** New tokens per second after the first (the CLI's figure), or undefined with fewer than two. */
export function tokensPerSecond(run: GenerationRun): number | undefined {
  const newTokens = Math.max(...run.generated.map((ids) => ids.length));
  if (newTokens < 2) return undefined;
  return (newTokens - 1) / ((run.totalMs - run.firstTokenMs) / 1000);
}
