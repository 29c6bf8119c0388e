import { readFile } from 'node:fs/promises';
import type { BackendName } from '@tsformer/core-tensor';
import { loadServedModel, type ServedModel } from '@tsformer/server';
import type { Command } from 'commander';
import { InputFileError } from './cli-errors.js';
import { addBackendOption, chosenBackend } from './common-options.js';
import { requireFolder } from './model-folder.js';
import { integerAtLeast } from './option-parsers.js';

/** The options of the commands that serve a model (`serve`, `worker`). */
export interface ServedModelFlags {
  model: string;
  name?: string;
  maxBatch: number;
  maxQueue: number;
  chatTemplate?: string;
  backend?: BackendName;
}

/** Adds `--model`, `--name`, `--max-batch`, `--max-queue`, `--chat-template` and `--backend`. */
export function addServedModelOptions(command: Command): Command {
  command
    .requiredOption('--model <dir>', 'Hugging Face model folder (decoder-only, with tokenizer.json)')
    .option('--name <id>', "the model's name (default: the folder's name)")
    .option('--max-batch <n>', 'requests decoded together', integerAtLeast(1), 8)
    .option(
      '--max-queue <n>',
      'requests waiting for a batch row before they are refused',
      integerAtLeast(1),
      64,
    )
    .option('--chat-template <file>', "a Jinja chat template replacing the folder's");
  return addBackendOption(command);
}

/** Loads the model folder the flags name as a ServedModel. */
export async function loadServedModelFromFlags(flags: ServedModelFlags): Promise<ServedModel> {
  await requireFolder(flags.model);
  const chatTemplate = flags.chatTemplate === undefined ? undefined : await readTemplate(flags.chatTemplate);
  return loadServedModel(flags.model, {
    ...(flags.name !== undefined && { id: flags.name }),
    backend: chosenBackend(flags.backend),
    maxBatch: flags.maxBatch,
    maxQueue: flags.maxQueue,
    ...(chatTemplate !== undefined && { chatTemplate }),
  });
}

/** Resolves on the first SIGINT or SIGTERM (the listeners are removed then). */
export function untilStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function readTemplate(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(`--chat-template ${path}: ${(error as Error).message}`);
  }
}
