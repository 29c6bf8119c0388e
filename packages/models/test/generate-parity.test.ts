// Every generate case of the decoder-only reference folders (gpt2, llama, qwen3, gpt_neox, phi3, tiny-llama-docs) through
// fromPretrained and decoding's generate: greedy with and without cache, beam search (num_return_sequences,
// early stopping, no_repeat_ngram, length penalty), repetition penalty, custom EOS, min_new_tokens,
// suppress_tokens, bad_words_ids, left-padded batches. Sequences identical; beam sequences_scores
// within 1e-4. A sequence difference in a case whose min_top2_margin is below 1e-4 is a tie: reported,
// not failed (float rounding may legitimately flip such a choice).
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { type GenerateOutput, generateAll, parseGenerationConfig } from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPretrained, type Pretrained } from '../src/from-pretrained.js';
import { DECODER_FIXTURES, type DecoderFixtureName, readJson } from './decoder-fixtures.js';

interface GenerateCase {
  name: string;
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  attention_mask?: number[][] | null;
  sequences: number[][];
  sequences_scores?: number[] | null;
  min_top2_margin: number;
}

const TIE_MARGIN = 1e-4;
const SCORE_TOLERANCE = 1e-4;

beforeAll(async () => {
  await useBackend('wasm');
});

describe.each(Object.keys(DECODER_FIXTURES) as DecoderFixtureName[])(
  '%s generate against Hugging Face',
  (name) => {
    const cases = readJson<{ generate: GenerateCase[] }>(`${DECODER_FIXTURES[name]}/reference.json`).generate;
    let pretrained: Pretrained;

    beforeAll(async () => {
      pretrained = await fromPretrained(DECODER_FIXTURES[name]);
      // Rotary models keep a cos/sin table grown on demand: grow it once to the longest case, so the
      // leak checks below see only what generate allocates.
      const longest = Math.max(...cases.map((c) => c.input_ids[0]!.length + Number(c.kwargs.max_new_tokens)));
      await generateAll(
        pretrained.model,
        { inputIds: [new Array<number>(longest - 1).fill(0)] },
        { maxNewTokens: 1 },
      );
    });
    afterAll(() => pretrained.model.dispose());

    // Every case with the default (dynamic) cache, then with a static cache (HF cache_implementation
    // "static": allocated for the whole length, the unwritten slots hidden by the causal mask).
    it.each(
      (['dynamic', 'static'] as const).flatMap((cacheImplementation) =>
        cases.map(
          (generateCase) =>
            [
              `${generateCase.name} (${cacheImplementation} cache)`,
              generateCase,
              cacheImplementation,
            ] as const,
        ),
      ),
    )('%s', async (_, generateCase, cacheImplementation) => {
      const output: GenerateOutput = await expectNoLeak(() =>
        generateAll(
          pretrained.model,
          {
            inputIds: generateCase.input_ids,
            ...(generateCase.attention_mask && { attentionMask: generateCase.attention_mask }),
          },
          {
            ...parseGenerationConfig(generateCase.kwargs, `${name} ${generateCase.name} kwargs`),
            cacheImplementation,
          },
        ),
      );
      if (
        JSON.stringify(output.sequences) !== JSON.stringify(generateCase.sequences) &&
        generateCase.min_top2_margin < TIE_MARGIN
      ) {
        console.warn(
          `${name} ${generateCase.name}: sequences differ at a tie (min_top2_margin ${generateCase.min_top2_margin})`,
        );
        return;
      }
      expect(output.sequences).toEqual(generateCase.sequences);
      if (generateCase.sequences_scores) {
        expect(output.sequencesScores).toHaveLength(generateCase.sequences_scores.length);
        output.sequencesScores!.forEach((score, i) => {
          expect(Math.abs(score - generateCase.sequences_scores![i]!)).toBeLessThanOrEqual(SCORE_TOLERANCE);
        });
      }
    });
  },
);
