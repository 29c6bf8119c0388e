import { GenerationConfigError } from '../errors.js';
import { fieldName } from './generation-config.js';
import type { GenerationOptions } from './generation-options.js';

/** The fields that hold token ids: one id, a list, or lists of ids (`sequenceBias`: with biases). */
const TOKEN_ID_FIELDS = [
  'bosTokenId',
  'eosTokenId',
  'padTokenId',
  'decoderStartTokenId',
  'forcedBosTokenId',
  'forcedEosTokenId',
  'suppressTokens',
  'beginSuppressTokens',
  'badWordsIds',
  'sequenceBias',
] as const satisfies readonly (keyof GenerationOptions)[];

function tokenIdsOf(options: GenerationOptions, option: (typeof TOKEN_ID_FIELDS)[number]): number[] {
  if (option === 'sequenceBias') return (options.sequenceBias ?? []).flatMap(([ids]) => ids);
  const value = options[option];
  return value === undefined || value === null ? [] : [value].flat(2);
}

/**
 * Throws GenerationConfigError unless every token id in `options` (one layer, or a resolved config)
 * is below `vocabSize`: an id past the vocabulary would be embedded or scored out of range, or
 * silently never match. The message names both spellings of the option (a caller checking a file's
 * options names the file with `withFile`). Values are expected to be valid otherwise (parsed or resolved).
 */
export function checkTokenIdRange(options: GenerationOptions, vocabSize: number): void {
  for (const option of TOKEN_ID_FIELDS) {
    const outside = tokenIdsOf(options, option).filter((id) => id >= vocabSize);
    if (outside.length === 0) continue;
    const { hf } = fieldName(option);
    throw new GenerationConfigError(
      option,
      `\`${option}\` (${hf}) ${[...new Set(outside)].join(', ')} is outside the ${vocabSize}-token vocabulary`,
    );
  }
}
