import type { WeightSource } from '@tsformer/core-tensor';

/**
 * What loading a model has done so far, for a progress bar: bytes of one file (`hubFiles` downloads,
 * or reads from Cache Storage) and tensors assigned to the model (`fromPretrained`).
 */
export type LoadProgress =
  | {
      readonly kind: 'bytes';
      /** The file's name in the model folder (`model-00001-of-00002.safetensors`). */
      readonly file: string;
      readonly loadedBytes: number;
      /** From Content-Length; undefined when the server does not say. */
      readonly totalBytes: number | undefined;
      /** True when the bytes came from the cache rather than the network. */
      readonly fromCache: boolean;
    }
  | {
      readonly kind: 'tensors';
      readonly loadedTensors: number;
      /** Tensors in the checkpoint (the last event has `loadedTensors === totalTensors`). */
      readonly totalTensors: number;
    };

/** Receives LoadProgress events; it must not throw. */
export type LoadProgressListener = (progress: LoadProgress) => void;

/**
 * `source`, reporting each tensor read as a `tensors` event; the count starts at 0 and ends at the
 * checkpoint's tensor count once the caller reports the end (tensors it skips, such as a tied
 * `lm_head`, are never read).
 */
export function countTensorReads(
  source: WeightSource,
  onProgress: LoadProgressListener,
): { source: WeightSource; finish(): void } {
  const totalTensors = source.names().length;
  let loadedTensors = 0;
  onProgress({ kind: 'tensors', loadedTensors, totalTensors });
  const counted: WeightSource = {
    location: source.location,
    names: () => source.names(),
    shape: (name) => source.shape(name),
    read: async (name) => {
      const tensor = await source.read(name);
      loadedTensors = Math.min(loadedTensors + 1, totalTensors);
      onProgress({ kind: 'tensors', loadedTensors, totalTensors });
      return tensor;
    },
  };
  return {
    source: counted,
    finish: () => onProgress({ kind: 'tensors', loadedTensors: totalTensors, totalTensors }),
  };
}
