import { type ByteSource, memoryByteSource } from '@tsformer/core-tensor';
import { ModelFileError } from './errors.js';

/**
 * Read access to the files of one Hugging Face model folder (config.json, safetensors, tokenizer
 * files). `fromPretrained` reads everything through this, so the same code loads a folder on disk
 * (`folderFiles`, Node), files fetched in a browser, or files held in memory (`filesInMemory`).
 */
export interface ModelFiles {
  /** The folder, for messages. */
  readonly location: string;
  /** Whether something is there by that name (on disk: even a directory or a broken link, which reading then reports). */
  has(name: string): Promise<boolean>;
  /**
   * A text file's contents; a `ModelFileError` when it is missing (on disk, a `FileAccessError`
   * when the name is a directory, FIFO, device, broken link or unreadable).
   */
  readText(name: string): Promise<string>;
  /** Random access to a (large) file: safetensors are read one tensor at a time. Fails as `readText`. */
  open(name: string): Promise<ByteSource>;
  /** Where `name` lives (a path or URL), for messages. */
  path(name: string): string;
}

/** Reads and parses a JSON file of the folder; a `ModelFileError` names the file when it is not JSON. */
export async function readJsonFile(files: ModelFiles, name: string): Promise<unknown> {
  const text = await files.readText(name);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`${files.path(name)} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A model folder held in memory: file name → text or bytes (tests, files the user dropped on a page). */
export function filesInMemory(
  contents: Readonly<Record<string, string | Uint8Array>>,
  location = 'model files in memory',
): ModelFiles {
  const files = new Map(Object.entries(contents));
  const get = (name: string): string | Uint8Array => {
    const file = files.get(name);
    if (file === undefined) throw new ModelFileError(`${location}/${name} does not exist`);
    return file;
  };
  return {
    location,
    has: async (name) => files.has(name),
    readText: async (name) => {
      const file = get(name);
      return typeof file === 'string' ? file : new TextDecoder().decode(file);
    },
    open: async (name) => {
      const file = get(name);
      return memoryByteSource(typeof file === 'string' ? new TextEncoder().encode(file) : file);
    },
    path: (name) => `${location}/${name}`,
  };
}
