import type * as tf from '@tensorflow/tfjs-core';

/**
 * Named tensors that can be read one at a time (a safetensors file or folder, an in-memory map):
 * shapes are known up front, bytes are read on demand, so loading never holds a checkpoint twice.
 */
export interface WeightSource {
  /** Where the weights come from, for error messages (a file or folder path). */
  readonly location: string;
  names(): string[];
  shape(name: string): readonly number[];
  /** One tensor: float32 for floating-point dtypes, int32 for integer and bool dtypes. */
  read(name: string): Promise<tf.Tensor>;
}

/** A WeightSource over tensors already in memory (tests, conversions). It does not own them. */
export function weightsFromTensors(
  tensors: Record<string, tf.Tensor>,
  location = 'tensors in memory',
): WeightSource {
  return {
    location,
    names: () => Object.keys(tensors),
    shape: (name) => tensors[name]!.shape,
    read: async (name) => tensors[name]!.clone(),
  };
}
