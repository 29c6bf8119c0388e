import type { CausalLM, Seq2SeqLM } from './language-model.js';

/**
 * The generations under way on each model, as functions that free their tensors. A generation
 * registers itself when it creates its cache and leaves when it ends; an iterator dropped without
 * `return()` stays here until `releaseGenerations` frees it (its model's `dispose()` calls that).
 */
const liveGenerations = new WeakMap<object, Set<() => void>>();

/** Registers a generation on `model`; returns the function that unregisters it. */
export function trackGeneration(model: CausalLM | Seq2SeqLM, release: () => void): () => void {
  let releases = liveGenerations.get(model);
  if (releases === undefined) {
    releases = new Set();
    liveGenerations.set(model, releases);
  }
  releases.add(release);
  return () => {
    releases.delete(release);
  };
}

/**
 * Frees the tensors (cache, encoder states) of every generation still alive on `model`: those
 * running and those whose iterator was dropped without `return()`. A released generation that is
 * resumed rejects with GenerationAbortedError. Caches the caller owns (`GenerateOptions.cache`) are
 * left alone. The model classes' `dispose()` calls this; returns how many generations were freed.
 */
export function releaseGenerations(model: CausalLM | Seq2SeqLM): number {
  const releases = liveGenerations.get(model);
  if (releases === undefined) return 0;
  liveGenerations.delete(model);
  for (const release of releases) release();
  return releases.size;
}
