import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PretrainedCausalLM } from './causal-lm.js';
import { SaveOptionError } from './errors.js';
import { fromPretrained, type Pretrained } from './from-pretrained.js';
import { floatLiteralPaths } from './python-json.js';
import { parseShardSize, savePretrained } from './save-pretrained.js';
import type { PretrainedSeq2SeqLM } from './seq2seq-lm.js';

const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;
const FAMILIES = ['gpt2', 'llama', 'qwen3', 'gemma2', 'phi3', 'gpt_neox', 'bart', 'marian', 't5'];

let scratch: string;
beforeAll(async () => {
  await useBackend('wasm');
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-save-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The tensor names of a safetensors file, from its header alone. */
function headerNames(path: string): string[] {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  return Object.keys(header).filter((name) => name !== '__metadata__');
}

/** The model's logits on a fixed input, read back. */
async function logitsOf({ model }: Pretrained): Promise<Float32Array> {
  const ids = tf.tensor2d([[3, 8, 5, 11, 2, 7]], [1, 6], 'int32');
  const decoderInputIds = tf.slice(ids, [0, 0], [1, 4]);
  const output =
    model.kind === 'causal-lm'
      ? (model as PretrainedCausalLM).forward(ids)
      : (model as PretrainedSeq2SeqLM).forward({ inputIds: ids, decoderInputIds });
  const values = (await output.logits.data()) as Float32Array;
  tf.dispose([ids, decoderInputIds, output]);
  return values;
}

describe.each(FAMILIES)('savePretrained (%s)', (folder) => {
  it("writes HF's state-dict names (tied weights once) and loads back with identical logits", async () => {
    const source = `${FIXTURES}${folder}`;
    const out = join(scratch, folder);
    await expectNoLeak(async () => {
      const original = await fromPretrained(source);
      const saved = await savePretrained(original, out);
      // The fixture's model.safetensors was written by transformers' save_pretrained.
      expect(new Set(saved.weightNames)).toEqual(new Set(headerNames(`${source}/model.safetensors`)));
      expect(headerNames(`${out}/model.safetensors`).sort()).toEqual([...saved.weightNames].sort());
      const copied = readdirSync(source).filter((name) => name.startsWith('tokenizer'));
      for (const name of copied)
        expect(readFileSync(join(out, name))).toEqual(readFileSync(join(source, name)));
      const configText = readFileSync(join(out, 'config.json'), 'utf8');
      expect(JSON.parse(configText).dtype).toBe('float32');
      // Python tells 30.0 from 30, and transformers' typed configs refuse an int for a float field.
      const floats = floatLiteralPaths(readFileSync(join(source, 'config.json'), 'utf8'));
      floats.delete('["torch_dtype"]');
      expect([...floats].filter((path) => !floatLiteralPaths(configText).has(path))).toEqual([]);

      const reloaded = await fromPretrained(out);
      expect(await logitsOf(reloaded)).toEqual(await logitsOf(original));
      original.model.dispose();
      reloaded.model.dispose();
    });
  });
});

describe('savePretrained sharding', () => {
  it('writes shards with an index as save_pretrained does and loads them back identically', async () => {
    const out = join(scratch, 'llama-sharded');
    await expectNoLeak(async () => {
      const original = await fromPretrained(`${FIXTURES}llama`);
      const saved = await savePretrained(original, out, { maxShardSize: '200KB' });
      const shards = readdirSync(out).filter((name) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(name));
      expect(shards.length).toBeGreaterThan(1);
      const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
      expect(Object.keys(index.weight_map).sort()).toEqual([...saved.weightNames].sort());
      expect(index.metadata.total_parameters).toBe(original.model.numParameters());
      for (const shard of shards) {
        for (const name of headerNames(join(out, shard))) expect(index.weight_map[name]).toBe(shard);
      }
      const reader = await openSafetensors(out);
      expect(reader.names().length).toBe(saved.weightNames.length);
      const reloaded = await fromPretrained(out);
      expect(await logitsOf(reloaded)).toEqual(await logitsOf(original));
      original.model.dispose();
      reloaded.model.dispose();
    });
  });
});

describe('parseShardSize', () => {
  it("reads HF's spellings and refuses others", () => {
    expect(parseShardSize('5GB')).toBe(5e9);
    expect(parseShardSize('2MiB')).toBe(2 * 2 ** 20);
    expect(parseShardSize('500kb')).toBe(5e5);
    expect(parseShardSize(1234)).toBe(1234);
    expect(() => parseShardSize('lots')).toThrow(SaveOptionError);
    expect(() => parseShardSize(0)).toThrow(/maxShardSize must be a positive/);
  });
});
