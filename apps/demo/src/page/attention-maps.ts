import * as tf from '@tensorflow/tfjs-core';
import type { Pretrained, PretrainedCausalLM, PretrainedSeq2SeqLM } from '@tsformer/models';

/** One kind of attention (a decoder's self-attention, an encoder's, or cross-attention) over all layers. */
export interface AttentionKind {
  name: 'self-attention' | 'encoder self-attention' | 'cross-attention';
  /** Token ids along the query axis and the key axis. */
  queryIds: number[];
  keyIds: number[];
  /** `[layer][head]` → `[queries × keys]` probabilities, row-major. */
  maps: Float32Array[][];
}

/**
 * Every layer's attention probabilities for one sequence, from one forward pass with
 * `outputAttentions` (HF's `output_attentions=True`): a decoder-only model's self-attention over
 * `ids`; for an encoder-decoder, `ids` is the source and `targetIds` the decoder's input, giving its
 * self-attention, the encoder's and the cross-attention (target queries over source keys).
 */
export async function attentionMaps(
  { model, family }: Pretrained,
  ids: number[],
  targetIds?: number[],
): Promise<AttentionKind[]> {
  const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
  try {
    if (family.task === 'causal-lm') {
      const output = (model as PretrainedCausalLM).forward(inputIds, { outputAttentions: true });
      return [
        {
          name: 'self-attention',
          queryIds: ids,
          keyIds: ids,
          maps: await readAll(output.attentions ?? [], output.logits),
        },
      ];
    }
    const target = targetIds ?? [];
    const decoderInputIds = tf.tensor2d([target], [1, target.length], 'int32');
    try {
      const output = (model as PretrainedSeq2SeqLM).forward({
        inputIds,
        decoderInputIds,
        outputAttentions: true,
      });
      const rest = [output.logits, output.encoderLastHiddenState];
      const cross = await readAll(output.crossAttentions, ...rest);
      const decoder = await readAll(output.decoderAttentions);
      const encoder = await readAll(output.encoderAttentions);
      return [
        { name: 'cross-attention', queryIds: target, keyIds: ids, maps: cross },
        { name: 'self-attention', queryIds: target, keyIds: target, maps: decoder },
        { name: 'encoder self-attention', queryIds: ids, keyIds: ids, maps: encoder },
      ];
    } finally {
      decoderInputIds.dispose();
    }
  } finally {
    inputIds.dispose();
  }
}

/** Each `[1, heads, queries, keys]` read back per head, then freed with `alsoFree`. */
async function readAll(layers: tf.Tensor4D[], ...alsoFree: tf.Tensor[]): Promise<Float32Array[][]> {
  try {
    const maps: Float32Array[][] = [];
    for (const layer of layers) {
      const [, heads, queries, keys] = layer.shape;
      const values = (await layer.data()) as Float32Array;
      const size = queries * keys;
      maps.push(Array.from({ length: heads }, (_, head) => values.slice(head * size, (head + 1) * size)));
    }
    return maps;
  } finally {
    tf.dispose([...layers, ...alsoFree]);
  }
}
