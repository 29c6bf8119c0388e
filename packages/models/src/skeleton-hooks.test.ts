// A family written the way a contributor writes one, from the package entry only, using every hook
// of the decoder-only skeleton at once: per-head fused q/k/v (GPT-NeoX order), q/k RMSNorm (Qwen3),
// partial rotary, attention and final logit soft-capping and (1 + w) RMSNorm (Gemma 2), scaled
// embeddings (Gemma), a fused gate_up_proj (Phi-3), a parallel residual (GPT-NeoX) and a sliding
// window on one layer. Checked against an independent float64 forward, whole and step by step.
import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  eagerAttention,
  type QueryKeyValue,
  resolveRopeParameters,
  splitFusedQueryKeyValue,
} from '@tsformer/attention';
import { SlidingWindowLayerCache } from '@tsformer/cache';
import { ModuleList, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { Embedding, GatedMLP, Linear, RMSNorm } from '@tsformer/layers';
import {
  type CausalLMConfig,
  type ForwardStep,
  type LayerOutput,
  PretrainedCausalLM,
  type RotaryAngles,
  RotaryLayerStack,
  rotateQueryKey,
  SelfAttention,
  StackLayer,
} from '@tsformer/models';
import {
  add,
  attend,
  type Checkpoint,
  linear,
  type Matrix,
  randomCheckpoint,
  rmsNorm,
  ropeRotation,
  silu,
  softcap,
} from '@tsformer/models/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TOY = {
  modelType: 'toy',
  vocabSize: 24,
  hiddenSize: 16,
  heads: 4,
  headDim: 4,
  rotaryDim: 2,
  intermediateSize: 12,
  numHiddenLayers: 2,
  /** Layer 1 attends within 3 positions. */
  slidingWindows: [null, 3],
  attentionSoftcap: 2,
  finalSoftcap: 5,
  eps: 1e-6,
  bosTokenId: null,
  eosTokenId: null,
  padTokenId: null,
} as const;
type ToyConfig = CausalLMConfig & typeof TOY;

class ToyAttention extends SelfAttention<RotaryAngles> {
  readonly queryKeyValue: Linear;
  readonly dense: Linear;
  readonly qNorm: RMSNorm;
  readonly kNorm: RMSNorm;

  constructor(config: ToyConfig, layerIndex: number, attention: AttentionImplementation) {
    const { heads, headDim } = config;
    super({
      attention,
      layerIndex,
      numHeads: heads,
      headDim,
      scale: headDim ** -0.5,
      softcap: config.attentionSoftcap,
      slidingWindow: config.slidingWindows[layerIndex],
    });
    this.queryKeyValue = this.register('query_key_value', new Linear(config.hiddenSize, 3 * heads * headDim));
    this.dense = this.register('dense', new Linear(heads * headDim, config.hiddenSize, { bias: false }));
    this.qNorm = this.register('q_norm', new RMSNorm(headDim, { eps: config.eps }));
    this.kNorm = this.register('k_norm', new RMSNorm(headDim, { eps: config.eps }));
  }

  protected projectQueryKeyValue(hidden: tf.Tensor3D): QueryKeyValue {
    const layout = { heads: this.numHeads, headDim: this.headDim, order: 'per-head' } as const;
    return splitFusedQueryKeyValue(this.queryKeyValue.forward(hidden), layout);
  }

  protected override normalizeQueryKey(query: tf.Tensor4D, key: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    return [this.qNorm.forward(query) as tf.Tensor4D, this.kNorm.forward(key) as tf.Tensor4D];
  }

  protected override positionQueryKey(
    query: tf.Tensor4D,
    key: tf.Tensor4D,
    angles: RotaryAngles,
  ): [tf.Tensor4D, tf.Tensor4D] {
    return rotateQueryKey(query, key, angles);
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.dense.forward(merged) as tf.Tensor3D;
  }
}

/** `x + attn(ln1(x)) + mlp(ln2(x))`: the parallel residual lives in the family's layer. */
class ToyLayer extends StackLayer<RotaryAngles> {
  readonly selfAttention: ToyAttention;
  readonly ln1: RMSNorm;
  readonly ln2: RMSNorm;
  readonly mlp: GatedMLP;

