import * as tf from '@tensorflow/tfjs-core';
import { type AttentionImplementation, getAttentionImplementation } from '@tsformer/attention';
import { type DecoderCache, DynamicCache, StaticCache } from '@tsformer/cache';
import { Module, ModuleList, type Parameter, TsformerError } from '@tsformer/core-tensor';
import type { CacheImplementation, PositionLimit } from '@tsformer/decoding';
import {
  Conv1D,
  Dropout,
  Embedding,
  LayerNorm,
  LearnedPositionalEmbedding,
  Linear,
  MLP,
} from '@tsformer/layers';
import {
  type CausalLMForwardOptions,
  type CausalLMOutput,
  keepLastPositions,
  PretrainedCausalLM,
} from '../causal-lm.js';
import { DecoderStep } from '../decoder-step.js';
import type { CreateModelOptions } from '../model-family.js';
import type { GPT2Config } from './gpt2-config.js';

/** Original indices of the heads layer `layerIndex` still has after `config.prunedHeads`. */
export function remainingHeads(config: GPT2Config, layerIndex: number): number[] {
  const pruned = new Set(config.prunedHeads[layerIndex] ?? []);
  return Array.from({ length: config.numAttentionHeads }, (_, head) => head).filter(
    (head) => !pruned.has(head),
  );
}

/**
 * GPT-2 self-attention: one fused `c_attn` projection to queries, keys and values (Conv1D layout),
 * `c_proj` back to the hidden size. Scores are scaled by 1/√headDim (`scale_attn_weights`) and by
 * 1/(layer + 1) (`scale_attn_by_inverse_layer_idx`). `reorder_and_upcast_attn` only changes where
 * PyTorch rounds in half precision: in float32 it is this same computation.
 */
export class GPT2Attention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly cAttn: Conv1D;
  readonly cProj: Conv1D;
  readonly residualDropout: Dropout;

  constructor(
    readonly config: GPT2Config,
    readonly layerIndex: number,
    private readonly attention: AttentionImplementation,
  ) {
    super();
    this.numHeads = remainingHeads(config, layerIndex).length;
    this.headDim = config.headDim;
    const innerWidth = this.numHeads * this.headDim;
    this.cAttn = this.register('c_attn', new Conv1D(config.hiddenSize, 3 * innerWidth));
    this.cProj = this.register('c_proj', new Conv1D(innerWidth, config.hiddenSize));
    this.residualDropout = this.register('resid_dropout', new Dropout(config.residualDropout));
    let scale = config.scaleAttentionWeights ? 1 / Math.sqrt(this.headDim) : 1;
    if (config.scaleAttentionByInverseLayerIndex) scale /= layerIndex + 1;
    this.scale = scale;
  }

  /** `[batch, seq, hidden]` → output `[batch, seq, hidden]` and, on request, `[batch, heads, seq, keys]`. */
  forward(hidden: tf.Tensor3D, step: DecoderStep): { output: tf.Tensor3D; attentions: tf.Tensor4D | null } {
    const [batch, seq] = hidden.shape;
    const innerWidth = this.numHeads * this.headDim;
    // c_attn's output holds q, k and v side by side: one transpose puts them first, then unstack
    // (a split along the last axis is a slow strided copy on wasm).
    const qkv = tf.reshape(this.cAttn.forward(hidden), [batch, seq, 3, this.numHeads, this.headDim]);
    const [query, key, value] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])) as tf.Tensor4D[]; // 3 × [batch, heads, seq, headDim]
    const keyValues = step.keyValues(this.layerIndex, key!, value!);
    const { output, attentions } = this.attention({
      query: query!,
      keyValues,
      mask: step.mask(keyValues),
      scale: this.scale,
      headMask: step.headMask(this.layerIndex),
      dropout: this.config.attentionDropout,
      training: this.training,
      outputAttentions: step.outputAttentions,
    });
    const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [batch, seq, innerWidth]); // [batch, seq, heads·headDim]
    return {
      output: this.residualDropout.forward(this.cProj.forward(merged)) as tf.Tensor3D,
      attentions: attentions ?? null,
    };
  }
}

