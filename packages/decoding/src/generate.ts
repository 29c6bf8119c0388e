import type { Cache } from '@tsformer/cache';
import { resolveGenerationConfig } from './config/generation-config.js';
import type { GenerationConfig, GenerationOptions } from './config/generation-options.js';
import { GenerationConfigError, GenerationInputError } from './errors.js';
import {
  type GenerateInputs,
  inferAttentionMask,
  readAttentionMask,
  readInputIds,
} from './generation-inputs.js';
import { planGeneration } from './generation-plan.js';
import { type CausalLM, isSeq2SeqLM, type Seq2SeqLM, type TokenDecoder } from './language-model.js';
import { trackGeneration } from './live-generations.js';
import type { LogitsProcessor } from './processors/logits-processor.js';
import { beamSearch } from './search/beam-search.js';
import { CausalSession } from './search/causal-session.js';
import type { GenerateOutput, GenerationStep } from './search/generation-step.js';
import { type ModelSession, repeatRows } from './search/model-session.js';
import { sampleSearch } from './search/sample-search.js';
import { Seq2SeqSession } from './search/seq2seq-session.js';
import { StepGate } from './step-gate.js';
import type { StoppingCriterion } from './stopping/stopping-criterion.js';
import { TextStreamer } from './text-streamer.js';