  constructor(config: ToyConfig, layerIndex: number, attention: AttentionImplementation) {
    super();
    const norm = () => new RMSNorm(config.hiddenSize, { eps: config.eps, weightOffset: 1 });
    this.selfAttention = this.register('attention', new ToyAttention(config, layerIndex, attention));
    this.ln1 = this.register('ln1', norm());
    this.ln2 = this.register('ln2', norm());
    const { hiddenSize, intermediateSize } = config;
    this.mlp = this.register(
      'mlp',
      new GatedMLP({ hiddenSize, intermediateSize, activation: 'silu', fusedGateUp: true }),
    );
  }

  forward(hidden: tf.Tensor3D, step: ForwardStep, angles: RotaryAngles): LayerOutput {
    const { output, attentions } = this.selfAttention.forward(
      this.ln1.forward(hidden) as tf.Tensor3D,
      step,
      angles,
    );
    const mlp = this.mlp.forward(this.ln2.forward(hidden));
    return { hidden: tf.addN([hidden, output, mlp]) as tf.Tensor3D, attentions };
  }
}

class ToyModel extends RotaryLayerStack {
  readonly embedTokens: Embedding;
  readonly layers: ModuleList<ToyLayer>;
  readonly norm: RMSNorm;
  /** Gemma's normalizer: √hidden as a float32 constant. */
  readonly embeddingScale: number;

  constructor(config: ToyConfig, attention: AttentionImplementation) {
    super(
      resolveRopeParameters({
        head_dim: config.headDim,
        partial_rotary_factor: config.rotaryDim / config.headDim,
        max_position_embeddings: 32,
      }),
    );
    this.embedTokens = this.register('embed_tokens', new Embedding(config.vocabSize, config.hiddenSize));
    const layers = Array.from(
      { length: config.numHiddenLayers },
      (_, i) => new ToyLayer(config, i, attention),
    );
    this.layers = this.register('layers', new ModuleList(layers));
    this.norm = this.register('norm', new RMSNorm(config.hiddenSize, { eps: config.eps, weightOffset: 1 }));
    this.embeddingScale = Math.fround(Math.sqrt(config.hiddenSize));
  }

  protected embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    return tf.mul(this.embedTokens.forward(inputIds), this.embeddingScale) as tf.Tensor3D;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.norm.forward(hidden) as tf.Tensor3D;
  }
}

class ToyForCausalLM extends PretrainedCausalLM<ToyConfig> {
  readonly model: ToyModel;
  readonly lmHead: Linear;
  readonly positionLimit = { maxPositions: 32, kind: 'extrapolating' } as const;
  override readonly finalLogitSoftcapping = TOY.finalSoftcap;

  constructor(config: ToyConfig) {
    super(config);
    this.model = this.register('model', new ToyModel(config, eagerAttention));
    this.lmHead = this.register('lm_head', new Linear(config.hiddenSize, config.vocabSize, { bias: false }));
  }

  get trunk(): ToyModel {
    return this.model;
  }
}

