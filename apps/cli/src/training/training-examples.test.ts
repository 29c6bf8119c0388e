import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputFileError } from '../cli-errors.js';
import { readTextExamples, TrainingDataError } from './training-examples.js';

const folder = mkdtempSync(join(tmpdir(), 'tsformer-data-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

/** The TrainingDataError `readTextExamples(path)` throws. */
async function failure(path: string): Promise<TrainingDataError> {
  const error = await readTextExamples(path).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(TrainingDataError);
  return error as TrainingDataError;
}

describe('readTextExamples', () => {
  it('reads a text file as one example per non-empty line, with line numbers', async () => {
    const examples = await readTextExamples(file('a.txt', 'first line\n\n  \nsecond line\n'));
    expect(examples).toEqual([
      { kind: 'text', line: 1, text: 'first line' },
      { kind: 'text', line: 4, text: 'second line' },
    ]);
  });

  it('reads the three JSONL shapes', async () => {
    const text = await readTextExamples(file('t.jsonl', '{"text": "hello"}\n'));
    expect(text).toEqual([{ kind: 'text', line: 1, text: 'hello' }]);
    const completion = await readTextExamples(file('p.jsonl', '\n{"prompt": "Q:", "completion": " A"}\n'));
    expect(completion).toEqual([{ kind: 'prompt-completion', line: 2, prompt: 'Q:', completion: ' A' }]);
    const translation = await readTextExamples(
      file('s.jsonl', '{"source": "hi", "target": "salut", "id": 3}\n'),
    );
    expect(translation).toEqual([{ kind: 'source-target', line: 1, source: 'hi', target: 'salut' }]);
  });

  it('names the file and line of bad data', async () => {
    const empty = await failure(file('empty.jsonl', '\n \n'));
    expect(empty.message).toBe(`${folder}/empty.jsonl: no training examples (the file is empty)`);

    const malformed = await failure(file('bad.jsonl', '{"text": "a"}\n{"text": "b"}\n{"text": "c",\n'));
    expect(malformed.line).toBe(3);
    expect(malformed.message).toMatch(new RegExp(`^${folder}/bad.jsonl:3: not valid JSON`));

    const missing = await failure(
      file('missing.jsonl', '{"prompt": "a", "completion": "b"}\n{"prompt": "c"}\n'),
    );
    expect(missing.message).toBe(
      `${folder}/missing.jsonl:2: "completion" must be a string, got nothing (the field is missing)`,
    );

    const unknown = await failure(file('unknown.jsonl', '{"content": "a"}\n'));
    expect(unknown.message).toMatch(
      /:1: needs a "text" field, "prompt" and "completion", or "source" and "target" \(found "content"\)/,
    );

    const notObject = await failure(file('list.jsonl', '["a"]\n'));
    expect(notObject.message).toMatch(/list.jsonl:1: each line must be a JSON object/);

    const mixed = await failure(file('mixed.jsonl', '{"text": "a"}\n{"source": "b", "target": "c"}\n'));
    expect(mixed.message).toMatch(/mixed.jsonl:2: a source-target example after text ones \(line 1\)/);
  });

  it('reports a missing file as an InputFileError', async () => {
    await expect(readTextExamples(join(folder, 'nope.txt'))).rejects.toThrow(InputFileError);
  });
});
