import type * as tf from '@tensorflow/tfjs-core';
import { integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { onlyTokens } from './score-ops.js';

/** Forces an EOS token as the last token, at the step that reaches `maxLength`. */
export class ForcedEOSTokenLogitsProcessor implements LogitsProcessor {
  readonly eosTokenIds: readonly number[];

  constructor(
    readonly maxLength: number,
    eosTokenId: number | readonly number[],
  ) {
    integerAtLeast(1)(maxLength, { option: 'maxLength', hf: 'max_length' });
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'forcedEosTokenId', hf: 'forced_eos_token_id' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return (inputIds[0]?.length ?? 0) === this.maxLength - 1 ? onlyTokens(scores, this.eosTokenIds) : scores;
  }
}
