import { FileAccessError, readTextFile, TsformerError } from '@tsformer/core-tensor';
import { InputFileError } from '../cli-errors.js';

/** A training data file that cannot be used as it is: the message names the file and line. */
export class TrainingDataError extends TsformerError {
  override name = 'TrainingDataError';

  constructor(
    readonly path: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${path}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}

/** One example of a data file, as text, with the line it came from. */
export type TextExample =
  | { kind: 'text'; line: number; text: string }
  | { kind: 'prompt-completion'; line: number; prompt: string; completion: string }
  | { kind: 'source-target'; line: number; source: string; target: string };

/** The three shapes a JSONL line may take, by their fields. */
const FIELD_PAIRS = [
  ['prompt', 'completion'],
  ['source', 'target'],
] as const;

/**
 * The examples of a training data file: a `.jsonl` file holds one JSON object per line with `text`,
 * `prompt` + `completion`, or `source` + `target`; any other file is plain text, one example per
 * non-empty line. Blank lines are skipped. An empty file, a line that is not JSON or not an object, a
 * missing or non-string field, or lines of different shapes are `TrainingDataError`s naming the line.
 */
export async function readTextExamples(path: string): Promise<TextExample[]> {
  const content = await readDataFile(path);
  const lines = content.split(/\r?\n/);
  const jsonl = /\.jsonl$/i.test(path);
  const examples: TextExample[] = [];
  for (const [index, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    const line = index + 1;
    examples.push(jsonl ? parseJsonLine(path, line, raw) : { kind: 'text', line, text: raw });
  }
  if (examples.length === 0)
    throw new TrainingDataError(path, undefined, 'no training examples (the file is empty)');
  const first = examples[0]!;
  const different = examples.find((example) => example.kind !== first.kind);
  if (different) {
    throw new TrainingDataError(
      path,
      different.line,
      `a ${different.kind} example after ${first.kind} ones (line ${first.line}): one shape per file`,
    );
  }
  return examples;
}

async function readDataFile(path: string): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (error) {
    if (error instanceof FileAccessError && error.found === 'missing') {
      throw new InputFileError(`${path}: no such file`, { cause: error });
    }
    throw error;
  }
}

function parseJsonLine(path: string, line: number, raw: string): TextExample {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new TrainingDataError(path, line, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrainingDataError(path, line, 'each line must be a JSON object');
  }
  const object = value as Record<string, unknown>;
  const text = (field: string): string => {
    const entry = object[field];
    if (typeof entry !== 'string') {
      throw new TrainingDataError(path, line, `"${field}" must be a string, got ${describe(entry)}`);
    }
    return entry;
  };
  if ('text' in object) return { kind: 'text', line, text: text('text') };
  for (const [first, second] of FIELD_PAIRS) {
    if (first in object || second in object) {
      const [a, b] = [text(first), text(second)];
      return first === 'prompt'
        ? { kind: 'prompt-completion', line, prompt: a, completion: b }
        : { kind: 'source-target', line, source: a, target: b };
    }
  }
  throw new TrainingDataError(
    path,
    line,
    `needs a "text" field, "prompt" and "completion", or "source" and "target" (found ${
      Object.keys(object)
        .map((key) => `"${key}"`)
        .join(', ') || 'no field'
    })`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : typeof value;
}
