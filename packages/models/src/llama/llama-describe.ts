import { exactDescription, type ModelDescription } from '../model-description.js';
import {
  attentionProjections,
  embedding,
  gatedMlp,
  kvCacheBytesPerToken,
  languageModelHead,
  repeat,
  rmsNorm,
  sum,
} from '../parameter-tally.js';
import type { LlamaConfig } from './llama-config.js';

/**
 * The sizes and counts of a Llama-architecture config (Llama, Qwen2, Mistral): token table, per layer
 * q/k/v/o projections (grouped key/value heads), the gated MLP and two RMSNorms, then the final norm
 * and the head.
 */
export function describeLlama(config: LlamaConfig): ModelDescription {
  const { hiddenSize, numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim, vocabSize } = config;
  const layer = sum(
    attentionProjections({
      hiddenSize,
      heads,
      kvHeads,
      headDim,
      queryKeyValueBias: config.queryKeyValueBias,
      outputBias: config.outputProjectionBias,
    }),
    gatedMlp(hiddenSize, config.intermediateSize, config.mlpBias),
    repeat(2, rmsNorm(hiddenSize)),
  );
  const total = sum(
    embedding(vocabSize, hiddenSize),
    repeat(config.numHiddenLayers, layer),
    rmsNorm(hiddenSize),
    languageModelHead(hiddenSize, vocabSize, config.tieWordEmbeddings),
  );
  const windows = config.slidingWindows;
  const everyLayerSlides = windows.every((window) => window !== null);
  return exactDescription({
    modelType: config.modelType,
    task: 'causal-lm',
    decoder: {
      layers: config.numHiddenLayers,
      hiddenSize,
      heads,
      kvHeads,
      headDim,
      ffnSize: config.intermediateSize,
      gatedMlp: true,
      slidingWindow: everyLayerSlides ? Math.max(...(windows as number[])) : null,
      matmulWeights: total.matmulWeights,
    },
    encoder: null,
    vocabSize,
    maxPositions: config.maxPositionEmbeddings,
    activation: config.hiddenAct,
    tiedEmbeddings: config.tieWordEmbeddings,
    kvCacheBytesPerToken: kvCacheBytesPerToken(
      Array.from({ length: config.numHiddenLayers }, () => kvHeads * headDim),
    ),
    parameterCount: total.parameters,
    embeddingParameterCount: total.embeddings,
  });
}
