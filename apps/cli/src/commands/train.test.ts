import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, useBackend } from '@tsformer/core-tensor';
import { fromPretrained, type PretrainedCausalLM } from '@tsformer/models';
import { Trainer } from '@tsformer/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli } from '../../test/run-cli.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../cli-errors.js';
import { readDataset, type TrainCommandOptions, trainerOptions } from './train.js';

const folder = mkdtempSync(join(tmpdir(), 'tsformer-train-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
});

const DOCSTRINGS = [
  'Return the number of elements along each dimension of the array.',
  'Compute the arithmetic mean along the specified axis, ignoring NaNs.',
  'Return a new array of given shape and type, filled with zeros.',
  'Split an array into multiple sub-arrays of equal size.',
  'Return the indices of the maximum values along an axis.',
  'Join a sequence of arrays along an existing axis.',
].join('\n');

function file(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

/** The tensor names of a safetensors file, from its header. */
function headerNames(path: string): string[] {
  const bytes = readFileSync(path);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  return Object.keys(header).filter((name) => name !== '__metadata__');
}

async function logitsOf(model: PretrainedCausalLM): Promise<Float32Array> {
  const ids = tf.tensor2d([[5, 81, 302, 17, 1024, 9, 44]], [1, 7], 'int32');
  const output = model.forward(ids);
  const values = (await output.logits.data()) as Float32Array;
  tf.dispose([ids, output]);
  return values;
}

describe('tsformer train', () => {
  it('fine-tunes tiny-llama-docs into a folder that loads back with the in-memory model’s logits, tied weights once', async () => {
    const data = file('docs.txt', DOCSTRINGS);
    const out = join(folder, 'tiny');
    const args = [
      '--data',
      data,
      '--out',
      out,
      '--max-steps',
      '3',
      '--batch-size',
      '2',
      '--block-size',
      '16',
    ];
    const run = runCli(['train', '--model', BUNDLED_MODEL, ...args, '--lr', '1e-3', '--seed', '5']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // Piped: one JSON line per step, then the summary.
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.kind)).toEqual(['train', 'train', 'train', 'done']);
    expect(lines[0]).toMatchObject({ step: 1, learning_rate: 1e-3 });
    expect(lines[0].tokens_per_second).toBeGreaterThan(0);
    expect(existsSync(join(out, 'loss-curve.svg'))).toBe(true);
    expect(existsSync(join(out, 'checkpoint-3', 'optimizer.safetensors'))).toBe(true);

    // The tied table is one tensor in the file, under the name HF keeps.
    const names = headerNames(join(out, 'model.safetensors'));
    expect(names).toContain('model.embed_tokens.weight');
    expect(names).not.toContain('lm_head.weight');

    // The same run in memory, through the command's own data and trainer settings.
    const options: TrainCommandOptions = {
      data,
      out: join(folder, 'unused'),
      epochs: 3,
      maxSteps: 3,
      lr: 1e-3,
      weightDecay: 0,
      batchSize: 2,
      gradAccum: 1,
      scheduler: 'linear',
      warmupSteps: 0,
      maxGradNorm: 1,
      blockSize: 16,
      seed: 5,
    };
    const tensorsBefore = tf.memory().numTensors;
    // Both on tfjs's ops (a trainable model never takes the CPU kernels, whose summation order differs
    // from tfjs's in the last bits): the saved weights must give bit-identical logits.
    const inMemory = await fromPretrained(BUNDLED_MODEL, { cpuKernels: false });
    const trainer = new Trainer(
      inMemory,
      await readDataset(data, options, inMemory, inMemory.tokenizer!),
      trainerOptions(options),
    );
    await trainer.train();
    const losses = trainer.state.logHistory.map((entry) => entry.loss);
    expect(lines.slice(0, 3).map((line) => line.loss)).toEqual(losses);
    const saved = await fromPretrained(out, { cpuKernels: false });
    const model = inMemory.model as PretrainedCausalLM;
    expect(await logitsOf(saved.model as PretrainedCausalLM)).toEqual(await logitsOf(model));
    trainer.optimizer.dispose();
    inMemory.model.dispose();
    saved.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('resumed from a checkpoint, writes the same model as the uninterrupted run', () => {
    const data = file(
      'resume.jsonl',
      DOCSTRINGS.split('\n')
        .map((text) => JSON.stringify({ text }))
        .join('\n'),
    );
    const common = [
      'train',
      '--model',
      `${FIXTURES}/llama`,
      '--data',
      data,
      '--max-steps',
      '4',
      '--batch-size',
      '2',
    ];
    const straight = join(folder, 'straight');
    expect(
      runCli([...common, '--out', straight, '--save-steps', '2', '--grad-accum', '2', '--lr', '1e-3']).status,
    ).toBe(0);
    const resumed = join(folder, 'resumed');
    const again = runCli([
      ...common,
      '--out',
      resumed,
      '--resume',
      join(straight, 'checkpoint-2'),
      '--grad-accum',
      '2',
      '--lr',
      '1e-3',
    ]);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout.trim().split('\n')[0]!).step).toBe(3);
    expect(readFileSync(join(resumed, 'model.safetensors'))).toEqual(
      readFileSync(join(straight, 'model.safetensors')),
    );
  });

  it('trains an encoder-decoder on source/target pairs, with evaluation loss and perplexity', () => {
    const pairs = ['one two', 'three four', 'five six'].map((source, i) =>
      JSON.stringify({ source, target: `${source} ${i}` }),
    );
    const data = file('pairs.jsonl', pairs.join('\n'));
    const out = join(folder, 'bart');
    const run = runCli([
      'train',
      '--model',
      `${FIXTURES}/bart`,
      '--data',
      data,
      '--eval-data',
      data,
      '--out',
      out,
      '--max-steps',
      '2',
      '--batch-size',
      '2',
    ]);
    expect(run.stderr).toBe('');
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.kind)).toEqual(['train', 'train', 'eval', 'done']);
    expect(lines[2].perplexity).toBeCloseTo(Math.exp(lines[2].loss), 6);
    expect(lines[3].evalLoss).toBe(lines[2].loss);
    expect(headerNames(join(out, 'model.safetensors'))).toContain('model.shared.weight');
    expect(headerNames(join(out, 'model.safetensors'))).not.toContain('lm_head.weight');
  });

  it('names the file and line of bad data, and refuses bad options', () => {
    const model = ['--model', `${FIXTURES}/llama`, '--out', join(folder, 'bad')];
    const malformed = file('bad.jsonl', '{"text": "a"}\n\n{"text": b}\n');
    const run = runCli(['train', ...model, '--data', malformed]);
    expect(run.status).toBe(EXIT_FAILURE);
    expect(run.stderr).toMatch(new RegExp(`^tsformer: ${malformed}:3: not valid JSON \\(.*\\)\\n$`));

    const long = file('long.jsonl', `{"text": "${'tensor '.repeat(400)}"}\n`);
    const tooLong = runCli(['train', ...model, '--data', long, '--batching', 'pad']);
    expect(tooLong.status).toBe(EXIT_FAILURE);
    expect(tooLong.stderr).toMatch(
      new RegExp(`^tsformer: ${long}:1: \\d+ tokens, but the model takes at most 128 positions\\n$`),
    );

    const empty = runCli(['train', ...model, '--data', file('empty.txt', '')]);
    expect(empty.stderr).toMatch(/empty.txt: no training examples \(the file is empty\)/);
    expect(runCli(['train', ...model, '--data', malformed, '--scheduler', 'step']).status).toBe(EXIT_USAGE);
  });
});
