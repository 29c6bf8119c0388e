import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../test/run-cli.js';
import { EXIT_FAILURE, EXIT_USAGE } from './cli-errors.js';

const LLAMA = `${FIXTURES}/llama`;
let root: string;

/** A copy of the llama fixture's small files in `name`, with `edit` applied (model.safetensors optional). */
function badFolder(name: string, edit: (dir: string) => void, weights = true): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const file of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(join(LLAMA, file), join(dir, file));
  }
  if (weights) copyFileSync(join(LLAMA, 'model.safetensors'), join(dir, 'model.safetensors'));
  edit(dir);
  return dir;
}

const editConfig = (dir: string, change: Record<string, unknown>) => {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...change }));
};

const folders: Record<string, string> = {};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tsformer-errors-'));
  const weights = readFileSync(join(LLAMA, 'model.safetensors'));
  folders.malformedConfig = badFolder('malformed-config', (dir) =>
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama",'),
  );
  folders.unknownType = badFolder('unknown-type', (dir) => editConfig(dir, { model_type: 'falcon' }));
  folders.badField = badFolder('bad-field', (dir) => editConfig(dir, { num_attention_heads: -3 }));
  folders.truncated = badFolder('truncated', (dir) =>
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, weights.length - 1000)),
  );
  folders.truncatedHeader = badFolder('truncated-header', (dir) =>
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, 100)),
  );
  folders.garbage = badFolder('garbage', (dir) =>
    writeFileSync(join(dir, 'model.safetensors'), 'this is not a safetensors file'),
  );
  folders.noWeights = badFolder('no-weights', () => {}, false);
  folders.notReference = join(root, 'not-reference');
  mkdirSync(folders.notReference);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** [what, arguments, exit status, what stderr must say]. */
