import * as tf from '@tensorflow/tfjs-core';
import {
  disableCpuAttention,
  disableWebgpuAttention,
  enableCpuAttention,
  enableWebgpuAttention,
} from '@tsformer/attention';
import {
  type BackendName,
  ensureBackend,
  type LoadWeightsReport,
  useBackend,
  withFile,
} from '@tsformer/core-tensor';
import type { GenerationOptions } from '@tsformer/decoding';
import {
  CPU_KERNEL_BACKENDS,
  type CpuKernelsOptions,
  disableCpuKernels,
  disableWebgpuKernels,
  enableCpuKernels,
  enableWebgpuKernels,
  packedWeightLoader,
} from '@tsformer/kernels';
import { packableWeights } from '@tsformer/layers';
import { getModelFamily } from './auto.js';
import type { RawConfig } from './config-fields.js';
import { LoadOptionError, ModelFileError } from './errors.js';
import { folderFiles } from './folder-files.js';
import { generationDefaults } from './generation-defaults.js';
import { countTensorReads, type LoadProgressListener } from './load-progress.js';
import type { CreateModelOptions, ModelFamily, PretrainedModel } from './model-family.js';
import { type ModelFiles, readJsonFile } from './model-files.js';
import { openModelWeights } from './model-weights.js';
import { PretrainedTokenizer } from './tokenizer.js';

export interface FromPretrainedOptions extends CreateModelOptions {
  /**
   * Activate this tensor backend first (`useBackend`); default: the current one, or, when no
   * backend has been set up, the default (`ensureBackend`: wasm in Node, as the CLI).
   */
  backend?: BackendName;
  /** Tensors loaded so far (`tensors` events); a `hubFiles` source reports its bytes through its own option. */
  onProgress?: LoadProgressListener;
  /**
   * On the webgpu backend, serve the fused ops (`linear` and `decodeAttention` at decode) with tsformer's
   * WGSL programs (`enableWebgpuKernels`, `enableWebgpuAttention`): default true. `false` gives them back to tfjs's ops.
   */
  webgpuKernels?: boolean;
  /**
   * On the wasm and cpu backends, serve linear layers, embedding tables, norms and decode attention
   * with tsformer's WebAssembly kernels on the process's thread pool (`enableCpuKernels`,
   * `enableCpuAttention`; threads from
   * `TSFORMER_KERNEL_THREADS`, else chosen by size), their weights loaded once into the kernel's
   * packed layout (bf16/fp16 kept 16-bit) with no tfjs tensor beside it: default true. `false`
   * leaves them to tfjs's ops and tensors (as before the kernels existed) — for every model of the
   * process, since a backend's fused ops are registered once per process (as `webgpuKernels`).
   */
  cpuKernels?: boolean | CpuKernelsOptions;
  /**
   * Opt-in lower precision for the weights the CPU kernels hold (linear layers and embedding tables):
   * `bf16` rounds fp32 weights to bfloat16 (half the bytes), `int8` quantizes them with one scale per
   * output channel (a quarter). Outputs change (packages/kernels/README.md gives the measured cost);
   * never the default: without it a checkpoint's own dtype is kept exactly. Needs the CPU kernels
   * (wasm or cpu backend).
   */
  dtype?: LowerPrecisionDtype;
}

/** The weight dtypes `fromPretrained`'s `dtype` option offers. */
export const LOWER_PRECISION_DTYPES = ['bf16', 'int8'] as const;
export type LowerPrecisionDtype = (typeof LOWER_PRECISION_DTYPES)[number];

/** A loaded model folder. */
export interface Pretrained<Model extends PretrainedModel = PretrainedModel> {
  model: Model;
  /** The family's resolved config (camelCase). */
  config: unknown;
  /** config.json as it is in the folder. */
  rawConfig: RawConfig;
  family: ModelFamily;
  /** null when the folder has no `tokenizer.json` (Marian-style folders with other tokenizer files). */
  tokenizer: PretrainedTokenizer | null;
  /** The model's generation defaults: config.json's token ids overlaid with generation_config.json. */
  generationConfig: GenerationOptions;
  /** Which checkpoint tensors were loaded and which were ignored. */
  weights: LoadWeightsReport;
  /** The folder it was loaded from (`savePretrained` copies its tokenizer files). */
  files: ModelFiles;
}

