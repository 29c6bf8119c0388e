// Node-only: files are written through core-tensor's node-files, which reaches node:fs on first use,
// so importing @tsformer/models in a browser never touches it.

import {
  DEFAULT_MAX_SHARD_BYTES,
  type Parameter,
  type SafetensorsTensorData,
  saveSafetensorsFolder,
  writeFolderFile,
} from '@tsformer/core-tensor';
import type { RawConfig } from './config-fields.js';
import { SaveOptionError } from './errors.js';
import type { ModelFamily, PretrainedModel } from './model-family.js';
import type { ModelFiles } from './model-files.js';
import { floatLiteralPaths, pythonJson } from './python-json.js';

/** The tokenizer files `save_pretrained` writes for the tokenizers tsformer reads (copied when present). */
export const TOKENIZER_FILE_NAMES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.jinja',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'tokenizer.model',
  'spiece.model',
  'source.spm',
  'target.spm',
];

/** The token-id fields HF's `GenerationConfig.from_model_config` takes from config.json. */
const GENERATION_TOKEN_FIELDS = [
  'bos_token_id',
  'eos_token_id',
  'pad_token_id',
  'decoder_start_token_id',
  'forced_bos_token_id',
  'forced_eos_token_id',
];

/** What `savePretrained` needs of a loaded model: what `fromPretrained` returns has it all. */
export interface SavableModel {
  model: PretrainedModel;
  family: ModelFamily;
  /** config.json as loaded; written back with `dtype: "float32"` (the weights' type). */
  rawConfig: RawConfig;
  /** The folder it came from: its generation_config.json and tokenizer files are copied. */
  files?: ModelFiles;
}

export interface SavePretrainedOptions {
  /** Where the tokenizer files are copied from (default: the model's own folder, `files`). */
  tokenizer?: ModelFiles;
  /**
   * The largest shard: bytes, or HF's spelling (`"5GB"`, `"200MB"`, `"1GiB"`); default `"5GB"`, as
   * `save_pretrained`. Weights above it go to `model-0000i-of-0000N.safetensors` plus
   * `model.safetensors.index.json`.
   */
  maxShardSize?: number | string;
}

/** The files `savePretrained` wrote. */
export interface SavedPretrained {
  files: string[];
  /** The checkpoint names written, in order (each tied weight once). */
  weightNames: string[];
}

/**
 * The checkpoint as Hugging Face's `save_pretrained` writes it: every parameter once, under its
 * first module-tree name (a tied `lm_head` or `embed_tokens` is the shared table, written once under
 * the name HF keeps: `model.embed_tokens.weight`, `transformer.wte.weight`, `model.shared.weight`),
 * minus what the family recomputes on loading.
 */
export function checkpointParameters(model: PretrainedModel, family: ModelFamily): [string, Parameter][] {
  const unsaved = new Set(family.unsavedWeights?.(model) ?? []);
  const seen = new Set<Parameter>();
  const entries: [string, Parameter][] = [];
  for (const [name, parameter] of model.namedParameters()) {
    if (seen.has(parameter)) continue;
    seen.add(parameter);
    if (!unsaved.has(name)) entries.push([name, parameter]);
  }
  return entries;
}

/**
 * Writes `saved` as a Hugging Face model folder that `fromPretrained` and transformers'
 * `from_pretrained` both load: config.json, generation_config.json, the float32 weights
 * (`model.safetensors`, or shards with their index above `maxShardSize`), and the tokenizer files.
 * Tensors are read with `await data()`, one at a time, and all of them before the weights are
 * written: saving holds the model's float32 size in memory besides the model. Nothing of the model
 * is changed.
 */
export async function savePretrained(
  saved: SavableModel,
  folder: string,
  options: SavePretrainedOptions = {},
): Promise<SavedPretrained> {
  const maxShardBytes = parseShardSize(options.maxShardSize ?? DEFAULT_MAX_SHARD_BYTES);
  const tensors: Record<string, SafetensorsTensorData> = {};
  let totalParameters = 0;
  for (const [name, parameter] of checkpointParameters(saved.model, saved.family)) {
    tensors[name] = await checkpointTensor(parameter);
    totalParameters += parameter.size;
  }
  const weights = await saveSafetensorsFolder(folder, tensors, { maxShardBytes, totalParameters });

  const written: string[] = [];
  const write = async (name: string, contents: string | Uint8Array) => {
    written.push(await writeFolderFile(folder, name, contents));
  };
  const config = { ...withoutKey(saved.rawConfig, 'torch_dtype'), dtype: 'float32' };
  await write('config.json', pythonJson(config, await configFloatPaths(saved)));
  await write('generation_config.json', await generationConfigJson(saved));
  const tokenizerFiles = options.tokenizer ?? saved.files;
  if (tokenizerFiles) {
    for (const name of TOKENIZER_FILE_NAMES) {
      if (!(await tokenizerFiles.has(name))) continue;
      const source = await tokenizerFiles.open(name);
      await write(name, await source.read(0, source.size));
    }
  }
  return { files: [...weights.files, ...written], weightNames: Object.keys(tensors) };
}

/** Which numbers of config.json were written as floats, read from the file the model was loaded from. */
async function configFloatPaths(saved: SavableModel): Promise<Set<string>> {
  if (!saved.files || !(await saved.files.has('config.json'))) return new Set();
  return floatLiteralPaths(await saved.files.readText('config.json'));
}

/** A parameter's value in the checkpoint's layout as float32 data, read asynchronously. */
async function checkpointTensor(parameter: Parameter): Promise<SafetensorsTensorData> {
  const value = parameter.checkpointValue();
  try {
    return { dtype: 'F32', shape: value.shape, data: (await value.data()) as Float32Array };
  } finally {
    value.dispose();
  }
}

/** The folder's generation_config.json as it was, or the one HF derives from config.json's token ids. */
async function generationConfigJson(saved: SavableModel): Promise<string> {
  if (saved.files && (await saved.files.has('generation_config.json'))) {
    return saved.files.readText('generation_config.json');
  }
  const fields = GENERATION_TOKEN_FIELDS.filter((field) => saved.rawConfig[field] != null);
  return pythonJson(Object.fromEntries(fields.map((field) => [field, saved.rawConfig[field]])));
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/**
 * A shard size in bytes from a number or HF's `max_shard_size` spelling (`"5GB"` = 5·10⁹,
 * `"5GiB"` = 5·2³⁰); a `SaveOptionError` for anything else.
 */
export function parseShardSize(size: number | string): number {
  const bytes =
    typeof size === 'number' ? size : spelledSize(/^\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)\s*$/i.exec(size));
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new SaveOptionError(
      `maxShardSize must be a positive number of bytes or a size such as "5GB" or "500MiB", got ${JSON.stringify(size)}`,
    );
  }
  return Math.floor(bytes);
}

function spelledSize(match: RegExpExecArray | null): number {
  if (!match) return Number.NaN;
  return Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!;
}

function withoutKey(object: RawConfig, key: string): RawConfig {
  const { [key]: _, ...rest } = object;
  return rest;
}
