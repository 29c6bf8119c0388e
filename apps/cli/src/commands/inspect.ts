import { join } from 'node:path';
import {
  defaultBackendName,
  type SafetensorsFile,
  type SafetensorsReader,
  ShardedSafetensors,
  useBackend,
  withFile,
} from '@tsformer/core-tensor';
import {
  describeConfig,
  folderFiles,
  type ModelDescription,
  type ModelFamily,
  openModelWeights,
} from '@tsformer/models';
import { type MemoryOptimizer, type TrainingMemory, trainingMemory } from '@tsformer/training';
import { type Command, Option } from 'commander';
import { UsageError } from '../cli-errors.js';
import { addOutputOptions, type OutputOptions } from '../common-options.js';
import { readJsonObject } from '../json-file.js';
import { type CostEstimates, estimateCosts } from '../model-costs.js';
import { requireFolder } from '../model-folder.js';
import { integerAtLeast } from '../option-parsers.js';
import { formatBytes, formatCount, formatSi, printJson } from '../output.js';
import type { SetStatus } from '../program.js';

interface InspectOptions extends OutputOptions {
  model?: string;
  config?: string;
  batch: number;
  seqLen?: number;
  seq?: number;
  training?: boolean;
  optimizer: MemoryOptimizer;
}

const MEMORY_OPTIMIZERS: readonly MemoryOptimizer[] = ['adamw', 'sgd', 'sgd-momentum'];

/** Stored weight bytes of one dtype. */
interface DtypeBytes {
  dtype: string;
  tensors: number;
  bytes: number;
}

/** The default `--seq-len` of a model without a position limit (T5's relative positions). */
const UNBOUNDED_DEFAULT_SEQ_LEN = 512;

export function registerInspect(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('inspect')
    .description(
      'architecture, parameter count (as HF num_parameters()), weight bytes by dtype, FLOPs per token, ' +
        'KV-cache and activation memory, computed from the config alone; --model also checks the ' +
        'weights against the config (names and shapes, from the safetensors headers)',
    )
    .addOption(
      new Option('--model <dir>', 'a model folder (reads safetensors headers, not tensors)').conflicts(
        'config',
      ),
    )
    .addOption(new Option('--config <file>', 'a config.json alone'))
    .option('--batch <n>', 'batch size for the activation estimate', integerAtLeast(1), 1)
    .option(
      '--seq-len <n>',
      `sequence length for FLOPs and activations (default: the full context; ${UNBOUNDED_DEFAULT_SEQ_LEN} without a position limit)`,
      integerAtLeast(1),
    )
    .addOption(
      new Option('--seq <n>', 'the same as --seq-len').argParser(integerAtLeast(1)).conflicts('seqLen'),
    )
    .option(
      '--training',
      'also the memory of one training step: parameters, gradients, optimizer states, activations per layer',
    )
    .addOption(
      new Option('--optimizer <name>', 'the optimizer whose states --training counts')
        .choices(MEMORY_OPTIMIZERS)
        .default('adamw'),
    );
  addOutputOptions(command);
  command.action((options: InspectOptions) => runInspect(options));
}

async function runInspect(options: InspectOptions): Promise<void> {
  if (options.model === undefined && options.config === undefined) {
    throw new UsageError('inspect needs --model DIR or --config FILE');
  }
  if (options.model !== undefined) await requireFolder(options.model);
  const configPath = options.config ?? join(options.model!, 'config.json');
  // Sizes and counts come from the config's numbers: no module is built for them.
  const raw = await readJsonObject(configPath);
  const { family, config, description } = withFile(configPath, () => describeConfig(raw));
  const seqLen = options.seqLen ?? options.seq ?? description.maxPositions ?? UNBOUNDED_DEFAULT_SEQ_LEN;
  const costs = estimateCosts(description, options.batch, seqLen);
  const training = options.training
    ? trainingMemory(description, { batch: options.batch, seq: seqLen, optimizer: options.optimizer })
    : undefined;
  const weights = options.model === undefined ? undefined : await checkWeights(options.model, family, config);
  const report = {
    source: options.model ?? configPath,
    modelType: description.modelType,
    task: description.task,
    architecture: description,
    batch: options.batch,
    seqLen,
    ...costs,
    ...(weights && { weights }),
    ...(training && { training }),
  };
  if (options.json) printJson(report);
  else {
    printReport(report, description, costs, weights);
    if (training) printTrainingMemory(training);
  }
}

/**
 * Checks the folder's checkpoint against the config by the loading code itself (the family's name
 * rules, `Module.loadWeights` as a dry run): a missing, unexpected or mis-shaped tensor is the
 * `WeightLoadingError` loading would throw. Reads safetensors headers only, no tensor; returns the
 * stored bytes by dtype.
 */
async function checkWeights(dir: string, family: ModelFamily, config: unknown): Promise<DtypeBytes[]> {
  const reader = await openModelWeights(folderFiles(dir));
  // No weight is allocated, but some families build fixed tables (Marian's sinusoids) with tensors.
  await useBackend(defaultBackendName());
  const model = family.createModel(config);
  try {
    await family.loadWeights(model, reader, { dryRun: true });
  } finally {
    model.dispose();
  }
  return weightBytesByDtype(reader);
}

