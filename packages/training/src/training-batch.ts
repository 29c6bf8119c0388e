import * as tf from '@tensorflow/tfjs-core';
import type { PretrainedCausalLM, PretrainedSeq2SeqLM } from '@tsformer/models';
import { MissingLossError } from './errors.js';

/** A model `forward` can compute a loss for: any decoder-only or encoder-decoder family. */
export type TrainableLanguageModel = PretrainedCausalLM | PretrainedSeq2SeqLM;

/** One batch as Hugging Face's `model(**batch)` takes it for a loss. */
export interface TrainingBatch {
  /** `[batch, tokens]` int32: the decoder-only input, or the encoder's source. */
  inputIds: tf.Tensor2D;
  /** `[batch, tokens]`, 1 real, 0 padding. */
  attentionMask?: tf.Tensor2D;
  /**
   * `[batch, tokens]` int32, `-100` where no loss is wanted: the input ids for a decoder-only model
   * (shifted inside), the target for an encoder-decoder one (its decoder input is built from them).
   */
  labels: tf.Tensor2D;
}

/** The model's loss on `batch` (HF's `model(**batch).loss`): a scalar the caller owns, nothing else kept. */
export function languageModelLoss(model: TrainableLanguageModel, batch: TrainingBatch): tf.Scalar {
  const { inputIds, attentionMask, labels } = batch;
  return tf.tidy(() => {
    const loss =
      model.kind === 'causal-lm'
        ? model.forward(inputIds, { attentionMask, labels }).loss
        : model.forward({ inputIds, attentionMask, labels }).loss;
    if (!loss) throw new MissingLossError(`${model.constructor.name} returned no loss`);
    return loss;
  });
}
