import { FileAccessError, readTextFile } from '@tsformer/core-tensor';
import { InputFileError } from './cli-errors.js';

/**
 * Reads and parses a JSON file; a missing file or bad JSON is an InputFileError naming the file.
 * Only a regular file is read: a directory, FIFO (which would hang), device or broken link is a
 * FileAccessError saying what the path is.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    if (error instanceof FileAccessError && error.found === 'missing') {
      throw new InputFileError(`${path}: no such file`, { cause: error });
    }
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputFileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Reads a JSON file that must hold an object (config.json, reference.json, ...). */
export async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  const value = await readJsonFile(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
    throw new InputFileError(`${path} must be a JSON object, got ${got}`);
  }
  return value as Record<string, unknown>;
}