/**
 * Loads a Hugging Face model folder: config.json (its `model_type` picks the family), the safetensors
 * weights (single file or sharded; F32/F16/BF16), the tokenizer and chat template, and
 * generation_config.json. `source` is a folder path (Node) or any `ModelFiles`: `hubFiles` (URLs in
 * Hugging Face's layout), `fileListFiles` / `blobFiles` (a browser's files), `filesInMemory`.
 */
export async function fromPretrained(
  source: string | ModelFiles,
  options: FromPretrainedOptions = {},
): Promise<Pretrained> {
  if (options.backend !== undefined) await useBackend(options.backend);
  else await ensureBackend();
  if (tf.getBackend() === 'webgpu') {
    if (options.webgpuKernels === false) {
      disableWebgpuKernels();
      disableWebgpuAttention();
    } else {
      enableWebgpuKernels();
      enableWebgpuAttention();
    }
  }
  const { cpuKernels = true } = options;
  if (cpuKernels === false) {
    disableCpuKernels();
    disableCpuAttention();
  }
  const kernelPool =
    cpuKernels !== false && (CPU_KERNEL_BACKENDS as readonly string[]).includes(tf.getBackend())
      ? await enableCpuKernels(cpuKernels === true ? {} : cpuKernels)
      : undefined;
  if (kernelPool) enableCpuAttention(kernelPool);
  const { dtype } = options;
  if (dtype !== undefined && !(LOWER_PRECISION_DTYPES as readonly string[]).includes(dtype)) {
    throw new LoadOptionError(
      `fromPretrained: dtype "${dtype}" is not one of ${LOWER_PRECISION_DTYPES.join(', ')}`,
    );
  }
  if (dtype !== undefined && !kernelPool) {
    throw new LoadOptionError(
      `fromPretrained: dtype "${dtype}" needs the CPU kernels: the wasm or cpu backend (active: ${tf.getBackend()}) with cpuKernels on`,
    );
  }
  const files = typeof source === 'string' ? folderFiles(source) : source;
  const rawConfig = await readConfigJson(files);
  // Errors about the config's fields (the family's, RoPE's, model_type) name config.json.
  const { family, config } = withFile(files.path('config.json'), () => {
    const family = getModelFamily(rawConfig.model_type);
    return { family, config: family.resolveConfig(rawConfig) };
  });
  const generationConfig = generationDefaults(
    rawConfig,
    (await files.has('generation_config.json'))
      ? await readJsonFile(files, 'generation_config.json')
      : undefined,
    files.path,
  );
  // The tokenizer before the weights: a broken tokenizer file fails fast, with nothing to free.
  const tokenizer = await PretrainedTokenizer.fromFiles(files);
  const weightsSource = await openModelWeights(files);
  const model = family.createModel(config, {
    attentionImplementation: options.attentionImplementation,
    generationConfig,
  });
  let weights: LoadWeightsReport;
  try {
    // With the CPU kernels, linear and embedding weights load straight into their packed layout,
    // 16-bit checkpoints staying 16-bit, and no tfjs tensor holds a second copy.
    const loadParameter = kernelPool && packedWeightLoader(kernelPool, packableWeights(model), dtype);
    if (options.onProgress === undefined) {
      weights = await family.loadWeights(model, weightsSource, { loadParameter });
    } else {
      const counted = countTensorReads(weightsSource, options.onProgress);
      weights = await family.loadWeights(model, counted.source, { loadParameter });
      counted.finish();
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return {
    model,
    config,
    rawConfig,
    family,
    tokenizer,
    generationConfig,
    weights,
    files,
  };
}

async function readConfigJson(files: ModelFiles): Promise<RawConfig> {
  if (!(await files.has('config.json'))) throw new ModelFileError(`${files.location} has no config.json`);
  const raw = await readJsonFile(files, 'config.json');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const got = raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw;
    throw new ModelFileError(`${files.path('config.json')} must be a JSON object, got ${got}`);
  }
  return raw as RawConfig;
}
