import { exactDescription, type ModelDescription } from '../model-description.js';
import {
  attentionProjections,
  embedding,
  kvCacheBytesPerToken,
  languageModelHead,
  layerNorm,
  mlp,
  repeat,
  sum,
} from '../parameter-tally.js';
import type { GPTNeoXConfig } from './gpt-neox-config.js';

/**
 * GPT-NeoX's sizes and counts from its config: `embed_in`, per layer two LayerNorms, the fused
 * `query_key_value` (the numbers of three projections) and `dense`, the two-layer MLP with biases, then
 * `final_layer_norm` and `embed_out` (a table of its own unless tied).
 */
export function describeGPTNeoX(config: GPTNeoXConfig): ModelDescription {
  const { hiddenSize, numAttentionHeads: heads, headDim, vocabSize, attentionBias } = config;
  const layer = sum(
    repeat(2, layerNorm(hiddenSize)),
    attentionProjections({
      hiddenSize,
      heads,
      kvHeads: heads,
      headDim,
      queryKeyValueBias: attentionBias,
      outputBias: attentionBias,
    }),
    mlp(hiddenSize, config.intermediateSize),
  );
  const total = sum(
    embedding(vocabSize, hiddenSize),
    repeat(config.numHiddenLayers, layer),
    layerNorm(hiddenSize),
    languageModelHead(hiddenSize, vocabSize, config.tieWordEmbeddings),
  );
  return exactDescription({
    modelType: 'gpt_neox',
    task: 'causal-lm',
    decoder: {
      layers: config.numHiddenLayers,
      hiddenSize,
      heads,
      kvHeads: heads,
      headDim,
      ffnSize: config.intermediateSize,
      gatedMlp: false,
      slidingWindow: null,
      matmulWeights: total.matmulWeights,
    },
    encoder: null,
    vocabSize,
    maxPositions: config.maxPositionEmbeddings,
    activation: config.hiddenAct,
    tiedEmbeddings: config.tieWordEmbeddings,
    kvCacheBytesPerToken: kvCacheBytesPerToken(
      Array.from({ length: config.numHiddenLayers }, () => heads * headDim),
    ),
    parameterCount: total.parameters,
    embeddingParameterCount: total.embeddings,
  });
}
