import * as tf from '@tensorflow/tfjs-core';
import type { SeededRandom } from '@tsformer/core-tensor';
import type { TokenRows } from '../config/generation-options.js';
import { GenerationConfigError } from '../errors.js';
import { applyLogitsProcessors, type LogitsProcessor } from '../processors/logits-processor.js';
import { gatherPerRow } from '../processors/score-ops.js';
import { anyCriterionDone, type StoppingCriterion } from '../stopping/stopping-criterion.js';
import type { GenerateOutput, GenerationStep } from './generation-step.js';
import type { ModelSession } from './model-session.js';
import { sampleWithoutReplacement } from './sampling.js';

export interface BeamSearchSettings {
  readonly numBeams: number;
  readonly numReturnSequences: number;
  readonly lengthPenalty: number;
  readonly earlyStopping: boolean | 'never';
  readonly maxLength: number;
  readonly eosTokenIds: readonly number[] | undefined;
  /** Fills the ends of finished hypotheses shorter than the longest returned one. */
  readonly fillTokenId: number;
  readonly processors: readonly LogitsProcessor[];
  readonly criteria: readonly StoppingCriterion[];
  /** Set for beam sampling: candidates are drawn without replacement instead of taken best-first. */
  readonly random: SeededRandom | undefined;
  /** Awaited before each step: yields to the event loop, throws when the generation is stopped. */
  readonly betweenSteps: () => Promise<void>;
}

/** Hugging Face's "impossible" score: added to rule a candidate out, yet finite. */
const RULED_OUT = -1e9;
const f32 = Math.fround;

interface Beam {
  readonly tokens: readonly number[];
  readonly score: number;
  /** The beam of the previous step it extends (within its prompt's beams). */
  readonly source: number;
}

interface Hypothesis {
  readonly tokens: readonly number[];
  readonly score: number;
  readonly finished: boolean;
}

/**
 * Beam search and beam sampling, as Hugging Face 5's vectorised `_beam_search`. Each step keeps the
 * `2 × numBeams` best (or sampled) continuations of all beams (more with several EOS ids), moves
 * those that hit a stopping criterion among the top `numBeams` into the finished hypotheses (scored
 * `logprob / newLength^lengthPenalty`), continues with the best `numBeams` unfinished ones, and stops
 * when no prompt can improve (per `earlyStopping`) or no candidate can go on. Scores live on the
 * device until the one download per step of the candidates; the bookkeeping repeats Hugging Face's
 * float32 arithmetic with `Math.fround`.
 */
export async function* beamSearch(
  session: ModelSession,
  prompts: TokenRows,
  settings: BeamSearchSettings,
): AsyncGenerator<GenerationStep, GenerateOutput> {
  const { numBeams, lengthPenalty, earlyStopping, maxLength } = settings;
  const promptLength = prompts[0]!.length;
  const vocabSize = session.vocabSize;
  const candidateCount = Math.max(2, 1 + (settings.eosTokenIds?.length ?? 0)) * numBeams;
  // Flat candidate indices travel as float32, exact below 2^24.
  if (candidateCount > numBeams * vocabSize || numBeams * vocabSize > 2 ** 24) {
    throw new GenerationConfigError(
      'numBeams',
      `\`numBeams\` (num_beams) ${numBeams} does not fit a vocabulary of ${vocabSize} tokens`,
    );
  }
  // The first step would repeat one token across identical beams: only beam 0 starts with score 0.
  let running: Beam[][] = prompts.map((prompt) =>
    Array.from({ length: numBeams }, (_, beam) => ({
      tokens: prompt,
      score: beam === 0 ? 0 : RULED_OUT,
      source: beam,
    })),
  );
  let finished: Hypothesis[][] = prompts.map((prompt) =>
    Array.from({ length: numBeams }, () => ({ tokens: prompt, score: RULED_OUT, finished: false })),
  );
  const improvable = prompts.map(() => true);
  let length = promptLength;
  for (;;) {
    await settings.betweenSteps();
    const sequences = running.flatMap((beams) => beams.map((beam) => beam.tokens));
    const candidates = await topContinuations(session, sequences, running, candidateCount, settings);
    const hits = anyCriterionDone(
      settings.criteria,
      candidates.flatMap((row) => row.map((candidate) => candidate.tokens)),
    );
    const hitAt = (b: number, j: number) => hits[b * candidateCount + j]!;

    // Each prompt continues with its best `numBeams` candidates that did not just finish.
    running = candidates.map((row, b) => {
      const scores = row.map((candidate, j) =>
        hitAt(b, j) ? f32(candidate.logProb + RULED_OUT) : candidate.logProb,
      );
      return bestIndices(scores, numBeams).map((j) => ({
        tokens: row[j]!.tokens,
        score: scores[j]!,
        source: row[j]!.source,
      }));
    });

    // Candidates among the top `numBeams` that hit a criterion may enter the finished hypotheses.
    const lengthDivisor = f32((length + 1 - promptLength) ** lengthPenalty);
    finished = candidates.map((row, b) => {
      const full = earlyStopping === true && finished[b]!.every((hypothesis) => hypothesis.finished);
      const offered = row.map((candidate, j): Hypothesis => {
        const justFinished = hitAt(b, j) && j < numBeams;
        let score = f32(candidate.logProb / lengthDivisor);
        if (full) score = f32(score + RULED_OUT);
        if (!improvable[b]) score = f32(score + RULED_OUT);
        if (!justFinished) score = f32(score + RULED_OUT);
        return { tokens: candidate.tokens, score, finished: justFinished };
      });
      const merged = [...finished[b]!, ...offered];
      return bestIndices(
        merged.map((hypothesis) => hypothesis.score),
        numBeams,
      ).map((i) => merged[i]!);
    });

    session.reorder(running.flatMap((beams, b) => beams.map((beam) => b * numBeams + beam.source)));
    length += 1;

    running.forEach((beams, b) => {
      const hypotheticalLength =
        earlyStopping === 'never' && lengthPenalty > 0 ? maxLength - promptLength : length - promptLength;
      const bestPossible = f32(beams[0]!.score / f32(hypotheticalLength ** lengthPenalty));
      const worstFinished = Math.min(...finished[b]!.map((hypothesis) => hypothesis.score));
      improvable[b] =
        improvable[b]! &&
        finished[b]!.some((hypothesis) => bestPossible > (hypothesis.finished ? worstFinished : RULED_OUT));
    });
    const allFull = finished.every((hypotheses) => hypotheses.every((hypothesis) => hypothesis.finished));
    if (!improvable.some(Boolean) || (allFull && earlyStopping === true) || hits.every(Boolean)) break;
  }

  const returned = finished.flatMap((hypotheses) => hypotheses.slice(0, settings.numReturnSequences));
  yield {
    newTokens: returned.map((hypothesis) => hypothesis.tokens.slice(promptLength)),
    finished: returned.map(() => true),
  };
  const outputLength = Math.max(...returned.map((hypothesis) => hypothesis.tokens.length));
  return {
    sequences: returned.map((hypothesis) => [
      ...hypothesis.tokens,
      ...new Array<number>(outputLength - hypothesis.tokens.length).fill(settings.fillTokenId),
    ]),
    sequencesScores: returned.map((hypothesis) => hypothesis.score),
  };
}

