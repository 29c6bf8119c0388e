// Every generate case of the bart, marian and t5 fixtures through decoding's seq2seq generate: greedy with
// and without cache, beam search (CNN-style: no_repeat_ngram, length penalty, min length), repetition
// penalty, right-padded batches. Sequences identical; beam sequences_scores within 1e-4.
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { generateAll, parseGenerationConfig } from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bart } from '../src/bart/index.js';
import { marian } from '../src/marian/index.js';
import type { PretrainedSeq2SeqLM, Seq2SeqConfig } from '../src/seq2seq-lm.js';
import { t5 } from '../src/t5/index.js';
import { FIXTURES, loadFixtureModel, readJson, readReference } from './encoder-decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const FAMILIES = [
  { family: 'bart', entry: bart },
  { family: 'marian', entry: marian },
  { family: 't5', entry: t5 },
] as const;

describe.each(FAMILIES)('$family generate against Hugging Face', ({ family, entry }) => {
  const reference = readReference(family);
  const generationConfig = parseGenerationConfig(readJson(`${FIXTURES}${family}/generation_config.json`));
  let model: PretrainedSeq2SeqLM<Seq2SeqConfig>;

  beforeAll(async () => {
    model = await loadFixtureModel(entry);
  });
  afterAll(() => model.dispose());

  // With the default (dynamic) self-attention cache, then a static one (HF cache_implementation "static").
  it.each(
    (['dynamic', 'static'] as const).flatMap((cacheImplementation) =>
      reference.generate.map(
        (generateCase) =>
          [`${generateCase.name} (${cacheImplementation} cache)`, generateCase, cacheImplementation] as const,
      ),
    ),
  )('%s', async (_, generateCase, cacheImplementation) => {
    const output = await expectNoLeak(() =>
      generateAll(
        model,
        {
          inputIds: generateCase.input_ids,
          ...(generateCase.attention_mask && { attentionMask: generateCase.attention_mask }),
        },
        {
          generationConfig,
          ...parseGenerationConfig(generateCase.kwargs, `${generateCase.name} kwargs`),
          cacheImplementation,
        },
      ),
    );
    expect(output.sequences).toEqual(generateCase.sequences);
    if (generateCase.sequences_scores) {
      expect(output.sequencesScores).toHaveLength(generateCase.sequences_scores.length);
      output.sequencesScores!.forEach((score, i) => {
        expect(Math.abs(score - generateCase.sequences_scores![i]!)).toBeLessThanOrEqual(1e-4);
      });
    }
  });
});
