// The context-limit policy: prompt + new tokens checked against the model's positionLimit up front.
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ToyCausalLM, ToySeq2SeqLM, toyTables } from '../test/toy-models.js';
import { GenerationInputError } from './errors.js';
import { generateAll } from './generate.js';
import type { PositionLimit } from './language-model.js';

const tables = toyTables(12, 9);
const learned: PositionLimit = { maxPositions: 16, kind: 'learned' };
const rotary: PositionLimit = { maxPositions: 16, kind: 'extrapolating' };
const causal = (positionLimit?: PositionLimit) =>
  new ToyCausalLM(tables, { eosTokenId: null }, positionLimit && { positionLimit });
const prompt = [3, 1, 4, 1, 5, 9];

beforeAll(async () => {
  await useBackend('wasm');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('generate against the position limit', () => {
  it('refuses, before any forward, what would run past a learned table, naming both numbers', async () => {
    await expectNoLeak(async () => {
      const toy = causal(learned);
      const error = await generateAll(toy, { inputIds: [prompt] }, { maxNewTokens: 11 }).catch((e) => e);
      expect(error).toBeInstanceOf(GenerationInputError);
      expect(error.message).toBe(
        'the prompt (6 tokens) plus up to 11 new tokens needs 17 positions, but the model has 16 ' +
          '(a learned position table): shorten the prompt or lower maxNewTokens / maxLength',
      );
      expect(toy.forwardCalls).toBe(0);
      // maxLength counts the same way; exactly 16 positions fit.
      const byLength = await generateAll(toy, { inputIds: [prompt] }, { maxLength: 17 }).catch((e) => e);
      expect(byLength).toBeInstanceOf(GenerationInputError);
      const fits = await generateAll(toy, { inputIds: [prompt] }, { maxNewTokens: 10 });
      expect(fits.sequences[0]).toHaveLength(16);
    });
  });

  it('checks the decoder of an encoder-decoder model (its start token plus the new tokens)', async () => {
    await expectNoLeak(async () => {
      const seq2seq = new ToySeq2SeqLM(tables, { decoderStartTokenId: 0 }, { positionLimit: learned });
      const error = await generateAll(seq2seq, { inputIds: [prompt] }, { maxNewTokens: 16 }).catch((e) => e);
      expect(error).toBeInstanceOf(GenerationInputError);
      expect(error.message).toMatch(/needs 17 positions, but the model has 16/);
      const fits = await generateAll(seq2seq, { inputIds: [prompt] }, { maxNewTokens: 15, eosTokenId: null });
      expect(fits.sequences[0]).toHaveLength(16);
    });
  });

  it('warns once, through onWarning, when rotary positions will extrapolate, and generates as without a limit', async () => {
    await expectNoLeak(async () => {
      const warnings: string[] = [];
      const options = { maxNewTokens: 20, onWarning: (message: string) => warnings.push(message) };
      const output = await generateAll(causal(rotary), { inputIds: [prompt] }, options);
      expect(warnings).toEqual([
        'the prompt (6 tokens) plus up to 20 new tokens needs 26 positions, but the model has 16: ' +
          'its rotary positions extrapolate past them, and quality may degrade',
      ]);
      expect(output).toEqual(await generateAll(causal(), { inputIds: [prompt] }, { maxNewTokens: 20 }));
      await generateAll(causal(rotary), { inputIds: [prompt] }, { ...options, maxNewTokens: 10 });
      expect(warnings).toHaveLength(1);
    });
  });

  it('warns on console.warn when no onWarning is given', async () => {
    await expectNoLeak(async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      await generateAll(causal(rotary), { inputIds: [prompt] }, { maxNewTokens: 20 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/rotary positions extrapolate/);
    });
  });
});