const CASES: [string, () => string[], number, RegExp][] = [
  [
    'a missing model folder',
    () => ['generate', '--model', join(root, 'nowhere')],
    EXIT_FAILURE,
    /nowhere does not exist/,
  ],
  [
    'a missing config file',
    () => ['inspect', '--config', join(root, 'nowhere.json')],
    EXIT_FAILURE,
    /nowhere\.json: no such file/,
  ],
  [
    'a malformed config.json',
    () => ['generate', '--model', folders.malformedConfig!],
    EXIT_FAILURE,
    /malformed-config\/config\.json: not valid JSON/,
  ],
  [
    'a malformed config.json (inspect)',
    () => ['inspect', '--model', folders.malformedConfig!],
    EXIT_FAILURE,
    /config\.json: not valid JSON/,
  ],
  [
    'an unknown model_type',
    () => ['generate', '--model', folders.unknownType!],
    EXIT_FAILURE,
    /unknown model_type "falcon"; supported model types: .*llama/,
  ],
  [
    'an unknown model_type (inspect --config)',
    () => ['inspect', '--config', join(folders.unknownType!, 'config.json')],
    EXIT_FAILURE,
    /unknown model_type "falcon"/,
  ],
  [
    'an invalid config field',
    () => ['generate', '--model', folders.badField!],
    EXIT_FAILURE,
    /num_attention_heads must be a positive integer up to 16384, got -3/,
  ],
  [
    'a truncated safetensors file',
    () => ['generate', '--model', folders.truncated!],
    EXIT_FAILURE,
    /truncated\/model\.safetensors: .*run past the end/,
  ],
  [
    'a truncated safetensors header',
    () => ['inspect', '--model', folders.truncatedHeader!],
    EXIT_FAILURE,
    /model\.safetensors: header length \d+ runs past the end of the file/,
  ],
  [
    'a model folder without reference.json',
    () => ['check-parity', folders.garbage!],
    EXIT_FAILURE,
    /not a reference folder/,
  ],
  [
    'a malformed safetensors file (generate)',
    () => ['generate', '--model', folders.garbage!],
    EXIT_FAILURE,
    /garbage\/model\.safetensors: header length/,
  ],
  [
    'a folder without weights',
    () => ['bench', '--model', folders.noWeights!],
    EXIT_FAILURE,
    /holds neither model\.safetensors nor/,
  ],
  [
    'a folder that is not a reference folder',
    () => ['check-parity', folders.notReference!],
    EXIT_FAILURE,
    /not a reference folder/,
  ],
  [
    '--top-p 2',
    () => ['generate', '--top-p', '2'],
    EXIT_USAGE,
    /--top-p: .*top_p.* must be a number in \(0, 1\], got 2/,
  ],
  [
    '--num-beams 0',
    () => ['generate', '--num-beams', '0'],
    EXIT_USAGE,
    /--num-beams: .*must be an integer >= 1, got 0/,
  ],
  [
    '--backend foo',
    () => ['generate', '--backend', 'foo'],
    EXIT_USAGE,
    /'--backend <name>' argument 'foo' is invalid\. Allowed choices are wasm, cpu/,
  ],
  [
    '--temperature 0 with sampling',
    () => ['generate', '--do-sample', '--temperature', '0'],
    EXIT_USAGE,
    /--temperature: .*> 0 when sampling/,
  ],
  [
    '--num-return-sequences above --num-beams',
    () => ['generate', '--num-beams', '2', '--num-return-sequences', '3'],
    EXIT_USAGE,
    /--num-return-sequences: .*at most numBeams \(2\)/,
  ],
  [
    '--cache-implementation foo',
    () => ['generate', '--cache-implementation', 'foo'],
    EXIT_USAGE,
    /--cache-implementation: .*must be "dynamic" or "static", got "foo"/,
  ],
  [
    '--max-new-tokens abc',
    () => ['generate', '--max-new-tokens', 'abc'],
    EXIT_USAGE,
    /'--max-new-tokens <n>' argument 'abc' is invalid\. Expected an integer/,
  ],
  [
    '--eos-token-id a,b',
    () => ['generate', '--eos-token-id', 'a,b'],
    EXIT_USAGE,
    /Expected comma-separated token ids/,
  ],
  [
    '--early-stopping maybe',
    () => ['generate', '--early-stopping', 'maybe'],
    EXIT_USAGE,
    /Expected true, false or never/,
  ],
  [
    '--atol -1',
    () => ['check-parity', `${FIXTURES}/processors`, '--atol', '-1'],
    EXIT_USAGE,
    /Expected a number >= 0/,
  ],
  ['--batch 0', () => ['bench', '--batch', '0'], EXIT_USAGE, /Expected an integer >= 1/],
  [
    'chat with --num-beams 2',
    () => ['chat', '--num-beams', '2'],
    EXIT_USAGE,
    /chat generates one reply per turn/,
  ],
  ['chat with --no-cache', () => ['chat', '--no-cache'], EXIT_USAGE, /chat keeps the KV cache across turns/],
  [
    'inspect without --model or --config',
    () => ['inspect'],
    EXIT_USAGE,
    /inspect needs --model DIR or --config FILE/,
  ],
  [
    'inspect with both --model and --config',
    () => ['inspect', '--model', LLAMA, '--config', 'x.json'],
    EXIT_USAGE,
    /cannot be used with option '--config/,
  ],
  [
    'an unknown option',
    () => ['generate', '--top-q', '1'],
    EXIT_USAGE,
    /unknown option '--top-q' \(Did you mean one of --top-k, --top-p\?\)/,
  ],
  ['an unknown command', () => ['translate'], EXIT_USAGE, /unknown command 'translate'/],
];

describe('bad input: one clear line on stderr, no stack trace, nonzero exit', () => {
  it.each(CASES)('%s', (_what, args, status, message) => {
    const run = runCli(args());
    expect(run.status).toBe(status);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^tsformer: [^\n]+\n$/);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the stack trace with --debug', () => {
    const run = runCli(['generate', '--model', folders.truncated!, '--debug']);
    expect(run.status).toBe(EXIT_FAILURE);
    expect(run.stderr).toMatch(/^tsformer: [^\n]+run past the end/);
    expect(run.stderr).toMatch(/SafetensorsError: .*\n\s+at /);
  });
});
