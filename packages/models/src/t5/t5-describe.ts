import { exactDescription, type ModelDescription, type StackDescription } from '../model-description.js';
import {
  attentionProjections,
  embedding,
  gatedMlp,
  kvCacheBytesPerToken,
  languageModelHead,
  mlp,
  type ParameterTally,
  repeat,
  rmsNorm,
  sum,
} from '../parameter-tally.js';
import type { T5Config } from './t5-config.js';

/**
 * The sizes and counts of a T5 model: the shared token table, per stack one relative-bias table
 * (`num_buckets × num_heads`, an embedding for HF's count) in its first block, RMS norms and bias-free
 * projections in every sub-layer, the final norm, then the head (tied, or T5 v1.1's own).
 */
export function describeT5(config: T5Config): ModelDescription {
  const { dModel, numHeads: heads, headDim, dFf } = config;
  const attention = sum(
    attentionProjections({
      hiddenSize: dModel,
      heads,
      kvHeads: heads,
      headDim,
      queryKeyValueBias: false,
      outputBias: false,
    }),
    rmsNorm(dModel),
  );
  const feedForward = sum(
    config.isGatedAct ? gatedMlp(dModel, dFf) : mlp(dModel, dFf, false),
    rmsNorm(dModel),
  );
  const stackFrame = sum(embedding(config.relativeAttentionNumBuckets, heads), rmsNorm(dModel));
  const encoder = sum(stackFrame, repeat(config.numLayers, sum(attention, feedForward)));
  const decoder = sum(
    stackFrame,
    repeat(config.numDecoderLayers, sum(attention, attention, feedForward)),
    languageModelHead(dModel, config.vocabSize, config.tieWordEmbeddings),
  );
  const total = sum(embedding(config.vocabSize, dModel), encoder, decoder);
  const stack = (layers: number, counted: ParameterTally): StackDescription => ({
    layers,
    hiddenSize: dModel,
    heads,
    kvHeads: heads,
    headDim,
    ffnSize: dFf,
    gatedMlp: config.isGatedAct,
    slidingWindow: null,
    matmulWeights: counted.matmulWeights,
  });
  return exactDescription({
    modelType: config.modelType,
    task: 'seq2seq-lm',
    decoder: stack(config.numDecoderLayers, decoder),
    encoder: stack(config.numLayers, encoder),
    vocabSize: config.vocabSize,
    maxPositions: null,
    activation: config.denseActFn,
    tiedEmbeddings: config.tieWordEmbeddings,
    kvCacheBytesPerToken: kvCacheBytesPerToken(
      Array.from({ length: config.numDecoderLayers }, () => heads * headDim),
    ),
    parameterCount: total.parameters,
    embeddingParameterCount: total.embeddings,
  });
}
