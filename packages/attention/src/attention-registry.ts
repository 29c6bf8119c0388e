import type { AttentionImplementation } from './attention-types.js';
import { decodeAttention } from './decode-attention.js';
import { AttentionInputError, UnknownAttentionImplementationError } from './errors.js';

const implementations = new Map<string, AttentionImplementation>([['eager', decodeAttention]]);

/**
 * Makes `fn` available under `name` (HF `AttentionInterface.register`); a model picks it by its
 * `attn_implementation`. Registering an existing name replaces it.
 */
export function registerAttentionImplementation(name: string, fn: AttentionImplementation): void {
  if (typeof name !== 'string' || name === '') {
    throw new AttentionInputError(`an attention implementation needs a non-empty name, got "${name}"`);
  }
  if (typeof fn !== 'function') {
    throw new AttentionInputError(`attention implementation "${name}" must be a function`);
  }
  implementations.set(name, fn);
}

/** The implementation registered under `name`; `UnknownAttentionImplementationError` lists the others. */
export function getAttentionImplementation(name: string): AttentionImplementation {
  const fn = implementations.get(name);
  if (!fn) throw new UnknownAttentionImplementationError(name, listAttentionImplementations());
  return fn;
}

/** Every registered name, `eager` first. */
export function listAttentionImplementations(): string[] {
  return [...implementations.keys()];
}
