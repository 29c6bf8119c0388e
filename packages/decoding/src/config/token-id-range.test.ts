import { withFile } from '@tsformer/core-tensor';
import { describe, expect, it } from 'vitest';
import { GenerationConfigError } from '../errors.js';
import { parseGenerationConfig, resolveGenerationConfig } from './generation-config.js';
import { checkTokenIdRange } from './token-id-range.js';

const VOCAB = 100;

function refusal(run: () => void): GenerationConfigError {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(GenerationConfigError);
  return error as GenerationConfigError;
}

describe('checkTokenIdRange', () => {
  it('refuses every kind of token-id field holding an id past the vocabulary, naming the field both ways', () => {
    const cases: [Parameters<typeof checkTokenIdRange>[0], string, string][] = [
      [{ eosTokenId: 100 }, 'eosTokenId', '`eosTokenId` (eos_token_id) 100'],
      [{ eosTokenId: [2, 140, 140] }, 'eosTokenId', '`eosTokenId` (eos_token_id) 140'],
      [{ padTokenId: 250 }, 'padTokenId', '`padTokenId` (pad_token_id) 250'],
      [{ bosTokenId: 100 }, 'bosTokenId', '`bosTokenId` (bos_token_id) 100'],
      [{ decoderStartTokenId: 101 }, 'decoderStartTokenId', '(decoder_start_token_id) 101'],
      [{ forcedBosTokenId: 100 }, 'forcedBosTokenId', '(forced_bos_token_id) 100'],
      [{ forcedEosTokenId: [1, 100] }, 'forcedEosTokenId', '(forced_eos_token_id) 100'],
      [{ suppressTokens: [5, 300, 400] }, 'suppressTokens', '`suppressTokens` (suppress_tokens) 300, 400'],
      [{ beginSuppressTokens: [100] }, 'beginSuppressTokens', '(begin_suppress_tokens) 100'],
      [{ badWordsIds: [[1], [2, 100]] }, 'badWordsIds', '(bad_words_ids) 100'],
      [{ sequenceBias: [[[1, 120], 2.5]] }, 'sequenceBias', '(sequence_bias) 120'],
    ];
    for (const [options, field, named] of cases) {
      const error = refusal(() => checkTokenIdRange(options, VOCAB));
      expect(error.field).toBe(field);
      expect(error.message).toContain(named);
      expect(error.message).toMatch(/is outside the 100-token vocabulary$/);
    }
  });

  it('names the file when its reader adds it (withFile)', () => {
    const fromFile = parseGenerationConfig({ eos_token_id: [0, 2048] });
    const error = refusal(() =>
      withFile('gpt/generation_config.json', () => checkTokenIdRange(fromFile, VOCAB)),
    );
    expect(error.message).toBe(
      'gpt/generation_config.json: `eosTokenId` (eos_token_id) 2048 is outside the 100-token vocabulary',
    );
  });

  it('accepts ids inside the vocabulary, unset fields, and a resolved config', () => {
    checkTokenIdRange({ eosTokenId: [0, 99], padTokenId: -1, suppressTokens: [], sequenceBias: null }, VOCAB);
    checkTokenIdRange(resolveGenerationConfig({ eosTokenId: 99, badWordsIds: [[98, 97]] }), VOCAB);
  });
});
