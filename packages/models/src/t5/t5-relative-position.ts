import * as tf from '@tensorflow/tfjs-core';
import { Embedding } from '@tsformer/layers';

/** How relative positions fall into buckets (`relative_attention_num_buckets`, `..._max_distance`). */
export interface RelativeBucketing {
  /** Keys on both sides of the query (the encoder), each side with half the buckets; else only keys before it. */
  bidirectional: boolean;
  numBuckets: number;
  maxDistance: number;
}

/**
 * HF's `T5Attention._relative_position_bucket` for one relative position `key − query`: in the encoder,
 * half the buckets are for keys after the query; in the decoder, keys after the query (which the causal
 * mask hides) share bucket 0. Within a side, distances below half its buckets get one bucket each, the
 * rest share logarithmically wider buckets up to `maxDistance`, beyond which all share the last one.
 *
 * The logarithmic bucket is computed as PyTorch computes it, in float32 step by step
 * (`log(float(d) / maxExact) / log(maxDistance / maxExact) · (buckets − maxExact)`, then truncated):
 * at distances where the exact value is a whole number (16, 32 and 64 in t5-small's encoder) the
 * rounding of each step decides the bucket.
 */
export function relativePositionBucket(relativePosition: number, bucketing: RelativeBucketing): number {
  let buckets = bucketing.numBuckets;
  let bucket = 0;
  let distance: number;
  if (bucketing.bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (relativePosition > 0) bucket += buckets;
    distance = Math.abs(relativePosition);
  } else {
    distance = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (distance < maxExact) return bucket + distance;
  const f32 = Math.fround;
  const logRatio = f32(Math.log(f32(distance / maxExact)));
  const logRange = f32(Math.log(bucketing.maxDistance / maxExact)); // a Python float, cast to the tensor's float32
  const scaled = f32(f32(logRatio / logRange) * (buckets - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), buckets - 1);
}

/**
 * T5's relative attention bias (`relative_attention_bias`, an `nn.Embedding(num_buckets, num_heads)`
 * in the first layer's self-attention, shared by every layer of its stack): one learned bias per head
 * and bucket of `key − query`, added to the unscaled attention scores.
 */
export class RelativeAttentionBias extends Embedding {
  constructor(
    numHeads: number,
    readonly bucketing: RelativeBucketing,
  ) {
    super(bucketing.numBuckets, numHeads);
  }

  /**
   * The bias `[1, heads, queryLength, keyLength]` of queries at positions `queryStart…` over keys at
   * `keyStart…` (HF's `compute_bias` with `cache_position`: with a cache, only the new queries' rows;
   * with a static cache, every slot's column). Buckets are worked out here, per distinct distance.
   */
  bias(queryStart: number, queryLength: number, keyStart: number, keyLength: number): tf.Tensor4D {
    const nearest = keyStart - (queryStart + queryLength - 1); // the smallest key − query
    const bucketByDistance = Array.from({ length: queryLength + keyLength - 1 }, (_, offset) =>
      relativePositionBucket(nearest + offset, this.bucketing),
    );
    const buckets = new Int32Array(queryLength * keyLength);
    for (let query = 0; query < queryLength; query++) {
      for (let key = 0; key < keyLength; key++) {
        buckets[query * keyLength + key] = bucketByDistance[key - query + queryLength - 1]!;
      }
    }
    return tf.tidy(() => {
      const bucketIds = tf.tensor2d(buckets, [queryLength, keyLength], 'int32');
      const values = this.forward(bucketIds); // [queries, keys, heads]
      return tf.expandDims(tf.transpose(values, [2, 0, 1]), 0) as tf.Tensor4D; // [1, heads, queries, keys]
    });
  }
}
