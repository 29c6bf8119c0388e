import type { ModelDescription } from '../model-description.js';
import { exactDescription } from '../model-description.js';
import {
  attentionProjections,
  embedding,
  kvCacheBytesPerToken,
  languageModelHead,
  layerNorm,
  mlp,
  sum,
} from '../parameter-tally.js';
import type { GPT2Config } from './gpt2-config.js';

/**
 * GPT-2's sizes and counts from its config: token and position tables, per block `ln_1`, `c_attn` +
 * `c_proj` over the heads `pruned_heads` leaves, `ln_2`, the two-layer MLP, then `ln_f` and the head.
 */
export function describeGPT2(config: GPT2Config): ModelDescription {
  const { hiddenSize, headDim, vocabSize, numAttentionHeads } = config;
  const headsPerLayer = Array.from(
    { length: config.numHiddenLayers },
    (_, layer) => numAttentionHeads - (config.prunedHeads[layer]?.length ?? 0),
  );
  const blocks = headsPerLayer.map((heads) =>
    sum(
      layerNorm(hiddenSize),
      attentionProjections({
        hiddenSize,
        heads,
        kvHeads: heads,
        headDim,
        queryKeyValueBias: true,
        outputBias: true,
      }),
      layerNorm(hiddenSize),
      mlp(hiddenSize, config.innerSize),
    ),
  );
  const total = sum(
    embedding(vocabSize, hiddenSize),
    embedding(config.maxPositionEmbeddings, hiddenSize),
    ...blocks,
    layerNorm(hiddenSize),
    languageModelHead(hiddenSize, vocabSize, config.tieWordEmbeddings),
  );
  return exactDescription({
    modelType: 'gpt2',
    task: 'causal-lm',
    decoder: {
      layers: config.numHiddenLayers,
      hiddenSize,
      heads: numAttentionHeads,
      kvHeads: numAttentionHeads,
      headDim,
      ffnSize: config.innerSize,
      gatedMlp: false,
      slidingWindow: null,
      matmulWeights: total.matmulWeights,
    },
    encoder: null,
    vocabSize,
    maxPositions: config.maxPositionEmbeddings,
    activation: config.activationFunction,
    tiedEmbeddings: config.tieWordEmbeddings,
    kvCacheBytesPerToken: kvCacheBytesPerToken(headsPerLayer.map((heads) => heads * headDim)),
    parameterCount: total.parameters,
    embeddingParameterCount: total.embeddings,
  });
}
