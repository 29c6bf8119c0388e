import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { greedyReference, samplingReference } from '../test/reference-search.js';
import { ByteDecoder, referenceLogits, ToyCausalLM, toyTables } from '../test/toy-models.js';
import { GenerationConfigError, GenerationInputError } from './errors.js';
import { generate, generateAll } from './generate.js';

const VOCAB = 12;
const EOS = 11;
const PAD = 10;
const tables = toyTables(VOCAB, 1);
const model = () => new ToyCausalLM(tables, { eosTokenId: EOS, padTokenId: PAD });
const reference = (tokens: readonly number[]) => referenceLogits(tables, tokens);
/** Token i is the letter 'a' + i; EOS is a special token. */
const letters = new ByteDecoder(
  Array.from({ length: VOCAB }, (_, i) => [97 + i]),
  [EOS],
);

describe('generate with a decoder-only model', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('greedy search picks the argmax of the logits at every step', async () => {
    await expectNoLeak(async () => {
      for (const prompt of [[3, 1, 4], [1], [5, 9, 2, 6, 5]]) {
        const { sequences } = await generateAll(model(), { inputIds: [prompt] }, { maxNewTokens: 12 });
        expect(sequences).toEqual([[...prompt, ...greedyReference(reference, prompt, 12, [EOS])]]);
      }
    });
  });

  it('yields one token per row per step, and the prompt plus those tokens is the output', async () => {
    await expectNoLeak(async () => {
      const steps: number[][] = [];
      const iterator = generate(model(), { inputIds: [[3, 1, 4]] }, { maxNewTokens: 6, eosTokenId: null });
      let result = await iterator.next();
      while (!result.done) {
        steps.push(result.value.newTokens.map((tokens) => tokens[0]!));
        result = await iterator.next();
      }
      expect(steps).toHaveLength(6);
      expect(result.value.sequences).toEqual([[3, 1, 4, ...steps.map((step) => step[0]!)]]);
    });
  });

  it('generates a left-padded batch exactly as each prompt alone, padding finished rows', async () => {
    await expectNoLeak(async () => {
      const prompts = [[3, 1, 4], [1, 5, 9, 2, 6], [7]];
      const width = 5;
      const inputIds = prompts.map((p) => [...new Array<number>(width - p.length).fill(PAD), ...p]);
      const attentionMask = prompts.map((p) => [
        ...new Array<number>(width - p.length).fill(0),
        ...p.map(() => 1),
      ]);
      const batch = await generateAll(model(), { inputIds, attentionMask }, { maxNewTokens: 15 });
      const alone = await Promise.all(
        prompts.map((p) => generateAll(model(), { inputIds: [p] }, { maxNewTokens: 15 })),
      );
      const longest = Math.max(...alone.map(({ sequences }) => sequences[0]!.length - 0));
      expect(longest).toBeGreaterThan(0);
      batch.sequences.forEach((row, r) => {
        const continuation = alone[r]!.sequences[0]!.slice(prompts[r]!.length);
        const generated = row.slice(width);
        expect(generated.slice(0, continuation.length)).toEqual(continuation);
        expect(generated.slice(continuation.length).every((token) => token === PAD)).toBe(true);
      });
    });
  });

  it('infers the attention mask from the pad token when none is given', async () => {
    await expectNoLeak(async () => {
      const inputIds = [
        [PAD, PAD, 3, 1],
        [5, 9, 2, 6],
      ];
      const inferred = await generateAll(model(), { inputIds }, { maxNewTokens: 5 });
      const explicit = await generateAll(
        model(),
        {
          inputIds,
          attentionMask: [
            [0, 0, 1, 1],
            [1, 1, 1, 1],
          ],
        },
        { maxNewTokens: 5 },
      );
      expect(inferred).toEqual(explicit);
    });
  });

  it('gives the same output without the cache, re-running the whole sequence', async () => {
    await expectNoLeak(async () => {
      const inputIds = [
        [PAD, 3, 1],
        [2, 7, 1],
      ];
      const attentionMask = [
        [0, 1, 1],
        [1, 1, 1],
      ];
      for (const options of [{}, { doSample: true, seed: 3, numReturnSequences: 2 }]) {
        const cached = model();
        const uncached = model();
        const withCache = await generateAll(
          cached,
          { inputIds, attentionMask },
          { maxNewTokens: 8, ...options },
        );
        const without = await generateAll(
          uncached,
          { inputIds, attentionMask },
          { maxNewTokens: 8, useCache: false, ...options },
        );
        expect(without).toEqual(withCache);
        expect(cached.lastCache).toBeDefined();
        expect(uncached.lastCache).toBeUndefined();
      }
    });
  });

  it('samples reproducibly from a seed, matching inverse-CDF sampling by hand', async () => {
    await expectNoLeak(async () => {
      const prompt = [3, 1, 4];
      const outputs = [];
      for (const seed of [0, 1, 2, 3]) {
        const { sequences } = await generateAll(
          model(),
          { inputIds: [prompt] },
          { doSample: true, seed, maxNewTokens: 10 },
        );
        expect(sequences[0]!.slice(3)).toEqual(samplingReference(reference, prompt, 10, seed, [EOS]));
        const again = await generateAll(
          model(),
          { inputIds: [prompt] },
          { doSample: true, seed, maxNewTokens: 10 },
        );
        expect(again.sequences).toEqual(sequences);
        outputs.push(sequences[0]!.join());
      }
      expect(new Set(outputs).size).toBeGreaterThan(1);
    });
  });

  it('samples the same tokens on the cpu and wasm backends for a seed', async () => {
    const sample = (seed: number) =>
      generateAll(
        model(),
        {
          inputIds: [
            [3, 1, 4],
            [2, 7, 1],
          ],
        },
        { doSample: true, seed, maxNewTokens: 8, numBeams: seed % 2 ? 2 : 1 },
      );
    const onWasm = await Promise.all([1, 2, 3, 4].map(sample));
    await useBackend('cpu');
    try {
      expect(await Promise.all([1, 2, 3, 4].map(sample))).toEqual(onWasm);
    } finally {
      await useBackend('wasm');
    }
  });

  it('returns numReturnSequences sampled rows per prompt', async () => {
    await expectNoLeak(async () => {
      const { sequences } = await generateAll(
        model(),
        {
          inputIds: [
            [3, 1],
            [4, 1],
          ],
        },
        { doSample: true, seed: 9, numReturnSequences: 3, maxNewTokens: 4, eosTokenId: null },
      );
      expect(sequences).toHaveLength(6);
      expect(sequences.map((row) => row.slice(0, 2))).toEqual([
        [3, 1],
        [3, 1],
        [3, 1],
        [4, 1],
        [4, 1],
        [4, 1],
      ]);
    });
  });

  it('stops a row once its generated text ends with a stop string', async () => {
    await expectNoLeak(async () => {
      const prompt = [3, 1, 4];
      const free = greedyReference(reference, prompt, 12, []);
      const text = letters.decode(free);
      const stop = text.slice(3, 5);
      const expectedLength = text.indexOf(stop) + stop.length;
      const { sequences } = await generateAll(
        model(),
        { inputIds: [prompt] },
        { maxNewTokens: 12, eosTokenId: null, stopStrings: [stop], tokenDecoder: letters },
      );
      expect(letters.decode(sequences[0]!.slice(3))).toBe(text.slice(0, expectedLength));
    });
  });

  it('stops after the step that passes maxTime (read from the supplied clock)', async () => {
    await expectNoLeak(async () => {
      let now = 0;
      const clock = () => {
        now += 1000;
        return now;
      };
      const { sequences } = await generateAll(
        model(),
        { inputIds: [[3, 1, 4]] },
        { maxNewTokens: 12, eosTokenId: null, maxTime: 2.5, clock },
      );
      // The criterion reads the clock when made (1 s) and after each step (2 s, 3 s, 4 s): 4 - 1 > 2.5.
      expect(sequences[0]).toHaveLength(3 + 3);
    });
  });

  it('streams text that, joined, is the final text', async () => {
    await expectNoLeak(async () => {
      const chunks = new Map<number, string[]>();
      const { sequences } = await generateAll(
        model(),
        {
          inputIds: [
            [3, 1],
            [4, 4],
          ],
        },
        {
          maxNewTokens: 10,
          tokenDecoder: letters,
          onText: (text, row) => chunks.set(row, [...(chunks.get(row) ?? []), text]),
        },
      );
      sequences.forEach((row, r) => {
        const generated = row.slice(2);
        const finished = generated.indexOf(EOS);
        const own = finished < 0 ? generated : generated.slice(0, finished + 1);
        expect((chunks.get(r) ?? []).join('')).toBe(letters.decode(own, { skipSpecialTokens: true }));
      });
    });
  });

  it('layers the model defaults, generationConfig and the call options, later winning', async () => {
    await expectNoLeak(async () => {
      const layered = new ToyCausalLM(tables, { maxNewTokens: 9, eosTokenId: null });
      const inputs = { inputIds: [[3, 1, 4]] };
      expect((await generateAll(layered, inputs)).sequences[0]).toHaveLength(3 + 9);
      expect(
        (await generateAll(layered, inputs, { generationConfig: { maxNewTokens: 4 } })).sequences[0],
      ).toHaveLength(7);
      const call = await generateAll(layered, inputs, {
        generationConfig: { maxNewTokens: 4 },
        maxNewTokens: 2,
      });
      expect(call.sequences[0]).toHaveLength(5);
      // Without maxNewTokens or maxLength, Hugging Face generates 20 tokens.
      expect((await generateAll(new ToyCausalLM(tables), inputs)).sequences[0]).toHaveLength(23);
      expect(
        (await generateAll(new ToyCausalLM(tables), inputs, { maxLength: 6 })).sequences[0],
      ).toHaveLength(6);
    });
  });

  it('accepts tensors and never modifies its inputs', async () => {
    await expectNoLeak(async () => {
      const rows = Object.freeze([Object.freeze([3, 1, 4])]);
      const options = Object.freeze({ maxNewTokens: 3, suppressTokens: Object.freeze([2]) });
      const fromArrays = await generateAll(model(), { inputIds: rows }, options);
      const ids = tf.tensor2d([[3, 1, 4]], [1, 3], 'int32');
      const fromTensor = await generateAll(model(), { inputIds: ids }, options);
      ids.dispose();
      expect(fromTensor).toEqual(fromArrays);
      expect(rows).toEqual([[3, 1, 4]]);
    });
  });

  it('frees the cache when a consumer stops early', async () => {
    await expectNoLeak(async () => {
      const toy = model();
      for await (const step of generate(
        toy,
        { inputIds: [[3, 1, 4]] },
        { maxNewTokens: 10, eosTokenId: null },
      )) {
        expect(step.newTokens).toHaveLength(1);
        break;
      }
      expect(toy.lastCache?.tokens).toBeUndefined();
    });
  });

  it('leaks no tensors over 100 generate calls', async () => {
    await expectNoLeak(async () => {
      for (let call = 0; call < 100; call++) {
        const strategy = [{}, { doSample: true, seed: call }, { numBeams: 2 }, { useCache: false }][
          call % 4
        ]!;
        await generateAll(
          model(),
          {
            inputIds: [
              [call % 10, 1],
              [2, call % 7],
            ],
          },
          { maxNewTokens: 4, ...strategy },
        );
      }
    });
  });

  it('refuses bad inputs with typed errors', async () => {
    const bad = async (inputs: Parameters<typeof generateAll>[1], options = {}) =>
      generateAll(model(), inputs, options).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(await bad({ inputIds: [[1, 2], [3]] })).toBeInstanceOf(GenerationInputError);
    expect(await bad({ inputIds: [[1, VOCAB]] })).toBeInstanceOf(GenerationInputError);
    expect(await bad({ inputIds: [] })).toBeInstanceOf(GenerationInputError);
    expect(await bad({ inputIds: [[1, 2]], attentionMask: [[1]] })).toBeInstanceOf(GenerationInputError);
    expect(await bad({ inputIds: [[1, 2]], attentionMask: [[1, 2]] })).toBeInstanceOf(GenerationInputError);
    expect(await bad({ inputIds: [[1, 2, 3]] }, { maxLength: 3 })).toBeInstanceOf(GenerationInputError);
    const noDecoder = await bad({ inputIds: [[1]] }, { stopStrings: 'x' });
    expect(noDecoder).toBeInstanceOf(GenerationConfigError);
    expect((noDecoder as GenerationConfigError).field).toBe('stopStrings');
    expect(await bad({ inputIds: [[1]] }, { onText: () => undefined })).toBeInstanceOf(GenerationConfigError);
    expect(await bad({ inputIds: [[1]] }, { maxNewTokenz: 3 })).toBeInstanceOf(GenerationConfigError);
    expect(await bad({ inputIds: [[1]] }, { forcedBosTokenId: VOCAB })).toBeInstanceOf(GenerationConfigError);
    const eos = await bad({ inputIds: [[1]] }, { eosTokenId: [EOS, VOCAB + 3] });
    expect(eos).toBeInstanceOf(GenerationConfigError);
    expect((eos as GenerationConfigError).message).toBe(
      '`eosTokenId` (eos_token_id) 15 is outside the 12-token vocabulary',
    );
    expect(await bad({ inputIds: [[1]] }, { padTokenId: VOCAB })).toBeInstanceOf(GenerationConfigError);
    expect(await bad({ inputIds: [[1]] }, { suppressTokens: [VOCAB] })).toBeInstanceOf(GenerationConfigError);
  });
});