/** A pre-norm GPT-2 block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`. */
export class GPT2Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;

  constructor(config: GPT2Config, layerIndex: number, attention: AttentionImplementation) {
    super();
    const eps = config.layerNormEpsilon;
    this.ln1 = this.register('ln_1', new LayerNorm(config.hiddenSize, { eps }));
    this.attn = this.register('attn', new GPT2Attention(config, layerIndex, attention));
    this.ln2 = this.register('ln_2', new LayerNorm(config.hiddenSize, { eps }));
    this.mlp = this.register(
      'mlp',
      new MLP({
        hiddenSize: config.hiddenSize,
        intermediateSize: config.innerSize,
        activation: config.activationFunction,
        inputName: 'c_fc',
        outputName: 'c_proj',
        projection: 'conv1d',
        dropout: config.residualDropout,
      }),
    );
  }

  forward(hidden: tf.Tensor3D, step: DecoderStep): { hidden: tf.Tensor3D; attentions: tf.Tensor4D | null } {
    const { output, attentions } = this.attn.forward(this.ln1.forward(hidden) as tf.Tensor3D, step);
    const afterAttention = tf.add(hidden, output) as tf.Tensor3D;
    const afterMlp = tf.add(
      afterAttention,
      this.mlp.forward(this.ln2.forward(afterAttention)),
    ) as tf.Tensor3D;
    return { hidden: afterMlp, attentions };
  }
}

/** The GPT-2 trunk: token + learned position embeddings, the blocks, a final LayerNorm. */
export class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: LearnedPositionalEmbedding;
  readonly drop: Dropout;
  readonly h: ModuleList<GPT2Block>;
  readonly lnF: LayerNorm;

  constructor(
    readonly config: GPT2Config,
    attention: AttentionImplementation,
  ) {
    super();
    // Tied to lm_head: stored as the head wants it (see EmbeddingOptions.transposed).
    this.wte = this.register(
      'wte',
      new Embedding(config.vocabSize, config.hiddenSize, { transposed: config.tieWordEmbeddings }),
    );
    this.wpe = this.register(
      'wpe',
      new LearnedPositionalEmbedding(config.maxPositionEmbeddings, config.hiddenSize),
    );
    this.drop = this.register('drop', new Dropout(config.embeddingDropout));
    const blocks = Array.from(
      { length: config.numHiddenLayers },
      (_, index) => new GPT2Block(config, index, attention),
    );
    this.h = this.register('h', new ModuleList(blocks));
    this.lnF = this.register('ln_f', new LayerNorm(config.hiddenSize, { eps: config.layerNormEpsilon }));
  }

  /** `[batch, seq]` ids → the final hidden state `[batch, seq, hidden]` and, on request, the others. */
  forward(
    inputIds: tf.Tensor2D,
    step: DecoderStep,
    outputHiddenStates: boolean,
  ): { lastHiddenState: tf.Tensor3D; hiddenStates: tf.Tensor3D[]; attentions: tf.Tensor4D[] } {
    const positions = this.wpe.forward(step.positionIds, step.maxPosition); // [batch, seq, hidden]
    let hidden = this.drop.forward(tf.add(this.wte.forward(inputIds), positions)) as tf.Tensor3D;
    const hiddenStates: tf.Tensor3D[] = [];
    const attentions: tf.Tensor4D[] = [];
    for (const block of this.h.items) {
      if (outputHiddenStates) hiddenStates.push(hidden);
      const out = block.forward(hidden, step);
      hidden = out.hidden;
      if (out.attentions) attentions.push(out.attentions);
    }
    hidden = this.lnF.forward(hidden) as tf.Tensor3D;
    if (outputHiddenStates) hiddenStates.push(hidden);
    return { lastHiddenState: hidden, hiddenStates, attentions };
  }
}

/** GPT-2 with its language-model head (HF `GPT2LMHeadModel`); the head is tied to `wte` by default. */
export class GPT2LMHeadModel extends PretrainedCausalLM<GPT2Config> {
  readonly transformer: GPT2Model;
  readonly lmHead: Linear;
  // Stand-in until the skeleton's base classes report it (issue 10 item 7).
  readonly positionLimit: PositionLimit;

  constructor(
    config: GPT2Config,
    private readonly options: CreateModelOptions = {},
  ) {
    super(config, options);
    this.positionLimit = { maxPositions: config.maxPositionEmbeddings, kind: 'learned' };
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    this.transformer = this.register('transformer', new GPT2Model(config, attention));
    this.lmHead = this.register(
      'lm_head',
      new Linear(config.hiddenSize, config.vocabSize, {
        bias: false,
        sharedWeight: config.tieWordEmbeddings ? this.transformer.wte.weight : undefined,
      }),
    );
  }

