import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, SeededRandom } from '@tsformer/core-tensor';
import { type GenerateOptions, generate } from '@tsformer/decoding';
import type { Command } from 'commander';
import {
  addModelRunOptions,
  addOutputOptions,
  chosenBackend,
  type ModelRunOptions,
  type OutputOptions,
} from '../common-options.js';
import { DEFAULT_MODEL_DIR, type LoadedModel, loadModelFolder } from '../model-folder.js';
import { integerAtLeast } from '../option-parsers.js';
import { formatBytes, printJson } from '../output.js';
import type { SetStatus } from '../program.js';
import { progressBar } from '../progress-bar.js';

interface BenchOptions extends OutputOptions, ModelRunOptions {
  model?: string;
  promptTokens: number;
  newTokens: number;
  batch: number;
}

/** One measured generation. */
export interface BenchResult {
  model: string;
  backend: BackendName;
  batch: number;
  promptTokens: number;
  newTokens: number;
  loadMs: number;
  /** From the call to the first generated token: the prefill and one sampling step. */
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  /** Tokens after the first, over the time after the first. */
  decodeTokensPerSecond: number;
  totalMs: number;
  peakRssBytes: number;
  /** Tensors alive once generation has finished (the model's weights and kept tables). */
  tensorsAlive: number;
  /** Tensors alive after generation that were not before it: 0 unless something leaks. */
  tensorsLeaked: number;
}

export function registerBench(program: Command, _setStatus: SetStatus): void {
  const command = program
    .command('bench')
    .description(
      'time one greedy generation from a random prompt: time to first token, prefill and decode tokens/s, ' +
        'peak RSS, tensors alive at the end (after one untimed warm-up run)',
    )
    .option('--model <dir>', 'Hugging Face model folder (default: the bundled models/tiny-llama-docs)')
    .option('--prompt-tokens <n>', 'prompt length in tokens', integerAtLeast(1), 128)
    .option('--new-tokens <n>', 'tokens to generate (EOS does not stop the run)', integerAtLeast(1), 64)
    .option('--batch <n>', 'prompts generated together', integerAtLeast(1), 1);
  addModelRunOptions(command);
  addOutputOptions(command);
  command.action((options: BenchOptions) => runBench(options));
}

async function runBench(options: BenchOptions): Promise<void> {
  const dir = options.model ?? DEFAULT_MODEL_DIR;
  const loaded = await loadModelFolder(dir, chosenBackend(options.backend), options.dtype);
  try {
    const result = await measure(loaded, options);
    if (options.json) printJson(result);
    else printBench(result);
  } finally {
    loaded.model.dispose();
  }
}

async function measure(loaded: LoadedModel, options: BenchOptions): Promise<BenchResult> {
  const { promptTokens, newTokens, batch } = options;
  const random = new SeededRandom(0);
  const prompts = Array.from({ length: batch }, () =>
    Array.from({ length: promptTokens }, () => Math.floor(random.uniform() * loaded.model.vocabSize)),
  );
  // Greedy, no end-of-sequence token: every run generates exactly the tokens asked for.
  const settings: GenerateOptions = { doSample: false, numBeams: 1, eosTokenId: null };
  await runToEnd(loaded, prompts, { ...settings, maxNewTokens: 2 });

  const tensorsBefore = tf.memory().numTensors;
  const progress = progressBar(`generating ${newTokens} tokens`);
  const start = performance.now();
  let firstTokenMs = 0;
  let steps = 0;
  try {
    await runToEnd(loaded, prompts, { ...settings, maxNewTokens: newTokens }, () => {
      steps += 1;
      if (steps === 1) firstTokenMs = performance.now() - start;
      progress.update(steps, newTokens);
    });
  } finally {
    progress.finish();
  }
  const totalMs = performance.now() - start;
  const tensorsAlive = tf.memory().numTensors;
  return {
    model: loaded.dir,
    backend: loaded.backend.name,
    batch,
    promptTokens,
    newTokens,
    loadMs: loaded.loadMs,
    timeToFirstTokenMs: firstTokenMs,
    prefillTokensPerSecond: (batch * promptTokens) / (firstTokenMs / 1000),
    decodeTokensPerSecond: newTokens > 1 ? (batch * (newTokens - 1)) / ((totalMs - firstTokenMs) / 1000) : 0,
    totalMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    tensorsAlive,
    tensorsLeaked: tensorsAlive - tensorsBefore,
  };
}

async function runToEnd(
  loaded: LoadedModel,
  prompts: number[][],
  options: GenerateOptions,
  onStep: () => void = () => {},
): Promise<void> {
  const attentionMask = prompts.map((row) => row.map(() => 1));
  for await (const _step of generate(loaded.model, { inputIds: prompts, attentionMask }, options)) onStep();
}

function printBench(result: BenchResult): void {
  const lines: [string, string][] = [
    ['model', `${result.model} on ${result.backend}`],
    [
      'workload',
      `batch ${result.batch} × ${result.promptTokens} prompt tokens + ${result.newTokens} new tokens`,
    ],
    ['first token', `${result.timeToFirstTokenMs.toFixed(1)} ms`],
    ['prefill', `${result.prefillTokensPerSecond.toFixed(1)} tokens/s`],
    ['decode', `${result.decodeTokensPerSecond.toFixed(1)} tokens/s`],
    ['total', `${result.totalMs.toFixed(1)} ms (load ${result.loadMs.toFixed(1)} ms)`],
    ['peak RSS', formatBytes(result.peakRssBytes)],
    ['tensors', `${result.tensorsAlive} alive at the end, ${result.tensorsLeaked} leaked`],
  ];
  for (const [label, text] of lines) process.stdout.write(`${label.padEnd(13)}${text}\n`);
}
