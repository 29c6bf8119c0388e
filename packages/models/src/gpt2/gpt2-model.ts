import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  type FusedQueryKeyValue,
  getAttentionImplementation,
} from '@tsformer/attention';
import { ModuleList, type Parameter, TsformerError } from '@tsformer/core-tensor';
import type { PositionLimit } from '@tsformer/decoding';
import {
  Conv1D,
  Dropout,
  Embedding,
  LayerNorm,
  LearnedPositionalEmbedding,
  Linear,
  MLP,
} from '@tsformer/layers';
import { PretrainedCausalLM } from '../causal-lm.js';
import type { ForwardStep } from '../forward-step.js';
import { type LayerOutput, LayerStack, StackLayer } from '../layer-stack.js';
import type { CreateModelOptions } from '../model-family.js';
import { SelfAttention } from '../self-attention.js';
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
export class GPT2Attention extends SelfAttention {
  readonly cAttn: Conv1D;
  readonly cProj: Conv1D;
  readonly residualDropout: Dropout;

  constructor(config: GPT2Config, layerIndex: number, attention: AttentionImplementation) {
    const numHeads = remainingHeads(config, layerIndex).length;
    let scale = config.scaleAttentionWeights ? 1 / Math.sqrt(config.headDim) : 1;
    if (config.scaleAttentionByInverseLayerIndex) scale /= layerIndex + 1;
    super({
      attention,
      layerIndex,
      numHeads,
      headDim: config.headDim,
      scale,
      dropout: config.attentionDropout,
    });
    const innerWidth = numHeads * config.headDim;
    this.cAttn = this.register('c_attn', new Conv1D(config.hiddenSize, 3 * innerWidth));
    this.cProj = this.register('c_proj', new Conv1D(innerWidth, config.hiddenSize));
    this.residualDropout = this.register('resid_dropout', new Dropout(config.residualDropout));
  }

  /** `c_attn`'s output holds q, k and v side by side: `[batch, seq, 3·heads·headDim]`. */
  protected projectQueryKeyValue(hidden: tf.Tensor3D): FusedQueryKeyValue {
    const layout = { heads: this.numHeads, headDim: this.headDim, order: 'blocks' } as const;
    return { projection: this.cAttn.forward(hidden) as tf.Tensor3D, layout };
  }

  protected projectOutput(merged: tf.Tensor3D): tf.Tensor3D {
    return this.residualDropout.forward(this.cProj.forward(merged)) as tf.Tensor3D;
  }
}

/** A pre-norm GPT-2 block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`. */
export class GPT2Block extends StackLayer {
  readonly ln1: LayerNorm;
  readonly selfAttention: GPT2Attention;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;

  constructor(config: GPT2Config, layerIndex: number, attention: AttentionImplementation) {
    super();
    const eps = config.layerNormEpsilon;
    this.ln1 = this.register('ln_1', new LayerNorm(config.hiddenSize, { eps }));
    this.selfAttention = this.register('attn', new GPT2Attention(config, layerIndex, attention));
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

  forward(hidden: tf.Tensor3D, step: ForwardStep): LayerOutput {
    const normed = this.ln1.forward(hidden) as tf.Tensor3D;
    const { output, attentions } = this.selfAttention.forward(normed, step, undefined);
    const { sum: afterAttention, normed: mlpInput } = this.ln2.addAndNormalize(hidden, output);
    const afterMlp = this.mlp.forward(mlpInput, afterAttention) as tf.Tensor3D; // afterAttention + mlp(mlpInput)
    return { hidden: afterMlp, attentions };
  }
}

/** The GPT-2 trunk: token + learned position embeddings, the blocks, a final LayerNorm. */
export class GPT2Model extends LayerStack {
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

  get layers(): ModuleList<GPT2Block> {
    return this.h;
  }

  /** Token plus learned position embeddings, then dropout: `[batch, seq]` → `[batch, seq, hidden]`. */
  protected embed(inputIds: tf.Tensor2D, step: ForwardStep): tf.Tensor3D {
    const positions = this.wpe.forward(step.positionIds, step.maxPosition); // [batch, seq, hidden]
    return this.drop.forward(tf.add(this.wte.forward(inputIds), positions)) as tf.Tensor3D;
  }

  protected layerContext(): undefined {
    return undefined;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.lnF.forward(hidden) as tf.Tensor3D;
  }
}

/** GPT-2 with its language-model head (HF `GPT2LMHeadModel`); the head is tied to `wte` by default. */
export class GPT2LMHeadModel extends PretrainedCausalLM<GPT2Config> {
  readonly transformer: GPT2Model;
  readonly lmHead: Linear;
  /** Learned positions: the `wpe` table ends at `n_positions`. */
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

  get trunk(): GPT2Model {
    return this.transformer;
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
}
