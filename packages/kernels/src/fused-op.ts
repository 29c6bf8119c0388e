import * as tf from '@tensorflow/tfjs-core';

/**
 * One backend's implementation of a fused op: its result, or `undefined` to leave this call to the
 * portable implementation (a shape it does not serve, a weight it has not packed or that training
 * changes). It is never called while a gradient is being recorded.
 */
export type BackendImplementation<Args extends unknown[], Result> = (...args: Args) => Result | undefined;

/**
 * A fused op (`linear`, `rmsNormLinear`, `decodeAttention`, …): called like a function by model code,
 * which never asks which backend runs it. The portable implementation is written in tfjs-core ops
 * (the reference, correct on every backend, and the only one that records gradients); a backend may
 * register a faster one (a WebAssembly kernel on wasm/cpu, a WGSL program on webgpu), tested against
 * the portable one. While a gradient is being recorded (`tf.grad`, `tf.variableGrads`: training) the
 * portable implementation always runs, since a kernel records no gradient: an op over a frozen weight or
 * a norm without parameters must still pass the gradient on to what comes before it.
 */
export interface FusedOp<Args extends unknown[], Result> {
  (...args: Args): Result;
  readonly opName: string;
  /** The reference implementation, whatever backend is active (for tests and for training). */
  readonly portable: (...args: Args) => Result;
  /** Installs `implementation` for the tfjs backend `backendName`, replacing an earlier one; returns its remover. */
  register(backendName: string, implementation: BackendImplementation<Args, Result>): () => void;
  /** The backends that have an implementation now. */
  backends(): string[];
}

/** Defines a fused op from its portable implementation; backends register theirs later. */
export function defineFusedOp<Args extends unknown[], Result>(
  opName: string,
  portable: (...args: Args) => Result,
): FusedOp<Args, Result> {
  const implementations = new Map<string, BackendImplementation<Args, Result>>();
  const op = (...args: Args): Result => {
    if (tf.engine().isTapeOn()) return portable(...args);
    const fast = implementations.get(tf.getBackend())?.(...args);
    return fast === undefined ? portable(...args) : fast;
  };
  return Object.assign(op, {
    opName,
    portable,
    register(backendName: string, implementation: BackendImplementation<Args, Result>) {
      implementations.set(backendName, implementation);
      return () => {
        if (implementations.get(backendName) === implementation) implementations.delete(backendName);
      };
    },
    backends: () => [...implementations.keys()],
  });
}