/** The toy model in float64: logits `[seq, vocab]`. */
function referenceLogits(weights: Checkpoint, inputIds: number[]): Matrix {
  const w = (name: string) => weights.get(name)!;
  const { hiddenSize, heads, headDim, eps, intermediateSize } = TOY;
  const embed = w('model.embed_tokens.weight');
  let hidden: Matrix = inputIds.map((id) =>
    embed.slice(id * hiddenSize, (id + 1) * hiddenSize).map((v) => v * Math.fround(Math.sqrt(hiddenSize))),
  );
  const rotate = ropeRotation([1]); // rotaryDim 2: one frequency, 1 / 10000^0
  for (let layer = 0; layer < TOY.numHiddenLayers; layer++) {
    const p = `model.layers.${layer}.`;
    const x = rmsNorm(hidden, w(`${p}ln1.weight`), eps, 1);
    const fused = linear(
      x,
      w(`${p}attention.query_key_value.weight`),
      3 * heads * headDim,
      w(`${p}attention.query_key_value.bias`),
    );
    // per head: [q, k, v] of headDim each; q and k RMS-normalised per head
    const part = (index: number, norm?: string) =>
      fused.map((row) =>
        Array.from({ length: heads }, (_, h) => {
          const vector = row.slice((h * 3 + index) * headDim, (h * 3 + index + 1) * headDim);
          return norm ? rmsNorm([vector], w(`${p}attention.${norm}.weight`), eps)[0]! : vector;
        }).flat(),
      );
    const context = attend(part(0, 'q_norm'), part(1, 'k_norm'), part(2), {
      positions: inputIds.map((_, i) => i),
      heads,
      kvHeads: heads,
      headDim,
      scale: headDim ** -0.5,
      softcap: TOY.attentionSoftcap,
      slidingWindow: TOY.slidingWindows[layer],
      rotate,
    });
    const attention = linear(context, w(`${p}attention.dense.weight`), hiddenSize);
    const y = rmsNorm(hidden, w(`${p}ln2.weight`), eps, 1);
    const gateUp = linear(y, w(`${p}mlp.gate_up_proj.weight`), 2 * intermediateSize);
    const product = gateUp.map((row) =>
      Array.from({ length: intermediateSize }, (_, i) => silu(row[i]!) * row[intermediateSize + i]!),
    );
    const mlp = linear(product, w(`${p}mlp.down_proj.weight`), hiddenSize);
    hidden = add(add(hidden, attention), mlp);
  }
  hidden = rmsNorm(hidden, w('model.norm.weight'), eps, 1);
  return linear(hidden, w('lm_head.weight'), TOY.vocabSize).map((row) =>
    row.map((v) => softcap(v, TOY.finalSoftcap)),
  );
}

describe('a family built only on the skeleton’s hooks', () => {
  const inputIds = [3, 17, 5, 9, 22, 1, 14, 7];
  let model: ToyForCausalLM;
  let weights: Checkpoint;
  let expected: Matrix;

  beforeAll(async () => {
    await useBackend('wasm');
    model = new ToyForCausalLM(TOY as ToyConfig);
    weights = randomCheckpoint(model, 7);
    expected = referenceLogits(weights, inputIds);
    model.trunk.prepareKeptTensors();
  });

  afterAll(() => {
    model.dispose();
  });

  it('matches the float64 forward (every hook at once), and collects hidden states and maps', async () => {
    await expectNoLeak(() => {
      const ids = tf.tensor2d([inputIds], undefined, 'int32');
      const out = model.forward(ids, { outputHiddenStates: true, outputAttentions: true });
      assertClose(out.logits, expected.flat(), 1e-4, 'logits');
      expect(out.hiddenStates).toHaveLength(TOY.numHiddenLayers + 1);
      expect(out.attentions!.map((map) => map.shape)).toEqual([
        [1, 4, 8, 8],
        [1, 4, 8, 8],
      ]);
      tf.dispose([ids, out.logits, ...out.hiddenStates!, ...out.attentions!]);
    });
  });

  it('decodes step by step through its per-layer cache (a sliding window on layer 1) to the same logits', async () => {
    await expectNoLeak(() => {
      const cache = model.createCache(1, inputIds.length);
      expect(cache.layer(1)).toBeInstanceOf(SlidingWindowLayerCache);
      expect(cache.layer(0)).not.toBeInstanceOf(SlidingWindowLayerCache);
      const prefix = tf.tensor2d([inputIds.slice(0, 4)], undefined, 'int32');
      const first = model.forwardLogits({ inputIds: prefix, cache, logitsToKeep: 1 });
      assertClose(first, expected[3]!, 1e-4, 'prefix last logits');
      tf.dispose([prefix, first]);
      for (let position = 4; position < inputIds.length; position++) {
        const next = tf.tensor2d([[inputIds[position]!]], undefined, 'int32');
        const logits = model.forwardLogits({ inputIds: next, cache });
        assertClose(logits, expected[position]!, 1e-4, `step ${position}`);
        tf.dispose([next, logits]);
      }
      cache.dispose();
    });
  });

  it('says where its positions end, and its per-layer heads and windows', () => {
    expect(model.positionLimit).toEqual({ maxPositions: 32, kind: 'extrapolating' });
    expect(model.trunk.layerHeads).toEqual([4, 4]);
    expect(model.trunk.slidingWindows).toEqual([null, 3]);
  });
});
