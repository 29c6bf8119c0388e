import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GenerationConfigError } from '../errors.js';
import { parseGenerationConfig, resolveGenerationConfig } from './generation-config.js';
import type { GenerationOptions } from './generation-options.js';

const fixture = (model: string): unknown =>
  JSON.parse(
    readFileSync(
      new URL(`../../../../fixtures/hf-reference/${model}/generation_config.json`, import.meta.url),
      'utf8',
    ),
  );

function errorOf(run: () => unknown): GenerationConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GenerationConfigError);
    return error as GenerationConfigError;
  }
  throw new Error('expected a GenerationConfigError');
}

describe('parseGenerationConfig', () => {
  it('reads generation_config.json files, ignoring keys that are not generation parameters', () => {
    expect(parseGenerationConfig(fixture('gpt2'))).toEqual({
      bosTokenId: 50256,
      eosTokenId: [50256],
      useCache: true,
    });
    expect(parseGenerationConfig(fixture('bart'))).toEqual({
      bosTokenId: 0,
      decoderStartTokenId: 2,
      eosTokenId: [2],
      forcedEosTokenId: [2],
      padTokenId: 1,
      useCache: true,
    });
  });

  it('keeps null as "unset here" and normalises single ids and strings to lists', () => {
    const options = parseGenerationConfig({
      eos_token_id: 3,
      stop_strings: 'END',
      forced_bos_token_id: null,
    });
    expect(options).toEqual({ eosTokenId: [3], stopStrings: ['END'], forcedBosTokenId: null });
  });

  it('names the Hugging Face field of a bad value', () => {
    const error = errorOf(() => parseGenerationConfig({ top_p: 1.5 }));
    expect(error.field).toBe('topP');
    expect(error.message).toContain('top_p');
    expect(error.message).toContain('1.5');
  });

  it('refuses features it does not implement, and non-objects', () => {
    expect(errorOf(() => parseGenerationConfig({ num_beam_groups: 2 })).field).toBe('num_beam_groups');
    expect(errorOf(() => parseGenerationConfig({ guidance_scale: 3 })).field).toBe('guidance_scale');
    expect(() =>
      parseGenerationConfig({ num_beam_groups: 1, guidance_scale: 1, low_memory: false }),
    ).not.toThrow();
    expect(() => parseGenerationConfig([1])).toThrow(GenerationConfigError);
  });
});

describe('resolveGenerationConfig', () => {
  it("fills in Hugging Face 5's defaults", () => {
    const config = resolveGenerationConfig();
    expect(config).toMatchObject({
      maxLength: undefined,
      maxNewTokens: undefined,
      minLength: 0,
      doSample: false,
      numBeams: 1,
      useCache: true,
      temperature: 1,
      topK: 50,
      topP: 1,
      minP: undefined,
      typicalP: 1,
      epsilonCutoff: 0,
      etaCutoff: 0,
      repetitionPenalty: 1,
      lengthPenalty: 1,
      noRepeatNgramSize: 0,
      earlyStopping: false,
      numReturnSequences: 1,
      eosTokenId: undefined,
      prefillChunkSize: 256,
    });
  });

  it('lets later layers win, null unset a value, and never mutates its layers', () => {
    const model = Object.freeze({ eosTokenId: 2, topK: 10, suppressTokens: Object.freeze([4]) });
    const file = Object.freeze({ topK: 20, suppressTokens: null });
    const call = Object.freeze({ topK: 30 });
    const config = resolveGenerationConfig(model, file, call, undefined);
    expect(config.topK).toBe(30);
    expect(config.eosTokenId).toEqual([2]);
    expect(config.suppressTokens).toBeUndefined();
    expect(model).toEqual({ eosTokenId: 2, topK: 10, suppressTokens: [4] });
    expect(Object.isFrozen(config)).toBe(true);
  });

  const invalid: [GenerationOptions, string][] = [
    [{ topP: 0 }, 'topP'],
    [{ topP: 1.5 }, 'topP'],
    [{ topK: -1 }, 'topK'],
    [{ topK: 2.5 }, 'topK'],
    [{ doSample: true, temperature: 0 }, 'temperature'],
    [{ temperature: Number.NaN }, 'temperature'],
    [{ numBeams: 0 }, 'numBeams'],
    [{ numBeams: 2, numReturnSequences: 3 }, 'numReturnSequences'],
    [{ numReturnSequences: 2 }, 'numReturnSequences'],
    [{ maxNewTokens: 0 }, 'maxNewTokens'],
    [{ prefillChunkSize: 0 }, 'prefillChunkSize'],
    [{ prefillChunkSize: 2.5 }, 'prefillChunkSize'],
    [{ maxLength: 1.5 }, 'maxLength'],
    [{ minLength: -1 }, 'minLength'],
    [{ minNewTokens: -2 }, 'minNewTokens'],
    [{ minP: 1.5 }, 'minP'],
    [{ typicalP: 0 }, 'typicalP'],
    [{ epsilonCutoff: 1 }, 'epsilonCutoff'],
    [{ etaCutoff: -0.1 }, 'etaCutoff'],
    [{ repetitionPenalty: 0 }, 'repetitionPenalty'],
    [{ encoderRepetitionPenalty: -1 }, 'encoderRepetitionPenalty'],
    [{ noRepeatNgramSize: -1 }, 'noRepeatNgramSize'],
    [{ encoderNoRepeatNgramSize: 0.5 }, 'encoderNoRepeatNgramSize'],
    [{ lengthPenalty: Number.POSITIVE_INFINITY }, 'lengthPenalty'],
    [{ earlyStopping: 'always' as 'never' }, 'earlyStopping'],
    [{ maxTime: 0 }, 'maxTime'],
    [{ badWordsIds: [] }, 'badWordsIds'],
    [{ badWordsIds: [[]] }, 'badWordsIds'],
    [{ badWordsIds: [[-1]] }, 'badWordsIds'],
    [{ sequenceBias: [[[], 1]] }, 'sequenceBias'],
    [{ exponentialDecayLengthPenalty: [-1, 1.1] }, 'exponentialDecayLengthPenalty'],
    [{ eosTokenId: 1.5 }, 'eosTokenId'],
    [{ eosTokenId: [] }, 'eosTokenId'],
    [{ forcedEosTokenId: -1 }, 'forcedEosTokenId'],
    [{ padTokenId: 0.5 }, 'padTokenId'],
    [{ suppressTokens: [1, -2] }, 'suppressTokens'],
    [{ stopStrings: '' }, 'stopStrings'],
    [{ stopStrings: [] }, 'stopStrings'],
    [{ doSample: 1 as unknown as boolean }, 'doSample'],
    [{ topk: 3 } as GenerationOptions, 'topk'],
  ];

  it.each(invalid)('refuses %j, naming %s', (options, field) => {
    expect(errorOf(() => resolveGenerationConfig(options)).field).toBe(field);
  });

  it('accepts the combinations Hugging Face accepts', () => {
    expect(resolveGenerationConfig({ temperature: 0 }).temperature).toBe(0);
    expect(resolveGenerationConfig({ doSample: true, numReturnSequences: 4 }).numReturnSequences).toBe(4);
    expect(resolveGenerationConfig({ numBeams: 4, numReturnSequences: 4 }).numBeams).toBe(4);
    expect(
      resolveGenerationConfig({ maxLength: 10, maxNewTokens: 5, earlyStopping: 'never' }).maxNewTokens,
    ).toBe(5);
    expect(resolveGenerationConfig({ topK: 0, topP: 1, minP: 0, padTokenId: -1 }).topK).toBe(0);
  });
});