/** Generation parameters (the top layer, over the model's defaults and `generationConfig`) and callbacks. */
export interface GenerateOptions extends GenerationOptions {
  /** A layer between the model's defaults and these options, e.g. `parseGenerationConfig(json)`. */
  readonly generationConfig?: GenerationOptions;
  /** Extra processors; one of a built-in processor's class replaces it in place (as Hugging Face). */
  readonly logitsProcessors?: readonly LogitsProcessor[];
  /** Extra stopping criteria, merged the same way. */
  readonly stoppingCriteria?: readonly StoppingCriterion[];
  /** Needed for `stopStrings` and `onText`. */
  readonly tokenDecoder?: TokenDecoder;
  /** Receives each output row's generated text as soon as it decodes cleanly (beam search: at the end). */
  readonly onText?: (text: string, row: number) => void;
  /** Whether the text given to `onText` leaves special tokens out. Default true. */
  readonly skipSpecialTokens?: boolean;
  /** Seed of the sampling draws: the same seed gives the same tokens on every backend. Default: random. */
  readonly seed?: number;
  /** The clock `maxTime` reads, in milliseconds. Default `performance.now`. */
  readonly clock?: () => number;
  /**
   * A cache the caller owns (HF's `past_key_values`), already holding the keys and values of the first
   * `cache.getSeqLength()` prompt tokens: only the rest is fed, and the cache is grown and left alive
   * (a chat keeps it across turns). Decoder-only models, one output row (batch 1, no beams or returned
   * sequences beyond one).
   */
  readonly cache?: Cache;
  /**
   * Stops the generation at its next step (or prefill chunk): its tensors are freed and it rejects
   * with GenerationAbortedError carrying `signal.reason`. An already aborted signal rejects before
   * any work. A caller's `cache` is left holding the tokens fed so far.
   */
  readonly signal?: AbortSignal;
  /** Receives one-line warnings (a prompt past a rotary model's positions). Default `console.warn`. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Generates from a decoder-only or encoder-decoder model exactly as Hugging Face's `generate`:
 * greedy search, multinomial sampling, beam search or beam sampling, per the merged configuration
 * (the model's `generationConfig`, then `options.generationConfig`, then the other options). Yields
 * each step's tokens (see GenerationStep) and returns the final output. Every step is one `tf.tidy`
 * and one small download, after a turn of the event loop (timers and other work run; `signal` is
 * read). A long prompt is prefilled in chunks (`prefillChunkSize`). Prompt + new tokens are checked
 * against the model's `positionLimit` before anything is generated. The cache and encoder states are
 * freed when the generator finishes, fails, is aborted or abandoned with `return()`, or when
 * `releaseGenerations(model)` runs (an iterator dropped without `return()`).
 */
export async function* generate(
  model: CausalLM | Seq2SeqLM,
  inputs: GenerateInputs,
  options: GenerateOptions = {},
): AsyncGenerator<GenerationStep, GenerateOutput, undefined> {
  const {
    generationConfig,
    logitsProcessors,
    stoppingCriteria,
    tokenDecoder,
    onText,
    skipSpecialTokens,
    seed,
    clock,
    cache: callerCache,
    signal,
    onWarning,
    ...callOptions
  } = options;
  const gate = new StepGate(signal);
  gate.throwIfStopped();
  const config = resolveGenerationConfig(model.generationConfig, generationConfig, callOptions);
  const inputIds = await readInputIds(inputs.inputIds, model.vocabSize);
  const eosTokenIds = config.eosTokenId;
  const padTokenId = config.padTokenId ?? eosTokenIds?.[0];
  const attentionMask =
    inputs.attentionMask === undefined
      ? inferAttentionMask(inputIds, padTokenId, eosTokenIds)
      : await readAttentionMask(inputs.attentionMask, inputIds);
  const prompts = isSeq2SeqLM(model) ? inputIds.map(() => [decoderStartTokenId(config)]) : inputIds;
  const promptLength = prompts[0]!.length;
  const { maxLength, processors, criteria, random } = planGeneration(model, config, {
    promptLength,
    encoderInputIds: inputIds,
    callerLeftMaxLength: callOptions.maxLength === undefined,
    logitsProcessors,
    stoppingCriteria,
    tokenDecoder,
    clock,
    seed,
    onWarning,
  });
  const streamer =
    onText && new TextStreamer(decoderFor('onText', tokenDecoder), onText, skipSpecialTokens ?? true);
  const rowsPerPrompt = config.numBeams > 1 ? config.numBeams : config.numReturnSequences;

  if (callerCache)
    checkCallerCache(callerCache, model, config, inputIds.length * rowsPerPrompt, promptLength);
  const cache = config.useCache ? config.cacheImplementation : undefined;
  const session: ModelSession = isSeq2SeqLM(model)
    ? new Seq2SeqSession(model, inputIds, attentionMask, rowsPerPrompt, cache, maxLength)
    : new CausalSession(model, repeatRows(attentionMask, rowsPerPrompt), cache, maxLength, callerCache);
  let freed = false;
  const free = () => {
    if (!freed) session.dispose();
    freed = true;
  };
  const stopTracking = trackGeneration(model, () => {
    gate.release();
    free();
  });
  const betweenSteps = () => gate.pass();
  try {
    await session.prefill?.(repeatRows(prompts, rowsPerPrompt), config.prefillChunkSize, betweenSteps);
    const search =
      config.numBeams > 1
        ? beamSearch(session, prompts, {
            numBeams: config.numBeams,
            numReturnSequences: config.numReturnSequences,
            lengthPenalty: config.lengthPenalty,
            earlyStopping: config.earlyStopping,
            maxLength,
            eosTokenIds,
            fillTokenId: beamFillTokenId(padTokenId, eosTokenIds),
            processors,
            criteria,
            random,
            betweenSteps,
          })
        : sampleSearch(
            session,
            repeatRows(prompts, rowsPerPrompt).map((row) => [...row]),
            {
              processors,
              criteria,
              random,
              padAfterFinish: eosTokenIds === undefined ? undefined : padTokenId,
              betweenSteps,
            },
          );
    let finishedBefore: readonly boolean[] = [];
    for (;;) {
      const step = await search.next();
      if (step.done) {
        streamer?.end();
        return step.value;
      }
      step.value.newTokens.forEach((tokens, row) => {
        if (!finishedBefore[row]) streamer?.put(row, tokens);
      });
      finishedBefore = step.value.finished;
      yield step.value;
    }
  } finally {
    stopTracking();
    free();
  }
}

/**
 * Runs `generate` to the end and returns its output: `sequences` (and `sequencesScores` for beam
 * search). Honours `signal` as `generate` does (rejects with GenerationAbortedError).
 */
export async function generateAll(
  model: CausalLM | Seq2SeqLM,
  inputs: GenerateInputs,
  options: GenerateOptions = {},
): Promise<GenerateOutput> {
  const steps = generate(model, inputs, options);
  for (;;) {
    const step = await steps.next();
    if (step.done) return step.value;
  }
}

function decoderStartTokenId(config: GenerationConfig): number {
  const start = config.decoderStartTokenId ?? config.bosTokenId;
  if (start === undefined) {
    throw new GenerationConfigError(
      'decoderStartTokenId',
      '`decoderStartTokenId` (decoder_start_token_id) or `bosTokenId` is needed for encoder-decoder generation',
    );
  }
  return start;
}

function decoderFor(feature: string, decoder: TokenDecoder | undefined): TokenDecoder {
  if (decoder === undefined)
    throw new GenerationConfigError(feature, `\`${feature}\` needs a \`tokenDecoder\``);
  return decoder;
}

/**
 * What fills the ends of short beam hypotheses: Hugging Face's `pad_token_id or eos_token_id[0] if
 * eos_token_id is not None else -1` (a pad id of 0 counts as unset there).
 */
function beamFillTokenId(padTokenId: number | undefined, eosTokenIds: readonly number[] | undefined): number {
  if (eosTokenIds === undefined) return -1;
  return padTokenId !== undefined && padTokenId !== 0 ? padTokenId : eosTokenIds[0]!;
}

/** A caller-owned cache (`GenerateOptions.cache`) must fit what this generation will do with it. */
function checkCallerCache(
  cache: Cache,
  model: CausalLM | Seq2SeqLM,
  config: GenerationConfig,
  rows: number,
  promptLength: number,
): void {
  if (isSeq2SeqLM(model)) {
    throw new GenerationInputError('cache: a caller-owned cache is supported for decoder-only models only');
  }
  if (!config.useCache)
    throw new GenerationInputError('cache: a caller-owned cache was given with useCache false');
  if (rows !== 1) {
    throw new GenerationInputError(
      `cache: a caller-owned cache holds one row, but this generation has ${rows} (batch × beams or returned sequences)`,
    );
  }
  const held = cache.getSeqLength();
  if (held >= promptLength) {
    throw new GenerationInputError(
      `cache: it holds ${held} tokens but the prompt has ${promptLength}; at least the last prompt token must be fed`,
    );
  }
}