/** Bytes of the stored tensors by dtype, from the safetensors headers (no tensor is read). */
function weightBytesByDtype(reader: SafetensorsReader): DtypeBytes[] {
  const files: SafetensorsFile[] =
    reader instanceof ShardedSafetensors ? [...reader.shards.values()] : [reader as SafetensorsFile];
  const byDtype = new Map<string, DtypeBytes>();
  for (const file of files) {
    for (const name of file.names()) {
      const { dtype, dataOffsets } = file.info(name);
      const entry = byDtype.get(dtype) ?? { dtype, tensors: 0, bytes: 0 };
      entry.tensors += 1;
      entry.bytes += dataOffsets[1] - dataOffsets[0];
      byDtype.set(dtype, entry);
    }
  }
  return [...byDtype.values()];
}

function printReport(
  report: { source: string; batch: number; seqLen: number },
  description: ModelDescription,
  costs: CostEstimates,
  weights: DtypeBytes[] | undefined,
): void {
  const { decoder, encoder, maxPositions } = description;
  const stack = (geometry: typeof decoder) => {
    const grouped = geometry.kvHeads === geometry.heads ? '' : `, ${geometry.kvHeads} key/value heads`;
    const window = geometry.slidingWindow === null ? '' : `, sliding window ${geometry.slidingWindow}`;
    return `${geometry.layers} layers × hidden ${geometry.hiddenSize}; attention ${geometry.heads} heads × ${geometry.headDim}${grouped}${window}; MLP ${geometry.ffnSize}${geometry.gatedMlp ? ' (gated)' : ''}`;
  };
  const positions = maxPositions === null ? 'no position limit' : `${formatCount(maxPositions)} positions`;
  const flops = costs.flopsPerToken;
  const lines: [string, string][] = [
    ['model', `${description.modelType}, ${encoder ? 'encoder-decoder' : 'decoder-only'}: ${report.source}`],
    ...(encoder ? [['encoder', stack(encoder)] as [string, string]] : []),
    [encoder ? 'decoder' : 'layers', stack(decoder)],
    [
      'vocabulary',
      `${formatCount(description.vocabSize)} tokens, ${positions}, ${description.activation}` +
        `${description.tiedEmbeddings ? ', tied embeddings' : ''}`,
    ],
    [
      'parameters',
      `${formatCount(costs.parameters)} (${formatSi(costs.parameters)}); ${formatCount(costs.parametersWithoutEmbeddings)} without embeddings`,
    ],
    [
      'weights',
      weights
        ? `${weights.map((w) => `${w.dtype} ${formatBytes(w.bytes)} (${w.tensors} tensors)`).join(', ')}; names and shapes fit the config`
        : `not read (--config); ${formatBytes(BigInt(costs.parameters) * 4n)} as float32 in memory`,
    ],
    [
      'FLOPs/token',
      `prefill ${formatSi(flops.prefill, 'FLOP')} (mean over ${report.seqLen} tokens), decode ${formatSi(flops.decode, 'FLOP')} at ${report.seqLen} tokens of context` +
        (flops.encoder === undefined ? '' : `, encoder ${formatSi(flops.encoder, 'FLOP')} per source token`),
    ],
    [
      'KV cache',
      `${formatBytes(costs.kvCacheBytesPerToken)} per token (float32)` +
        (costs.kvCacheBytesAtFullContext === null || maxPositions === null
          ? ''
          : `, ${formatBytes(costs.kvCacheBytesAtFullContext)} at the full ${formatCount(maxPositions)}-token context`),
    ],
    [
      'activations',
      `${formatBytes(costs.activationBytes)} peak for batch ${report.batch} × ${report.seqLen} tokens (prefill, float32 estimate)`,
    ],
  ];
  for (const [label, text] of lines) process.stdout.write(`${label.padEnd(12)}${text}\n`);
}

/** The --training lines: the step's total, then each part, then each layer's activations. */
function printTrainingMemory(memory: TrainingMemory): void {
  const { activations } = memory;
  const layersTotal = activations.layers.reduce((sum, layer) => sum + layer.total, 0);
  const lines: [string, string][] = [
    [
      'training',
      `${formatBytes(memory.totalBytes)} for one step of batch ${memory.batch} × ${memory.seq} tokens with ${memory.optimizer} (float32 estimate)`,
    ],
    ['  parameters', formatBytes(memory.parameterBytes)],
    ['  gradients', formatBytes(memory.gradientBytes)],
    ['  optimizer', `${formatBytes(memory.optimizerStateBytes)} of ${memory.optimizer} states`],
    [
      '  activations',
      `${formatBytes(activations.total)}: embeddings ${formatBytes(activations.embeddingBytes)}, layers ${formatBytes(layersTotal)}, head and loss ${formatBytes(activations.headAndLossBytes)}`,
    ],
    ...activations.layers.map((layer): [string, string] => [
      `    ${layer.name}`,
      `${formatBytes(layer.total)}: tokens ${formatBytes(layer.tokenBytes)}, attention scores ${formatBytes(layer.scoreBytes)}, MLP ${formatBytes(layer.mlpBytes)}, weight temporaries ${formatBytes(layer.weightBytes)}`,
    ]),
  ];
  for (const [label, text] of lines) process.stdout.write(`${label.padEnd(16)}${text}\n`);
}
