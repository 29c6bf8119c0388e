import { exactDescription, type ModelDescription, type StackDescription } from '../model-description.js';
import {
  attentionProjections,
  embedding,
  kvCacheBytesPerToken,
  languageModelHead,
  layerNorm,
  mlp,
  NOTHING,
  type ParameterTally,
  repeat,
  sum,
} from '../parameter-tally.js';
import type { BartConfig } from './bart-config.js';

/**
 * The sizes and counts of a BART-style encoder-decoder (BART, Marian, the classic Transformer): token
 * tables (one shared, or one per side), per stack positions, the optional embedding and final
 * LayerNorms and its layers, then the head. `final_logits_bias` is a buffer in HF: not counted.
 */
export function describeBart(config: BartConfig): ModelDescription {
  const { dModel } = config;
  const positionRows =
    config.positionEncoding === 'learned-offset-2'
      ? config.maxPositionEmbeddings + 2
      : config.maxPositionEmbeddings;
  const stackFrame = sum(
    embedding(positionRows, dModel),
    config.layernormEmbedding ? layerNorm(dModel) : NOTHING,
    config.addFinalLayerNorm ? layerNorm(dModel) : NOTHING,
  );
  const attention = (heads: number) =>
    sum(
      attentionProjections({
        hiddenSize: dModel,
        heads,
        kvHeads: heads,
        headDim: dModel / heads,
        queryKeyValueBias: true,
        outputBias: true,
      }),
      layerNorm(dModel),
    );
  const encoderLayer = sum(
    attention(config.encoderAttentionHeads),
    mlp(dModel, config.encoderFfnDim),
    layerNorm(dModel),
  );
  const decoderLayer = sum(
    attention(config.decoderAttentionHeads),
    attention(config.decoderAttentionHeads),
    mlp(dModel, config.decoderFfnDim),
    layerNorm(dModel),
  );
  const encoder = sum(stackFrame, repeat(config.encoderLayers, encoderLayer));
  const decoder = sum(
    stackFrame,
    repeat(config.decoderLayers, decoderLayer),
    languageModelHead(dModel, config.decoderVocabSize, config.tieWordEmbeddings),
  );
  const tokenTables = config.shareEncoderDecoderEmbeddings
    ? embedding(config.vocabSize, dModel)
    : sum(embedding(config.vocabSize, dModel), embedding(config.decoderVocabSize, dModel));
  const total = sum(tokenTables, encoder, decoder);
  const stack = (
    layers: number,
    heads: number,
    ffnSize: number,
    counted: ParameterTally,
  ): StackDescription => ({
    layers,
    hiddenSize: dModel,
    heads,
    kvHeads: heads,
    headDim: dModel / heads,
    ffnSize,
    gatedMlp: false,
    slidingWindow: null,
    matmulWeights: counted.matmulWeights,
  });
  return exactDescription({
    modelType: config.modelType,
    task: 'seq2seq-lm',
    decoder: stack(config.decoderLayers, config.decoderAttentionHeads, config.decoderFfnDim, decoder),
    encoder: stack(config.encoderLayers, config.encoderAttentionHeads, config.encoderFfnDim, encoder),
    vocabSize: config.decoderVocabSize,
    maxPositions: config.maxPositionEmbeddings,
    activation: config.activationFunction,
    tiedEmbeddings: config.tieWordEmbeddings,
    kvCacheBytesPerToken: kvCacheBytesPerToken(Array.from({ length: config.decoderLayers }, () => dModel)),
    parameterCount: total.parameters,
    embeddingParameterCount: total.embeddings,
  });
}
