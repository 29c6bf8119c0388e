import { SeededRandom } from '@tsformer/core-tensor';
import type { GenerationConfig, TokenRows } from './config/generation-options.js';
import { checkTokenIdRange } from './config/token-id-range.js';
import { GenerationInputError } from './errors.js';
import type { CausalLM, Seq2SeqLM, TokenDecoder } from './language-model.js';
import { checkPositionLimit } from './position-check.js';
import { buildLogitsProcessors } from './processors/build-logits-processors.js';
import type { LogitsProcessor } from './processors/logits-processor.js';
import { buildStoppingCriteria } from './stopping/build-stopping-criteria.js';
import type { StoppingCriterion } from './stopping/stopping-criterion.js';

/** Hugging Face generates 20 new tokens when neither `maxLength` nor `maxNewTokens` says otherwise. */
const DEFAULT_NEW_TOKENS = 20;

/** What a plan needs besides the resolved config (the parts of GenerateOptions that are not parameters). */
export interface PlanInputs {
  /** Row length when generation starts: the prompt, or an encoder-decoder's decoder start. */
  readonly promptLength: number;
  /** The encoder's input rows, one per prompt: the prompt itself for decoder-only models. */
  readonly encoderInputIds: TokenRows;
  /** Whether the caller left `maxLength` unset (then a model default of 20 counts as none). */
  readonly callerLeftMaxLength: boolean;
  readonly logitsProcessors?: readonly LogitsProcessor[];
  readonly stoppingCriteria?: readonly StoppingCriterion[];
  readonly tokenDecoder?: TokenDecoder;
  readonly clock?: () => number;
  readonly seed?: number;
  readonly onWarning?: (message: string) => void;
}

/** Everything a search needs, checked and built from a resolved config before any model work. */
export interface GenerationPlan {
  readonly config: GenerationConfig;
  readonly maxLength: number;
  readonly minLength: number;
  readonly processors: LogitsProcessor[];
  readonly criteria: StoppingCriterion[];
  /** Set when sampling: the seeded draws. */
  readonly random: SeededRandom | undefined;
}

/**
 * The checks and objects `generate` (and the continuous-batching scheduler, per request) builds
 * before it runs a model: token ids in range, the lengths (Hugging Face's `_prepare_generated_length`),
 * the position limit, the logits processors, the stopping criteria and the sampling draws.
 */
export function planGeneration(
  model: CausalLM | Seq2SeqLM,
  config: GenerationConfig,
  inputs: PlanInputs,
): GenerationPlan {
  checkTokenIdRange(config, model.vocabSize);
  const { promptLength } = inputs;
  const { maxLength, minLength } = generationLengths(config, promptLength, inputs.callerLeftMaxLength);
  checkPositionLimit(
    model.positionLimit,
    promptLength,
    maxLength,
    inputs.onWarning ?? ((message) => console.warn(message)),
  );
  const processors = buildLogitsProcessors(
    config,
    { inputIdsSequenceLength: promptLength, encoderInputIds: inputs.encoderInputIds, maxLength, minLength },
    inputs.logitsProcessors,
  );
  const criteria = buildStoppingCriteria(
    config,
    { maxLength, promptLength, tokenDecoder: inputs.tokenDecoder, clock: inputs.clock },
    inputs.stoppingCriteria,
  );
  const random = config.doSample
    ? new SeededRandom(inputs.seed ?? Math.floor(Math.random() * 2 ** 32))
    : undefined;
  return { config, maxLength, minLength, processors, criteria, random };
}

/**
 * Hugging Face's `_prepare_generated_length`: `maxNewTokens` wins over `maxLength`; with neither
 * given by the caller (a model default of 20 counts as none), 20 tokens follow the prompt.
 */
function generationLengths(
  config: GenerationConfig,
  promptLength: number,
  callerLeftMaxLength: boolean,
): { maxLength: number; minLength: number } {
  const maxLengthIsDefault =
    config.maxLength === undefined || (callerLeftMaxLength && config.maxLength === DEFAULT_NEW_TOKENS);
  const maxLength =
    config.maxNewTokens !== undefined
      ? promptLength + config.maxNewTokens
      : maxLengthIsDefault
        ? promptLength + DEFAULT_NEW_TOKENS
        : config.maxLength!;
  if (promptLength >= maxLength) {
    throw new GenerationInputError(
      `the input is ${promptLength} tokens long but maxLength is ${maxLength}: raise maxLength or set maxNewTokens`,
    );
  }
  const minLength = config.minNewTokens !== undefined ? promptLength + config.minNewTokens : config.minLength;
  return { maxLength, minLength };
}
