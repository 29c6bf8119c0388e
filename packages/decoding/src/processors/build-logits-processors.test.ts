import { describe, expect, it } from 'vitest';
import { resolveGenerationConfig } from '../config/generation-config.js';
import type { GenerationOptions } from '../config/generation-options.js';
import { buildLogitsProcessors } from './build-logits-processors.js';
import { EncoderNoRepeatNGramLogitsProcessor } from './encoder-no-repeat-ngram.js';
import { EncoderRepetitionPenaltyLogitsProcessor } from './encoder-repetition-penalty.js';
import { EpsilonLogitsWarper } from './epsilon.js';
import { EtaLogitsWarper } from './eta.js';
import { ExponentialDecayLengthPenalty } from './exponential-decay-length-penalty.js';
import { ForcedBOSTokenLogitsProcessor } from './forced-bos-token.js';
import { ForcedEOSTokenLogitsProcessor } from './forced-eos-token.js';
import { InfNanRemoveLogitsProcessor } from './inf-nan-remove.js';
import { LogitNormalization } from './logit-normalization.js';
import type { LogitsProcessor } from './logits-processor.js';
import { MinLengthLogitsProcessor } from './min-length.js';
import { MinNewTokensLengthLogitsProcessor } from './min-new-tokens.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoBadWordsLogitsProcessor } from './no-bad-words.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { SequenceBiasLogitsProcessor } from './sequence-bias.js';
import { SuppressTokensLogitsProcessor } from './suppress-tokens.js';
import { SuppressTokensAtBeginLogitsProcessor } from './suppress-tokens-at-begin.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';
import { TypicalLogitsWarper } from './typical.js';

const EVERYTHING: GenerationOptions = {
  sequenceBias: [[[1], 0.5]],
  encoderRepetitionPenalty: 1.2,
  repetitionPenalty: 1.3,
  noRepeatNgramSize: 2,
  encoderNoRepeatNgramSize: 3,
  badWordsIds: [[4]],
  minLength: 3,
  minNewTokens: 2,
  forcedBosTokenId: 5,
  forcedEosTokenId: 6,
  removeInvalidValues: true,
  exponentialDecayLengthPenalty: [2, 1.1],
  suppressTokens: [7],
  beginSuppressTokens: [8],
  renormalizeLogits: true,
  temperature: 0.7,
  topK: 10,
  topP: 0.9,
  minP: 0.05,
  typicalP: 0.95,
  epsilonCutoff: 0.001,
  etaCutoff: 0.002,
  eosTokenId: [9, 10],
};
const CONTEXT = { inputIdsSequenceLength: 1, encoderInputIds: [[1, 2, 3]], maxLength: 12, minLength: 3 };
const classes = (processors: LogitsProcessor[]) => processors.map((processor) => processor.constructor);

describe('buildLogitsProcessors', () => {
  it("follows Hugging Face's _get_logits_processor order, warpers only when sampling", () => {
    const processors = [
      SequenceBiasLogitsProcessor,
      EncoderRepetitionPenaltyLogitsProcessor,
      RepetitionPenaltyLogitsProcessor,
      NoRepeatNGramLogitsProcessor,
      EncoderNoRepeatNGramLogitsProcessor,
      NoBadWordsLogitsProcessor,
      MinLengthLogitsProcessor,
      MinNewTokensLengthLogitsProcessor,
      ForcedBOSTokenLogitsProcessor,
      ForcedEOSTokenLogitsProcessor,
      InfNanRemoveLogitsProcessor,
      ExponentialDecayLengthPenalty,
      SuppressTokensLogitsProcessor,
      SuppressTokensAtBeginLogitsProcessor,
    ];
    const warpers = [
      TemperatureLogitsWarper,
      TopKLogitsWarper,
      TopPLogitsWarper,
      MinPLogitsWarper,
      TypicalLogitsWarper,
      EpsilonLogitsWarper,
      EtaLogitsWarper,
    ];
    const greedy = buildLogitsProcessors(resolveGenerationConfig(EVERYTHING), CONTEXT);
    expect(classes(greedy)).toEqual([...processors, LogitNormalization]);
    const sampling = buildLogitsProcessors(resolveGenerationConfig(EVERYTHING, { doSample: true }), CONTEXT);
    expect(classes(sampling)).toEqual([...processors, ...warpers, LogitNormalization]);
  });

  it('keeps one more token than there are EOS ids in beam sampling', () => {
    const beamSample = buildLogitsProcessors(
      resolveGenerationConfig({ doSample: true, numBeams: 3, topK: 1, eosTokenId: [9, 10] }),
      { ...CONTEXT, minLength: 0 },
    );
    expect((beamSample[0] as TopKLogitsWarper).topK).toBe(3);
    const sample = buildLogitsProcessors(resolveGenerationConfig({ doSample: true, topK: 1 }), CONTEXT);
    expect((sample[0] as TopKLogitsWarper).topK).toBe(1);
  });

  it('moves begin-suppression one token later when a forced BOS follows a one-token start', () => {
    const config = resolveGenerationConfig({ beginSuppressTokens: [8], forcedBosTokenId: 5 });
    const [, begin] = buildLogitsProcessors(config, CONTEXT) as [
      unknown,
      SuppressTokensAtBeginLogitsProcessor,
    ];
    expect(begin.beginIndex).toBe(2);
    const [decoderOnly] = buildLogitsProcessors(config, { ...CONTEXT, inputIdsSequenceLength: 4 }).slice(
      1,
    ) as [SuppressTokensAtBeginLogitsProcessor];
    expect(decoderOnly.beginIndex).toBe(4);
  });

  it('puts a custom processor in place of the built-in of its class, and the others after the processors', () => {
    const customPenalty = new RepetitionPenaltyLogitsProcessor(2);
    const extra: LogitsProcessor = { process: (_ids, scores) => scores };
    const built = buildLogitsProcessors(
      resolveGenerationConfig({
        repetitionPenalty: 1.5,
        noRepeatNgramSize: 2,
        doSample: true,
        temperature: 0.5,
      }),
      CONTEXT,
      [extra, customPenalty],
    );
    expect(built[0]).toBe(customPenalty);
    expect(built[2]).toBe(extra);
    expect(classes(built)).toEqual([
      RepetitionPenaltyLogitsProcessor,
      NoRepeatNGramLogitsProcessor,
      Object,
      TemperatureLogitsWarper,
      TopKLogitsWarper,
    ]);
  });

  it('needs EOS for the exponential decay penalty', () => {
    expect(() =>
      buildLogitsProcessors(resolveGenerationConfig({ exponentialDecayLengthPenalty: [1, 1.1] }), CONTEXT),
    ).toThrow(/eosTokenId/);
  });
});
