import * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter } from '@tsformer/core-tensor';
import { embedding } from '@tsformer/kernels';

/** PyTorch's `nn.Embedding`: a `[numEmbeddings, embeddingDim]` table looked up by int32 ids. */
/**
 * Parameters held by the embedding tables of `module` (token and learned position tables), a table
 * shared by several modules counted once: what Hugging Face's `num_parameters(exclude_embeddings=True)`
 * leaves out.
 */
export function embeddingParameterCount(module: Module): number {
  const tables = new Set<Parameter>();
  for (const descendant of module.modules()) {
    if (descendant instanceof Embedding) tables.add(descendant.weight);
  }
  return [...tables].reduce((total, table) => total + table.size, 0);
}

export interface EmbeddingOptions {
  /**
   * Keep the table transposed in memory (`[embeddingDim, numEmbeddings]`, still named and loaded as
   * `[numEmbeddings, embeddingDim]`). For a table tied to a language-model head: the head's matMul is
   * then a plain one (several times faster on wasm than a transposed one, and the head runs every
   * step), while a lookup gathers columns, a cost proportional to the few new tokens.
   */
  transposed?: boolean;
  /**
   * PyTorch's `padding_idx`: the row that gets no gradient (its lookups still return it). Hugging
   * Face's Llama-style and BART-style models set it to `pad_token_id`; null or absent for none.
   */
  paddingIdx?: number | null;
}

export class Embedding extends Module {
  readonly weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    this.weight = this.parameter('weight', [numEmbeddings, embeddingDim], { transposed: options.transposed });
    this.paddingIdx = options.paddingIdx ?? null;
  }

  /** `[...]` int32 ids -> `[..., embeddingDim]`, through the `embedding` op. */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const looked = embedding(ids, this.weight); // [..., dim]
      if (this.paddingIdx === null || !this.weight.isTrainable) return looked;
      const rows = tf.reshape(looked, [-1, this.embeddingDim]); // [tokens, dim]
      const padding = tf.equal(tf.reshape(ids, [-1]), this.paddingIdx); // [tokens]
      return tf.reshape(blockGradient(rows, padding), looked.shape);
    });
  }
}

/**
 * `rows` `[tokens, dim]` unchanged, but the rows where `blocked` `[tokens]` is true pass no gradient
 * back (PyTorch's `padding_idx`: that table row's gradient stays zero).
 */
function blockGradient(rows: tf.Tensor, blocked: tf.Tensor): tf.Tensor {
  const passed = tf.expandDims(tf.cast(tf.logicalNot(blocked), 'float32'), 1); // [tokens, 1]
  const identity = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, mask, save] = inputs as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([mask]);
    return {
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]!), tf.zerosLike(saved[0]!)],
    };
  });
  return identity(rows, passed);
}
