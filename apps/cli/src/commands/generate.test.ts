import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli, runCliJson } from '../../test/run-cli.js';

interface GenerateJson {
  prompt: string;
  promptTokens: number;
  search: string;
  sequences: { text: string; tokenIds: number[]; score?: number }[];
}

/** Hugging Face's own generate results for the bundled model (prompt ids, sequences, beam scores). */
const reference = JSON.parse(readFileSync(`${BUNDLED_MODEL}/reference.json`, 'utf8')) as {
  generate: { name: string; input_ids: number[][]; sequences: number[][]; sequences_scores?: number[] }[];
};
const hfCase = (name: string) => reference.generate.find((entry) => entry.name === name)!;
const PROMPT = 'Return the number of'; // reference prompt 0: ids [0, 463, 271, 667, 290]

describe('tsformer generate', () => {
  it('with no arguments, from any directory, continues the default prompt with the bundled model', () => {
    const run = runCli(['generate']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const json = runCliJson<GenerateJson>(['generate', '--max-new-tokens', '64']);
    expect(json.prompt).toBe(PROMPT);
    expect(json.sequences[0]!.tokenIds).toHaveLength(64);
    expect(run.stdout).toBe(`${PROMPT}${json.sequences[0]!.text}\n`);
  });

  it("reproduces Hugging Face's greedy tokens", () => {
    const greedy = hfCase('greedy_0');
    const json = runCliJson<GenerateJson>(['generate', '--prompt', PROMPT, '--max-new-tokens', '40']);
    expect(json.promptTokens).toBe(greedy.input_ids[0]!.length);
    expect(json.search).toBe('greedy');
    expect(json.sequences[0]!.tokenIds).toEqual(greedy.sequences[0]!.slice(greedy.input_ids[0]!.length));
  });

  it('gives the same greedy tokens with a static cache', () => {
    const greedy = hfCase('greedy_0');
    const args = [
      'generate',
      '--prompt',
      PROMPT,
      '--max-new-tokens',
      '40',
      '--cache-implementation',
      'static',
    ];
    const json = runCliJson<GenerateJson>(args);
    expect(json.sequences[0]!.tokenIds).toEqual(greedy.sequences[0]!.slice(5));
  });

  it("reproduces Hugging Face's beam search (num_beams 4, no_repeat_ngram_size 3) and its score", () => {
    const beam = hfCase('beam4_norepeat3_0');
    const json = runCliJson<GenerateJson>([
      'generate',
      '--prompt',
      PROMPT,
      '--max-new-tokens',
      '30',
      '--num-beams',
      '4',
      '--no-repeat-ngram-size',
      '3',
      '--early-stopping',
    ]);
    expect(json.search).toBe('beam');
    expect(json.sequences[0]!.tokenIds).toEqual(beam.sequences[0]!.slice(5));
    expect(Math.abs(json.sequences[0]!.score! - beam.sequences_scores![0]!)).toBeLessThan(1e-4);
  });

  it('prints beam search results at the end, one block per returned sequence', () => {
    const run = runCli([
      'generate',
      '--num-beams',
      '3',
      '--num-return-sequences',
      '2',
      '--max-new-tokens',
      '6',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout.match(/^--- sequence \d \(score -?\d+\.\d+\)$/gm)).toHaveLength(2);
  });

  it('reads the prompt from stdin when it is piped', () => {
    const json = runCliJson<GenerateJson>(['generate', '--max-new-tokens', '3'], {
      input: 'Compute the mean\n',
    });
    expect(json.prompt).toBe('Compute the mean');
  });

  it('stops at a given --eos-token-id and at a --stop string', () => {
    // HF's greedy continuation of the prompt starts with ids 2057, 1223, 443 (" special tokens that").
    const eos = runCliJson<GenerateJson>(['generate', '--prompt', PROMPT, '--eos-token-id', '443']);
    expect(eos.sequences[0]!.tokenIds).toEqual([2057, 1223, 443]);
    const stop = runCliJson<GenerateJson>(['generate', '--prompt', PROMPT, '--stop', 'tokens']);
    expect(stop.sequences[0]!.text).toBe(' special tokens');
  });

  it('samples reproducibly with --seed', () => {
    const args = [
      'generate',
      '--do-sample',
      '--top-k',
      '20',
      '--temperature',
      '1.3',
      '--max-new-tokens',
      '12',
    ];
    const first = runCliJson<GenerateJson>([...args, '--seed', '7']);
    const again = runCliJson<GenerateJson>([...args, '--seed', '7']);
    expect(first.search).toBe('sample');
    expect(again.sequences[0]!.tokenIds).toEqual(first.sequences[0]!.tokenIds);
  });
});

describe('tsformer generate refuses what cannot work, up front', () => {
  it('fails before producing anything when prompt + new tokens pass a learned position table (gpt2)', () => {
    const run = runCli(['generate', '--model', `${FIXTURES}/gpt2`, '--max-new-tokens', '100']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'tsformer: the prompt (4 tokens) plus up to 100 new tokens needs 104 positions, but the model has 64 ' +
        '(a learned position table): shorten the prompt or lower maxNewTokens / maxLength\n',
    );
    const fits = runCliJson<GenerateJson>([
      'generate',
      '--model',
      `${FIXTURES}/gpt2`,
      '--max-new-tokens',
      '60',
    ]);
    expect(fits.sequences[0]!.tokenIds).toHaveLength(60);
  });

  it('warns once and goes on past the positions of a rotary model (tiny-llama-docs)', () => {
    const run = runCli(['generate', '--max-new-tokens', '510', '--min-new-tokens', '510', '--json']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      'tsformer: warning: the prompt (5 tokens) plus up to 510 new tokens needs 515 positions, but the model has 512: ' +
        'its rotary positions extrapolate past them, and quality may degrade\n',
    );
    expect((JSON.parse(run.stdout) as GenerateJson).sequences[0]!.tokenIds).toHaveLength(510);
  });

  it('reads counts only in decimal digits', () => {
    const run = runCli(['generate', '--max-new-tokens', '0x10']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      "tsformer: option '--max-new-tokens <n>' argument '0x10' is invalid. Expected an integer in decimal digits.\n",
    );
  });

  it.each([
    ['--eos-token-id', '2,4096', '`eosTokenId` (eos_token_id) 4096'],
    ['--pad-token-id', '5000', '`padTokenId` (pad_token_id) 5000'],
    ['--suppress-tokens', '7,4100', '`suppressTokens` (suppress_tokens) 4100'],
  ])('refuses %s %s past the vocabulary, naming the flag', (flag, value, named) => {
    const run = runCli(['generate', flag, value]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`tsformer: ${flag}: ${named} is outside the 4096-token vocabulary\n`);
  });

  it("refuses generation_config.json's token ids past the vocabulary, naming the file and field", () => {
    const folder = mkdtempSync(join(tmpdir(), 'tsformer-vocab-'));
    try {
      for (const file of readdirSync(BUNDLED_MODEL)) {
        if (file !== 'generation_config.json') symlinkSync(join(BUNDLED_MODEL, file), join(folder, file));
      }
      const generationConfig = join(folder, 'generation_config.json');
      for (const [field, value] of [
        ['eos_token_id', [0, 4096]],
        ['pad_token_id', 9999],
        ['suppress_tokens', [4097]],
        ['bad_words_ids', [[1, 5000]]],
      ] as const) {
        writeFileSync(generationConfig, JSON.stringify({ bos_token_id: 0, eos_token_id: 0, [field]: value }));
        for (const command of ['generate', 'chat']) {
          const run = runCli([command, '--model', folder]);
          expect(run.status).toBe(1);
          expect(run.stderr).toMatch(
            new RegExp(
              `^tsformer: ${generationConfig}: \`\\w+\` \\(${field}\\) \\d+ is outside the 4096-token vocabulary\n$`,
            ),
          );
        }
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
