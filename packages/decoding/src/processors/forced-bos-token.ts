import type * as tf from '@tensorflow/tfjs-core';
import { tokenId } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { onlyTokens } from './score-ops.js';

/** Forces `bosTokenId` as the first generated token (rows one token long: the decoder start). */
export class ForcedBOSTokenLogitsProcessor implements LogitsProcessor {
  constructor(readonly bosTokenId: number) {
    tokenId(bosTokenId, { option: 'forcedBosTokenId', hf: 'forced_bos_token_id' });
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    return (inputIds[0]?.length ?? 0) === 1 ? onlyTokens(scores, [this.bosTokenId]) : scores;
  }
}
