import * as tf from '@tensorflow/tfjs-core';
import { TsformerError } from './errors.js';

export interface ParameterOptions {
  /**
   * Keep a 2-D weight transposed in memory (`[in, out]` for HF's `[out, in]` Linear layout). On the wasm
   * backend `matMul(x, w)` is several times faster than `matMul(x, w, false, true)`, so linear layers
   * transpose once at load instead of every step. `shape` stays the checkpoint's shape.
   */
  transposed?: boolean;
}

/** A layout derived from a parameter's value for a fast kernel, freed when the value changes. */
export interface DerivedLayout {
  dispose(): void;
}

/**
 * A derived layout that holds the whole value (a packed fp32 or 16-bit copy, not a lossy one made from
 * a tensor), so the parameter can keep it alone and rebuild a tensor from it when one is needed.
 */
export interface RestorableLayout extends DerivedLayout {
  /** A new tensor of the value, in the parameter's `storedShape`. */
  restore(): tf.Tensor;
}

/**
 * A named weight slot of a module: its shape is known when the module is built, its value arrives
 * later (loaded from a checkpoint or initialised). A model can therefore be built, named and
 * counted without a single byte of weights (`tsformer inspect --config`).
 *
 * One tensor, in `storedShape`, is the source of truth. `makeTrainable()` turns it into a
 * `tf.Variable` of the same layout (forward code keeps reading `tensor`); an optimizer writes it with
 * `update`, and every write bumps `version`, so a layout derived from it (a packed or 16-bit copy) can
 * be cached under the version it was made from. A tied weight is one `Parameter`, hence one variable.
 */
export class Parameter {
  private value: tf.Tensor | undefined;
  /** The derived layout that holds the value while there is no tensor (`assignLayout`). */
  private valueLayout: RestorableLayout | undefined;
  private writes = 0;
  private readonly derivedLayouts = new Map<string, DerivedLayout>();
  readonly transposed: boolean;
  /**
   * Whether training computes a gradient for this parameter (PyTorch's `requires_grad`, default
   * true). `Module.freeze` / `unfreeze` set it by name pattern.
   */
  requiresGrad = true;

  /** `shape` is the checkpoint's (Hugging Face) shape. */
  constructor(
    readonly shape: readonly number[],
    options: ParameterOptions = {},
  ) {
    for (const dim of shape) {
      if (!Number.isInteger(dim) || dim < 0) throw new TsformerError(`invalid parameter shape [${shape}]`);
    }
    this.transposed = options.transposed ?? false;
    if (this.transposed && shape.length !== 2) {
      throw new TsformerError(`only a 2-D parameter can be stored transposed, not [${shape}]`);
    }
  }