  forward(inputIds: tf.Tensor2D, options: CausalLMForwardOptions = {}): CausalLMOutput {
    return tf.tidy(() => {
      const heads = this.transformer.h.items.map((block) => block.attn.numHeads);
      const step = new DecoderStep(inputIds, this.config.numHiddenLayers, heads, options);
      const outputHiddenStates = options.outputHiddenStates ?? false;
      const trunk = this.transformer.forward(inputIds, step, outputHiddenStates);
      const kept = keepLastPositions(trunk.lastHiddenState, options.logitsToKeep);
      return {
        logits: this.lmHead.forward(kept) as tf.Tensor3D,
        ...(outputHiddenStates ? { hiddenStates: trunk.hiddenStates } : {}),
        ...(step.outputAttentions ? { attentions: trunk.attentions } : {}),
      };
    });
  }

  /**
   * HF's `prune_heads`: removes the given heads (original numbering, by layer index) from `c_attn` and
   * `c_proj`. Parameter shapes are fixed once a model is built, so this returns a new model (with
   * `config.prunedHeads` updated, its weights copied or sliced from this one) and leaves this one as it is.
   */
  pruneHeads(headsToPrune: Readonly<Record<number, readonly number[]>>): GPT2LMHeadModel {
    const { numHiddenLayers, numAttentionHeads } = this.config;
    const prunedHeads: Record<number, readonly number[]> = { ...this.config.prunedHeads };
    for (const [key, heads] of Object.entries(headsToPrune)) {
      const layer = Number(key);
      const knownLayer = Number.isInteger(layer) && layer >= 0 && layer < numHiddenLayers;
      const knownHeads = heads.every(
        (head) => Number.isInteger(head) && head >= 0 && head < numAttentionHeads,
      );
      if (!knownLayer || !knownHeads) {
        throw new TsformerError(
          `pruneHeads: layer ${key} heads ${JSON.stringify(heads)} are not heads in [0, ${numAttentionHeads}) of a layer in [0, ${numHiddenLayers})`,
        );
      }
      const union = [...new Set([...(prunedHeads[layer] ?? []), ...heads])].sort((a, b) => a - b);
      if (union.length >= numAttentionHeads)
        throw new TsformerError(`pruneHeads: layer ${layer} would have no head left`);
      prunedHeads[layer] = union;
    }
    const pruned = new GPT2LMHeadModel({ ...this.config, prunedHeads }, this.options);
    const sources = new Map(this.namedParameters());
    const copied = new Set<Parameter>();
    for (const [name, target] of pruned.namedParameters()) {
      if (copied.has(target)) continue; // a tied head is the embedding table
      copied.add(target);
      target.assign(tf.tidy(() => this.prunedValue(name, sources.get(name)!, pruned.config)));
    }
    return pruned;
  }

  /** `source`'s value in checkpoint layout, without the features of heads `target` no longer has. */
  private prunedValue(name: string, source: Parameter, target: GPT2Config): tf.Tensor {
    const value = source.transposed ? tf.transpose(source.tensor) : tf.clone(source.tensor);
    const match = /^transformer\.h\.(\d+)\.attn\.(c_attn|c_proj)\.(weight|bias)$/.exec(name);
    if (!match) return value;
    const layer = Number(match[1]);
    const before = remainingHeads(this.config, layer);
    const after = remainingHeads(target, layer);
    if (after.length === before.length) return value;
    const headDim = this.config.headDim;
    // Feature indices of the kept heads within this model's (possibly already pruned) layout.
    const kept = after.flatMap((head) => {
      const start = before.indexOf(head) * headDim;
      return Array.from({ length: headDim }, (_, offset) => start + offset);
    });
    if (match[2] === 'c_proj') return match[3] === 'weight' ? tf.gather(value, kept, 0) : value;
    const width = before.length * headDim;
    const fused = [0, 1, 2].flatMap((part) => kept.map((index) => part * width + index)); // q, k, v blocks
    return tf.gather(value, fused, match[3] === 'weight' ? 1 : 0);
  }

  createCache(
    _batchSize: number,
    maxLength: number,
    implementation: CacheImplementation = 'dynamic',
  ): DecoderCache {
    const layers = this.config.numHiddenLayers;
    return implementation === 'static' ? new StaticCache(layers, maxLength) : new DynamicCache(layers);
  }
}
