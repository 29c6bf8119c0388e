// Every family and every skeleton class is reachable the way users import them: from `@tsformer/models`.
import * as models from '@tsformer/models';
import {
  bart,
  gemma,
  gemma2,
  gpt2,
  gptNeox,
  llama,
  marian,
  mistral,
  phi3,
  qwen2,
  qwen3,
  t5,
  transformer,
} from '@tsformer/models';
import { describe, expect, it } from 'vitest';
import { MODEL_FAMILIES } from './auto.js';

describe('the @tsformer/models entry', () => {
  it('exports every registered family (a ModelFamily object under its own name)', () => {
    const exported = new Set<unknown>(Object.values(models));
    const missing = MODEL_FAMILIES.filter((family) => !exported.has(family)).map(
      (family) => family.modelType,
    );
    expect(missing).toEqual([]);
  });

  it('exports each family by name', () => {
    const named = [
      gpt2,
      llama,
      qwen2,
      mistral,
      gemma,
      gemma2,
      bart,
      marian,
      transformer,
      qwen3,
      gptNeox,
      phi3,
      t5,
    ];
    expect(named.map((family) => family.modelType)).toEqual([
      'gpt2',
      'llama',
      'qwen2',
      'mistral',
      'gemma',
      'gemma2',
      'bart',
      'marian',
      'transformer',
      'qwen3',
      'gpt_neox',
      'phi3',
      't5',
    ]);
  });

  it('exports the skeleton a family outside the package builds on', () => {
    for (const base of [
      models.PretrainedCausalLM,
      models.PretrainedSeq2SeqLM,
      models.PretrainedLanguageModel,
      models.LayerStack,
      models.RotaryLayerStack,
      models.StackLayer,
      models.SelfAttention,
      models.CrossAttention,
      models.ForwardStep,
      models.Seq2SeqDecoderStep,
    ]) {
      expect(typeof base).toBe('function');
    }
    expect(typeof models.createLayerCaches).toBe('function');
    expect(typeof models.rotateQueryKey).toBe('function');
  });
});
