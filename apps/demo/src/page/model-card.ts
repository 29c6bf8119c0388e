import { bytesPerElement } from '@tsformer/core-tensor';
import { type ModelFiles, openModelWeights, type Pretrained } from '@tsformer/models';

/**
 * The model card: the numbers `tsformer inspect` prints, from `ModelFamily.describe` (the config's
 * numbers alone) and the safetensors headers (bytes by stored dtype).
 */
export async function modelCard(pretrained: Pretrained, files: ModelFiles): Promise<[string, string][]> {
  const description = pretrained.family.describe(pretrained.config);
  const { decoder, encoder } = description;
  const weights = await openModelWeights(files);
  const bytesByDtype = new Map<string, number>();
  for (const name of weights.names()) {
    const dtype = weights.dtype(name);
    const elements = weights.shape(name).reduce((product, size) => product * size, 1);
    bytesByDtype.set(dtype, (bytesByDtype.get(dtype) ?? 0) + elements * bytesPerElement(dtype));
  }
  const stack = (label: string, s: typeof decoder): [string, string] => [
    label,
    `${s.layers} layers, hidden ${s.hiddenSize}, ${s.heads} heads (${s.kvHeads} key/value) of ${s.headDim}, ` +
      `${s.gatedMlp ? 'gated ' : ''}MLP ${s.ffnSize}${s.slidingWindow === null ? '' : `, window ${s.slidingWindow}`}`,
  ];
  const matmulWeights = decoder.matmulWeights + (encoder?.matmulWeights ?? 0);
  return [
    ['loaded from', files.location],
    ['model type', `${description.modelType} (${description.task})`],
    stack(encoder ? 'decoder' : 'layers', decoder),
    ...(encoder ? [stack('encoder', encoder)] : []),
    ['vocabulary', count(description.vocabSize)],
    ['positions', description.maxPositions === null ? 'unbounded' : count(description.maxPositions)],
    ['activation', description.activation],
    ['tied embeddings', description.tiedEmbeddings ? 'yes' : 'no'],
    [
      'parameters',
      `${count(description.parameterCount)} (${count(description.parameterCount - description.embeddingParameterCount)} without embeddings)`,
    ],
    ['weight bytes', [...bytesByDtype].map(([dtype, bytes]) => `${bytesText(bytes)} ${dtype}`).join(', ')],
    ['matmul FLOPs per token', `${count(2 * matmulWeights)} (2 × the weights of every linear layer)`],
    ['KV cache per token', bytesText(description.kvCacheBytesPerToken)],
    ...(description.maxPositions === null
      ? []
      : [
          [
            'KV cache at full context',
            bytesText(description.kvCacheBytesPerToken * description.maxPositions),
          ] as [string, string],
        ]),
  ];
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(2)} ${units[unit]}`;
}
