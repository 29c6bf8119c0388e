import { basename } from 'node:path';
import type { BackendName } from '@tsformer/core-tensor';
import { isSeq2SeqLM } from '@tsformer/decoding';
import { fromPretrained } from '@tsformer/models';
import { UnservableModelError } from './errors.js';
import { ServedModel, type ServedModelOptions } from './served-model.js';

export interface LoadServedModelOptions extends Omit<ServedModelOptions, 'id' | 'model' | 'tokenizer'> {
  /** The name clients use (default: the folder's name). */
  readonly id?: string;
  readonly backend?: BackendName;
}

/** Loads a decoder-only model folder (with its tokenizer) and makes it a ServedModel. */
export async function loadServedModel(
  folder: string,
  options: LoadServedModelOptions = {},
): Promise<ServedModel> {
  const { id, backend, ...served } = options;
  const { model, tokenizer } = await fromPretrained(folder, backend === undefined ? {} : { backend });
  if (isSeq2SeqLM(model) || tokenizer === null) {
    model.dispose();
    throw new UnservableModelError(`${folder}: serving needs a decoder-only model with a tokenizer.json`);
  }
  return new ServedModel({ id: id ?? basename(folder), model, tokenizer, ...served });
}
