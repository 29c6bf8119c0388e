import type { ModelFamily } from '@tsformer/models';
import type { StackGeometry } from './model-costs.js';

/**
 * The sizes `inspect` reports, read from a family's resolved (camelCase) config. Decoder-only
 * families share the Llama/GPT-2 spelling (`hiddenSize`, `numHiddenLayers`, `numAttentionHeads`,
 * `headDim`, optional `numKeyValueHeads`), encoder-decoder families the BART spelling (`dModel`,
 * `encoderLayers`, `decoderAttentionHeads`, ...).
 */
export interface Architecture {
  modelType: string;
  task: ModelFamily['task'];
  decoder: StackGeometry;
  encoder?: StackGeometry;
  vocabSize: number;
  maxPositions: number;
  activation: string | undefined;
  tiedEmbeddings: boolean | undefined;
}

type Fields = Readonly<Record<string, unknown>>;

export function architectureOf(family: ModelFamily, config: unknown): Architecture {
  const fields = config as Fields;
  const shared = {
    modelType: family.modelType,
    task: family.task,
    vocabSize: numberField(fields, 'decoderVocabSize') ?? numberField(fields, 'vocabSize') ?? 0,
    maxPositions: numberField(fields, 'maxPositionEmbeddings') ?? 0,
    activation: stringField(fields, 'hiddenAct') ?? stringField(fields, 'activationFunction'),
    tiedEmbeddings: typeof fields.tieWordEmbeddings === 'boolean' ? fields.tieWordEmbeddings : undefined,
  };
  if (family.task === 'seq2seq-lm') {
    return {
      ...shared,
      decoder: bartStack(fields, 'decoder'),
      encoder: bartStack(fields, 'encoder'),
    };
  }
  const hiddenSize = requiredNumber(fields, 'hiddenSize');
  const heads = requiredNumber(fields, 'numAttentionHeads');
  const windows = Array.isArray(fields.slidingWindows) ? (fields.slidingWindows as (number | null)[]) : [];
  const finiteWindows = windows.filter((window): window is number => typeof window === 'number');
  return {
    ...shared,
    decoder: {
      layers: requiredNumber(fields, 'numHiddenLayers'),
      hiddenSize,
      heads,
      kvHeads: numberField(fields, 'numKeyValueHeads') ?? heads,
      headDim: numberField(fields, 'headDim') ?? hiddenSize / heads,
      ffnSize: numberField(fields, 'intermediateSize') ?? numberField(fields, 'innerSize') ?? 4 * hiddenSize,
      // Only when every layer slides is the cache bounded by the window.
      slidingWindow:
        windows.length > 0 && finiteWindows.length === windows.length ? Math.max(...finiteWindows) : null,
    },
  };
}

function bartStack(fields: Fields, stack: 'encoder' | 'decoder'): StackGeometry {
  const hiddenSize = requiredNumber(fields, 'dModel');
  const heads = requiredNumber(fields, `${stack}AttentionHeads`);
  return {
    layers: requiredNumber(fields, `${stack}Layers`),
    hiddenSize,
    heads,
    kvHeads: heads,
    headDim: hiddenSize / heads,
    ffnSize: requiredNumber(fields, `${stack}FfnDim`),
    slidingWindow: null,
  };
}

function numberField(fields: Fields, name: string): number | undefined {
  const value = fields[name];
  return typeof value === 'number' ? value : undefined;
}

function stringField(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
}

function requiredNumber(fields: Fields, name: string): number {
  const value = numberField(fields, name);
  if (value === undefined) {
    throw new TypeError(
      `the resolved config has no numeric "${name}": inspect cannot read this family's sizes`,
    );
  }
  return value;
}
