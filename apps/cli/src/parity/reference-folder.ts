import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, type SafetensorsReader } from '@tsformer/core-tensor';
import { InputFileError } from '../cli-errors.js';
import { readJsonObject } from '../json-file.js';

/** Tolerance of forward tensors when reference.json names none (fixtures/hf-reference/README.md). */
export const DEFAULT_FORWARD_ATOL = 1e-4;
/** Tolerance of beam-search `sequences_scores`. */
export const SEQUENCE_SCORES_ATOL = 1e-4;
/** Below this top-2 margin, a float difference may legitimately flip a generated token. */
export const TIE_MARGIN = 1e-4;

/** reference.json as the fixture builder writes it (Hugging Face names, snake_case). */
export interface ReferenceJson {
  num_parameters?: number;
  atol?: number;
  tokenization?: TokenizationCase[];
  forward?: ForwardCase[];
  generate?: GenerateCase[];
  /** Processors folder only: the names of the processed score tensors. */
  processors?: string[];
}

export interface TokenizationCase {
  text: string;
  /** With special tokens, as the tokenizer adds them. */
  ids: number[];
  tokens?: string[];
  /** `decode(ids, skip_special_tokens=True)`. */
  decoded?: string;
}

export interface ForwardCase {
  prompt: number;
  input_ids: number[][];
  /** Encoder-decoder models: the decoder's input. */
  decoder_input_ids?: number[][];
}

export interface GenerateCase {
  name: string;
  /** The `generate()` keyword arguments. */
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  attention_mask: number[][] | null;
  sequences: number[][];
  sequences_scores?: number[];
  min_top2_margin: number;
}

/** A folder in the format of fixtures/hf-reference: a model folder, or the processors folder. */
export interface ReferenceFolder {
  dir: string;
  kind: 'model' | 'processors';
  reference: ReferenceJson;
  /** reference.safetensors. */
  tensors: SafetensorsReader;
  /** Forward-tensor tolerance: the override, else reference.json `atol`, else 1e-4. */
  atol: number;
}

/** Opens `dir` as a reference folder; a missing folder or file is an InputFileError naming it. */
export async function openReferenceFolder(dir: string, atolOverride?: number): Promise<ReferenceFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InputFileError(`${dir}: no such folder`);
  const referencePath = join(dir, 'reference.json');
  if (!(await isFile(referencePath))) {
    throw new InputFileError(
      `${dir}: not a reference folder (it has no reference.json; see fixtures/hf-reference/README.md)`,
    );
  }
  const reference = checkReference(await readJsonObject(referencePath), referencePath);
  const tensors = await openSafetensors(join(dir, 'reference.safetensors'));
  const hasConfig = await isFile(join(dir, 'config.json'));
  if (!hasConfig && reference.processors === undefined) {
    throw new InputFileError(`${dir}: holds neither config.json (a model folder) nor a processors reference`);
  }
  return {
    dir,
    kind: hasConfig ? 'model' : 'processors',
    reference,
    tensors,
    atol: atolOverride ?? reference.atol ?? DEFAULT_FORWARD_ATOL,
  };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** Checks the parts of reference.json the checks rely on, so a bad file fails once, clearly. */
function checkReference(raw: Record<string, unknown>, path: string): ReferenceJson {
  const fail = (what: string): never => {
    throw new InputFileError(`${path}: ${what}`);
  };
  for (const key of ['tokenization', 'forward', 'generate', 'processors']) {
    if (raw[key] !== undefined && !Array.isArray(raw[key])) fail(`"${key}" must be a list`);
  }
  if (raw.atol !== undefined && !(typeof raw.atol === 'number' && raw.atol >= 0))
    fail('"atol" must be a number >= 0');
  if (raw.num_parameters !== undefined && !Number.isSafeInteger(raw.num_parameters)) {
    fail('"num_parameters" must be an integer');
  }
  const cases = (raw.generate ?? []) as Partial<GenerateCase>[];
  for (const [index, generateCase] of cases.entries()) {
    if (typeof generateCase.name !== 'string' || !Array.isArray(generateCase.sequences)) {
      fail(`generate[${index}] needs a "name" and "sequences"`);
    }
  }
  return raw as ReferenceJson;
}
