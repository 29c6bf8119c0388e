// tsformer benchmarks. Usage (after `node build.mjs`):
//   node bench-dist/bench.cjs [--backend wasm|cpu|webgpu|tensorflow] [--suite parity|decoder|generate|seq2seq|all]
//                             [--quick] [--out bench/results]
// Figures are written as JSON to the results folder (one file per suite and backend) and printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, useBackend } from '@tsformer/core-tensor';
import { type CausalLM, parseGenerationConfig } from '@tsformer/decoding';
import { fromPretrained } from '@tsformer/models';
import { describeMachine, type MachineInfo } from './machine.js';
import { measureForwardDecode, promptOfLength } from './measure.js';
import { checkBundledModelParity } from './parity.js';
import { BART_BASE, ensureRandomModel, GPT2_124M } from './random-model.js';
import { measureSeq2Seq } from './seq2seq.js';
import { measureStrategies } from './strategies.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    suite: { type: 'string', default: 'all' },
    quick: { type: 'boolean', default: false },
    // The cache generate uses (HF cache_implementation); the decoder suite measures both.
    cache: { type: 'string', default: 'dynamic' },
    out: { type: 'string', default: join(__dirname, '..', 'results') },
    repo: { type: 'string', default: join(__dirname, '..', '..') },
    scratch: { type: 'string', default: join(tmpdir(), 'tsformer-bench') },
  },
});
const repo = resolve(args.repo);
const tinyLlama = join(repo, 'models/tiny-llama-docs');
const sampleText = 'Return the number of elements along a given axis of the array.';

async function main(): Promise<void> {
  const backend = await useBackend(args.backend as BackendName, { wasmPaths: `${__dirname}/` });
  const machine = describeMachine(backend);
  const suites = args.suite === 'all' ? ['parity', 'decoder', 'generate', 'seq2seq'] : [args.suite];
  for (const suite of suites) {
    const started = Date.now();
    const results = await runSuite(suite);
    record(suite, machine, results, Date.now() - started);
  }
}

async function runSuite(suite: string): Promise<unknown> {
  const promptTokens = args.quick ? 32 : 128;
  const newTokens = args.quick ? 16 : 64;
  if (suite === 'parity') return checkBundledModelParity(tinyLlama);
  if (suite === 'decoder') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    const rows = [];
    for (const [name, folder] of [
      ['tiny-llama-docs', tinyLlama],
      ['gpt2-124m-random-fp32', gpt2],
    ] as const) {
      const loadStart = performance.now();
      const { model, tokenizer } = await fromPretrained(folder);
      const loadMs = Math.round(performance.now() - loadStart);
      const prompt = promptOfLength(tokenizer!.encode(sampleText), promptTokens);
      for (const cache of ['dynamic', 'static'] as const) {
        await measureForwardDecode(model as CausalLM, prompt.slice(0, 8), 4, 1, cache); // warm-up: kernels, tables
        const figures = await measureForwardDecode(model as CausalLM, prompt, newTokens, 1, cache);
        rows.push({ model: name, parameters: model.numParameters(), loadMs, ...figures });
      }
      model.dispose();
    }
    return rows;
  }
  if (suite === 'generate') {
    const { model, tokenizer, generationConfig } = await fromPretrained(tinyLlama);
    const prompt = promptOfLength(tokenizer!.encode(sampleText), args.quick ? 16 : 32);
    await measureForwardDecode(model as CausalLM, prompt.slice(0, 8), 4);
    const cacheImplementation = args.cache === 'static' ? 'static' : 'dynamic';
    const rows = await measureStrategies(model as CausalLM, prompt, newTokens, {
      ...parseGenerationConfig(generationConfig),
      cacheImplementation,
    });
    model.dispose();
    return { model: 'tiny-llama-docs', cache: cacheImplementation, strategies: rows };
  }
  if (suite === 'seq2seq') {
    const bart = await ensureRandomModel(
      join(args.scratch, 'bart-base-random'),
      BART_BASE,
      join(repo, 'fixtures/hf-reference/bart'),
    );
    return measureSeq2Seq(bart, promptTokens, newTokens);
  }
  throw new Error(`unknown suite "${suite}" (parity, decoder, generate, seq2seq, all)`);
}

function record(suite: string, machine: MachineInfo, results: unknown, wallMs: number): void {
  mkdirSync(args.out, { recursive: true });
  const cache = suite === 'generate' ? `-${args.cache}-cache` : '';
  const file = join(args.out, `${suite}-${machine.backend.name}${cache}${args.quick ? '-quick' : ''}.json`);
  const report = {
    suite,
    date: new Date().toISOString(),
    machine,
    wallMs,
    tensorsAlive: tf.memory().numTensors,
    results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify({ suite, results }, null, 2));
  console.log(`recorded ${file}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