interface Candidate {
  readonly tokens: readonly number[];
  /** Accumulated log-probability (float32). */
  readonly logProb: number;
  readonly source: number;
}

/**
 * One step on the device: log-softmax of the next-token logits, the processors, plus each beam's
 * running score, then the best (or sampled) `count` of the `numBeams × vocab` continuations of each
 * prompt, downloaded together as `[batch, 2 × count]` (scores, then flat indices as floats).
 */
async function topContinuations(
  session: ModelSession,
  sequences: TokenRows,
  running: readonly (readonly Beam[])[],
  count: number,
  settings: BeamSearchSettings,
): Promise<Candidate[][]> {
  const batch = running.length;
  const width = settings.numBeams * session.vocabSize;
  const uniforms = settings.random && Array.from({ length: batch * count }, () => settings.random!.uniform());
  const packed = tf.tidy(() => {
    const logProbs = applyLogitsProcessors(
      settings.processors,
      sequences,
      tf.logSoftmax(session.nextLogits(sequences)),
    );
    const beamScores = tf.tensor2d(
      running.flatMap((beams) => beams.map((beam) => beam.score)),
      [sequences.length, 1],
      'float32',
    );
    const accumulated = tf.reshape<tf.Rank.R2>(tf.add(logProbs, beamScores), [batch, width]); // [batch, beams * vocab]
    if (uniforms === undefined) {
      const { values, indices } = tf.topk(accumulated, count);
      return tf.concat([values, tf.cast(indices, 'float32')], 1);
    }
    const indices = sampleWithoutReplacement(accumulated, tf.tensor2d(uniforms, [batch, count], 'float32'));
    return tf.concat([gatherPerRow(accumulated, indices), tf.cast(indices, 'float32')], 1);
  });
  const data = await packed.data();
  packed.dispose();
  return running.map((beams, b) =>
    Array.from({ length: count }, (_, j) => {
      const flatIndex = data[b * 2 * count + count + j]!;
      const source = Math.floor(flatIndex / session.vocabSize);
      return {
        tokens: [...beams[source]!.tokens, flatIndex % session.vocabSize],
        logProb: data[b * 2 * count + j]!,
        source,
      };
    }),
  );
}

/** Indices of the `count` largest values, largest first; ties keep the lower index first. */
function bestIndices(values: readonly number[], count: number): number[] {
  return [...values.keys()]
    .sort((a, b) => (values[b]! > values[a]! ? 1 : values[b]! < values[a]! ? -1 : a - b))
    .slice(0, count);
}