  /** The shape of `tensor`: `shape`, reversed when stored transposed. */
  get storedShape(): readonly number[] {
    return this.transposed ? [...this.shape].reverse() : this.shape;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isSet(): boolean {
    return this.value !== undefined || this.valueLayout !== undefined;
  }

  /** Whether a tensor of the value exists now (false while only a layout from `assignLayout` holds it). */
  get hasTensor(): boolean {
    return this.value !== undefined;
  }

  /** How many times the value was written (loaded, assigned or updated by an optimizer). */
  get version(): number {
    return this.writes;
  }

  /**
   * The weight tensor, in `storedShape`; throws when nothing was loaded into this parameter. A value
   * held only as a layout (`assignLayout`) is restored to a tensor here, once, and kept.
   */
  get tensor(): tf.Tensor {
    if (!this.value && this.valueLayout) this.value = tf.keep(this.valueLayout.restore());
    if (!this.value) throw new TsformerError(`parameter of shape [${this.shape}] was never loaded`);
    return this.value;
  }

  /** Whether the value is a `tf.Variable` (after `makeTrainable()`). */
  get isTrainable(): boolean {
    return this.value instanceof tf.Variable;
  }

  /** The value as a `tf.Variable`; throws unless `makeTrainable()` made it one. */
  get variable(): tf.Variable {
    const value = this.tensor;
    if (!(value instanceof tf.Variable)) {
      throw new TsformerError(
        `parameter of shape [${this.shape}] is not trainable: call makeTrainable() first`,
      );
    }
    return value;
  }

  /**
   * Makes the value a `tf.Variable` of the same stored layout (sharing its data, no copy) and returns
   * it; a parameter that already is one returns it unchanged.
   */
  makeTrainable(): tf.Variable {
    const value = this.tensor;
    if (value instanceof tf.Variable) return value;
    const variable = tf.variable(value, true);
    value.dispose();
    this.value = variable;
    return variable;
  }

  /**
   * Takes ownership of `tensor`, given in the checkpoint's `shape` (kept across tidy scopes; a
   * transposed parameter keeps its transpose and frees the input), and frees the previous value. A
   * trainable parameter stays the same variable, its value replaced.
   */
  assign(tensor: tf.Tensor): void {
    if (!sameShape(tensor.shape, this.shape)) {
      throw new TsformerError(`cannot assign a [${tensor.shape}] tensor to a [${this.shape}] parameter`);
    }
    if (tensor === this.value) return;
    const stored = this.transposed ? tf.transpose(tensor) : tensor;
    if (stored !== tensor) tensor.dispose();
    this.replaceStored(stored);
  }

  /**
   * Takes a new value held only as `layout`, the derived layout under `key` (a kernel's packed copy
   * made straight from checkpoint bytes): no tensor exists until something reads `tensor` (a tied
   * embedding's gather on a backend without the kernel, `makeTrainable`), which restores one from it.
   * Inference on the kernel's backend then keeps one copy of the weight, in the kernel's layout.
   */
  assignLayout(key: string, layout: RestorableLayout): void {
    this.writes += 1;
    this.disposeDerived();
    this.value?.dispose();
    this.value = undefined;
    this.valueLayout = layout;
    this.derivedLayouts.set(key, layout);
  }

  /**
   * Writes a new value given in `storedShape` (what an optimizer computes from a stored-layout
   * gradient) and bumps `version`. The caller keeps `stored` (and may dispose it): a trainable
   * parameter's variable takes its value, a plain one keeps a reference-counted clone.
   */
  update(stored: tf.Tensor): void {
    if (!sameShape(stored.shape, this.storedShape)) {
      throw new TsformerError(
        `cannot update a parameter stored as [${this.storedShape}] with a [${stored.shape}] tensor`,
      );
    }
    this.replaceStored(tf.clone(stored));
  }

  /** A new tensor holding the value in the checkpoint's `shape` (a transposed parameter transposed back). */
  checkpointValue(): tf.Tensor {
    return this.toCheckpointLayout(this.tensor);
  }

  /**
   * A new tensor: `stored` (this parameter's value or its gradient, in `storedShape`) in the
   * checkpoint's `shape`, for saving or comparing with PyTorch.
   */
  toCheckpointLayout(stored: tf.Tensor): tf.Tensor {
    if (!sameShape(stored.shape, this.storedShape)) {
      throw new TsformerError(
        `expected a [${this.storedShape}] tensor in stored layout, got [${stored.shape}]`,
      );
    }
    return this.transposed ? tf.transpose(stored) : tf.clone(stored);
  }

  /**
   * A layout derived from the value for a fast kernel (a packed, 16-bit or GPU copy), made by `make` once
   * and kept under `key` (name the backend and layout in it) until the value is written again: every
   * write (`assign`, `update`, an optimizer step) frees the derived layouts, so a kernel never reads a
   * stale copy. `dispose()` frees them too.
   */
  derived<T extends DerivedLayout>(key: string, make: (parameter: Parameter) => T): T {
    const cached = this.derivedLayouts.get(key);
    if (cached) return cached as T;
    const layout = make(this);
    this.derivedLayouts.set(key, layout);
    return layout;
  }

  dispose(): void {
    this.disposeDerived();
    this.value?.dispose();
    this.value = undefined;
  }

  private disposeDerived(): void {
    for (const layout of this.derivedLayouts.values()) layout.dispose();
    this.derivedLayouts.clear();
    this.valueLayout = undefined;
  }

  /** Takes ownership of `stored` (in `storedShape`) as the new value. */
  private replaceStored(stored: tf.Tensor): void {
    this.writes += 1;
    this.disposeDerived();
    if (this.value instanceof tf.Variable) {
      this.value.assign(stored);
      stored.dispose();
      return;
    }
    this.value?.dispose();
    this.value = tf.keep(stored);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
