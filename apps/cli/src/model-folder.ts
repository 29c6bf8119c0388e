import { fileURLToPath } from 'node:url';
import {
  type BackendInfo,
  type BackendName,
  type ByteSource,
  FileAccessError,
  requireDirectory,
  useBackend,
} from '@tsformer/core-tensor';
import {
  folderFiles,
  fromPretrained,
  type LowerPrecisionDtype,
  type ModelFiles,
  type Pretrained,
} from '@tsformer/models';
import { InputFileError } from './cli-errors.js';
import { progressBar } from './progress-bar.js';

/**
 * The bundled model, found from this file's place in the repository (apps/cli/src or apps/cli/dist),
 * so `tsformer generate` works from any working directory.
 */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/tiny-llama-docs', import.meta.url));

/** Throws an InputFileError saying what `dir` is ("model folder m does not exist"), unless it is a folder. */
export async function requireFolder(dir: string, what = 'model folder'): Promise<void> {
  try {
    await requireDirectory(dir);
  } catch (error) {
    if (error instanceof FileAccessError)
      throw new InputFileError(`${what} ${error.message}`, { cause: error });
    throw error;
  }
}

export interface LoadedModel extends Pretrained {
  dir: string;
  backend: BackendInfo;
  /** Wall-clock milliseconds spent reading weights and building the model. */
  loadMs: number;
}

/**
 * Activates `backend`, then loads the model folder `dir` (config, safetensors, tokenizer,
 * generation_config.json), with a progress bar over the weight bytes when stderr is a terminal;
 * `dtype` holds the weights in a lower precision (opt-in).
 */
export async function loadModelFolder(
  dir: string,
  backend: BackendName,
  dtype?: LowerPrecisionDtype,
): Promise<LoadedModel> {
  await requireFolder(dir);
  const backendInfo = await useBackend(backend);
  const progress = progressBar(`loading ${dir}`);
  const start = performance.now();
  try {
    const pretrained = await fromPretrained(withReadProgress(folderFiles(dir), progress.update), { dtype });
    return { ...pretrained, dir, backend: backendInfo, loadMs: performance.now() - start };
  } finally {
    progress.finish();
  }
}

/** The folder's files, reporting bytes read from its safetensors files as they are read. */
function withReadProgress(files: ModelFiles, onBytes: (done: number, total: number) => void): ModelFiles {
  let total = 0;
  let done = 0;
  return {
    ...files,
    async open(name) {
      const source = await files.open(name);
      if (!name.endsWith('.safetensors')) return source;
      total += source.size;
      const counted: ByteSource = {
        size: source.size,
        async read(offset, length) {
          const bytes = await source.read(offset, length);
          done += bytes.length;
          onBytes(done, total);
          return bytes;
        },
      };
      return counted;
    },
  };
}

/** The folder's tokenizer; folders without tokenizer.json cannot turn text into ids. */
export function requireTokenizer(loaded: LoadedModel): NonNullable<LoadedModel['tokenizer']> {
  if (!loaded.tokenizer) {
    throw new InputFileError(`${loaded.dir} has no tokenizer.json: text in and out needs the tokenizer`);
  }
  return loaded.tokenizer;
}
