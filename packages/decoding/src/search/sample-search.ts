import * as tf from '@tensorflow/tfjs-core';
import type { SeededRandom } from '@tsformer/core-tensor';
import { applyLogitsProcessors, type LogitsProcessor } from '../processors/logits-processor.js';
import { anyCriterionDone, type StoppingCriterion } from '../stopping/stopping-criterion.js';
import type { GenerateOutput, GenerationStep } from './generation-step.js';
import type { ModelSession } from './model-session.js';
import { sampleTokens } from './sampling.js';

export interface SampleSearchSettings {
  readonly processors: readonly LogitsProcessor[];
  readonly criteria: readonly StoppingCriterion[];
  /** Set for multinomial sampling; greedy search takes the argmax. */
  readonly random: SeededRandom | undefined;
  /** With EOS ids set, finished rows get this token from then on (Hugging Face's `has_eos_stopping_criteria`). */
  readonly padAfterFinish: number | undefined;
  /** Awaited before each step: yields to the event loop, throws when the generation is stopped. */
  readonly betweenSteps: () => Promise<void>;
}

/**
 * Greedy search and multinomial sampling, as Hugging Face's `_sample`: `sequences` (one row per
 * output, extended in place) grow by one token per step until every row is finished. Each step is one
 * `tf.tidy` and one download of the chosen tokens, after a turn of the event loop.
 */
export async function* sampleSearch(
  session: ModelSession,
  sequences: number[][],
  settings: SampleSearchSettings,
): AsyncGenerator<GenerationStep, GenerateOutput> {
  const unfinished = sequences.map(() => true);
  while (unfinished.some(Boolean)) {
    await settings.betweenSteps();
    const uniforms = settings.random && sequences.map(() => settings.random!.uniform());
    const chosen = tf.tidy(() => {
      const scores = applyLogitsProcessors(settings.processors, sequences, session.nextLogits(sequences));
      return uniforms === undefined
        ? tf.argMax(scores, 1)
        : sampleTokens(scores, tf.tensor2d(uniforms, [uniforms.length, 1], 'float32'));
    });
    const tokens = Array.from(await chosen.data());
    chosen.dispose();
    tokens.forEach((token, row) => {
      const next =
        settings.padAfterFinish !== undefined && !unfinished[row] ? settings.padAfterFinish : token;
      sequences[row]!.push(next);
      tokens[row] = next;
    });
    anyCriterionDone(settings.criteria, sequences).forEach((done, row) => {
      if (done) unfinished[row] = false;
    });
    yield { newTokens: tokens.map((token) => [token]), finished: unfinished.map((open) => !open) };
  }
  return { sequences };
}
