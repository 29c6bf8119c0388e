// Mutations of a JSON file as a whole (config.json, tokenizer files, generation_config.json, the shard
// index): text that is not JSON, JSON that is not an object, nesting deep enough to break a recursive
// reader, encodings Hugging Face would refuse.
import { accept, contents, either, type Mutation, mutation, readerLevel, reject } from './corpus-case.js';

/** Deep enough to overflow any recursive walk of the value (V8's JSON.parse itself copes). */
export const DEEP_NESTING = 100_000;

/** `[[[...]]]`, `depth` arrays deep. */
export function nestedArrays(depth = DEEP_NESTING): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** `{"a":{"a":...1}}`, `depth` objects deep. */
export function nestedObjects(depth = DEEP_NESTING): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** The mutations of `file`, whose fixture text is `original` (a JSON object). */
export function jsonFileMutations(file: string, original: string): Mutation[] {
  const text = (label: string, value: () => string, expect = reject(file)) =>
    mutation(file, label, contents(value), expect);
  const object = JSON.parse(original) as Record<string, unknown>;
  const inner = original.trim().slice(1); // everything after the opening brace
  return [
    text('not JSON at all', () => 'this is not JSON\n'),
    text('an empty file', () => ''),
    text('only whitespace', () => ' \n\t\n'),
    text('truncated after 10% of its text', () => original.slice(0, Math.floor(original.length * 0.1))),
    text('truncated after half of its text', () => original.slice(0, Math.floor(original.length / 2))),
    text('missing its closing brace', () => original.trimEnd().slice(0, -1)),
    text('a trailing comma before the closing brace', () => `${original.trimEnd().slice(0, -1)},}`),
    text('a // comment before the JSON', () => `// written by hand\n${original}`),
    text('a JSON array', () => '[]', reject(file, /array|list/i)),
    text('an array holding the object', () => `[${original}]`, reject(file, /array|list/i)),
    text('JSON null', () => 'null', reject(file, /null/)),
    text('a JSON number', () => '42'),
    text('a JSON string', () => '"config"'),
    text('JSON true', () => 'true'),
    text(`${DEEP_NESTING} nested arrays`, nestedArrays),
    // An object after all: one unknown field, deep. Files whose fields are all optional may take it.
    text(`${DEEP_NESTING} nested objects`, nestedObjects, either('baseline', file)),
    text(
      `an extra field nested ${DEEP_NESTING} arrays deep`,
      () => `{"corpus_deep":${nestedArrays()},${inner}`,
      either('baseline', file),
    ),
    text('a UTF-8 byte-order mark before the JSON', () => `\ufeff${original}`, either('baseline', file)),
    mutation(
      file,
      'encoded as UTF-16LE',
      contents(() => new Uint8Array(Buffer.from(`\ufeff${original}`, 'utf16le'))),
      reject(file),
    ),
    mutation(
      file,
      'invalid UTF-8 in an extra field name',
      contents(() => [
        new TextEncoder().encode('{"corpus_'),
        new Uint8Array([0xff, 0xfe]),
        new TextEncoder().encode(`":1,${inner}`),
      ]),
      either('baseline', file),
    ),
    text(
      'NaN as an extra field (Python writes it, JSON has no NaN)',
      () => `{"corpus_nan":NaN,${inner}`,
      either('baseline', file),
    ),
    text(
      'on one line, keys in reverse order',
      () => JSON.stringify(Object.fromEntries(Object.entries(object).reverse())),
      accept(),
    ),
    text('an unknown extra field', () => `{"corpus_unknown_field":{"nested":[1,2,3]},${inner}`, accept()),
  ].map(readerLevel);
}
