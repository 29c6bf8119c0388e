import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, type SafetensorsReader } from '@tsformer/core-tensor';
import { DEFAULT_FORWARD_ATOL, type GenerateCase, type ReferenceJson } from '@tsformer/models/testing';
import { InputFileError } from '../cli-errors.js';
import { readJsonObject } from '../json-file.js';

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
