import { join } from 'node:path';
import {
  defaultBackendName,
  type SafetensorsFile,
  ShardedSafetensors,
  useBackend,
} from '@tsformer/core-tensor';
import { createModelFromConfig, folderFiles, openModelWeights } from '@tsformer/models';
import { type Command, Option } from 'commander';
import { type Architecture, architectureOf } from '../architecture.js';
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
}

/** Stored weight bytes of one dtype. */
interface DtypeBytes {
  dtype: string;
  tensors: number;
  bytes: number;
}

export function registerInspect(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('inspect')
    .description(
      'architecture, parameter count (as HF num_parameters()), weight bytes by dtype, FLOPs per token, ' +
        'KV-cache and activation memory; --config needs no weights',
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
      'sequence length for FLOPs and activations (default: the full context)',
      integerAtLeast(1),
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
  // No weight is allocated, but some families build fixed tables (Marian's sinusoids) with tensors.
  await useBackend(defaultBackendName());
  const { family, config, model } = createModelFromConfig(await readJsonObject(configPath));
  try {
    const architecture = architectureOf(family, config);
    const seqLen = options.seqLen ?? Math.max(1, architecture.maxPositions);
    const costs = estimateCosts({ model, ...architecture }, options.batch, seqLen);
    const weights = options.model === undefined ? undefined : await weightBytesByDtype(options.model);
    const report = {
      source: options.model ?? configPath,
      modelType: architecture.modelType,
      className: model.constructor.name,
      task: architecture.task,
      architecture,
      batch: options.batch,
      seqLen,
      ...costs,
      ...(weights && { weights }),
    };
    if (options.json) printJson(report);
    else printReport(report, architecture, costs, weights);
  } finally {
    model.dispose();
  }
}

/** Bytes of the stored tensors by dtype, from the safetensors headers (no tensor is read). */
async function weightBytesByDtype(dir: string): Promise<DtypeBytes[]> {
  const reader = await openModelWeights(folderFiles(dir));
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
  report: { source: string; className: string; batch: number; seqLen: number },
  architecture: Architecture,
  costs: CostEstimates,
  weights: DtypeBytes[] | undefined,
): void {
  const { decoder, encoder } = architecture;
  const stack = (name: string, geometry: typeof decoder) => {
    const grouped = geometry.kvHeads === geometry.heads ? '' : `, ${geometry.kvHeads} key/value heads`;
    const window = geometry.slidingWindow === null ? '' : `, sliding window ${geometry.slidingWindow}`;
    return `${name}${geometry.layers} layers × hidden ${geometry.hiddenSize}; attention ${geometry.heads} heads × ${geometry.headDim}${grouped}${window}; MLP ${geometry.ffnSize}`;
  };
  const flops = costs.flopsPerToken;
  const lines: [string, string][] = [
    [
      'model',
      `${architecture.modelType} (${report.className}), ${encoder ? 'encoder-decoder' : 'decoder-only'}: ${report.source}`,
    ],
    ...(encoder ? [['encoder', stack('', encoder)] as [string, string]] : []),
    [encoder ? 'decoder' : 'layers', stack('', decoder)],
    [
      'vocabulary',
      `${formatCount(architecture.vocabSize)} tokens, ${formatCount(architecture.maxPositions)} positions` +
        `${architecture.activation ? `, ${architecture.activation}` : ''}${architecture.tiedEmbeddings ? ', tied embeddings' : ''}`,
    ],
    [
      'parameters',
      `${formatCount(costs.parameters)} (${formatSi(costs.parameters)}); ${formatCount(costs.parametersWithoutEmbeddings)} without embeddings`,
    ],
    [
      'weights',
      weights
        ? weights.map((w) => `${w.dtype} ${formatBytes(w.bytes)} (${w.tensors} tensors)`).join(', ')
        : `not read (--config); ${formatBytes(costs.parameters * 4)} as float32 in memory`,
    ],
    [
      'FLOPs/token',
      `prefill ${formatSi(flops.prefill, 'FLOP')} (mean over ${report.seqLen} tokens), decode ${formatSi(flops.decode, 'FLOP')} at ${report.seqLen} tokens of context` +
        (flops.encoder === undefined ? '' : `, encoder ${formatSi(flops.encoder, 'FLOP')} per source token`),
    ],
    [
      'KV cache',
      `${formatBytes(costs.kvCacheBytesPerToken)} per token (float32), ${formatBytes(costs.kvCacheBytesAtFullContext)} at the full ${formatCount(architecture.maxPositions)}-token context`,
    ],
    [
      'activations',
      `${formatBytes(costs.activationBytes)} peak for batch ${report.batch} × ${report.seqLen} tokens (prefill, float32 estimate)`,
    ],
  ];
  for (const [label, text] of lines) process.stdout.write(`${label.padEnd(12)}${text}\n`);
}
