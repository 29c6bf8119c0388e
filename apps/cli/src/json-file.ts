import { readFile } from 'node:fs/promises';
import { InputFileError } from './cli-errors.js';

/** Reads and parses a JSON file; a missing file or bad JSON is an InputFileError naming the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputFileError(`${path}: no such file`);
    if (code === 'EISDIR') throw new InputFileError(`${path}: is a folder, expected a JSON file`);
    throw new InputFileError(`${path}: cannot be read (${(error as Error).message})`);
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
    throw new InputFileError(
      `${path}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}
