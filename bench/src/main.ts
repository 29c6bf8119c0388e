// tsformer benchmarks. Usage (after `node build.mjs`):
//   node bench-dist/bench.cjs [--backend wasm|cpu|webgpu|tensorflow]
//                             [--suite parity|decoder|generate|seq2seq|bandwidth|kernels|all]
//                             [--quick] [--out bench/results]
// Figures are written as JSON to the results folder (one file per suite and backend) and printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, useBackend } from '@tsformer/core-tensor';
import { type CausalLM, parseGenerationConfig } from '@tsformer/decoding';
import { fromPretrained } from '@tsformer/models';
import { probeBandwidth } from './bandwidth-probe.js';
import { benchmarkKernels } from './kernel-bench.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { measureForwardDecode, promptOfLength } from './measure.js';
import { checkBundledModelParity } from './parity.js';
import { profileDecodeStep } from './profile.js';
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
    // Threads of the wasm backend's kernels (see core-tensor's BackendOptions.threads).
    threads: { type: 'string', default: '1' },
    // tsformer's CPU kernels on wasm/cpu (fromPretrained's cpuKernels): on (default) or off (tfjs's ops).
    kernels: { type: 'string', default: 'on' },
    // tfjs environment flags as JSON, e.g. '{"WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE":64}', recorded with the figures.
    'tf-flags': { type: 'string', default: '{}' },
    out: { type: 'string', default: join(__dirname, '..', 'results') },
    repo: { type: 'string', default: join(__dirname, '..', '..') },
    scratch: { type: 'string', default: join(tmpdir(), 'tsformer-bench') },
    // Internal: the decoder suite measures each model in a child process (`--suite decoder-model`).
    model: { type: 'string' },
    name: { type: 'string' },
  },
});
const repo = resolve(args.repo);
const tinyLlama = join(repo, 'models/tiny-llama-docs');
const sampleText = 'Return the number of elements along a given axis of the array.';

async function main(): Promise<void> {
  const backend = await useBackend(args.backend as BackendName, {
    wasmPaths: `${__dirname}/`,
    threads: Number(args.threads),
  });
  if (args.suite === 'decoder-model') {
    console.log(JSON.stringify(await runSuite('decoder-model')));
    return;
  }
  tf.env().setFlags(JSON.parse(args['tf-flags']));
  const machine = { ...describeMachine(backend), tfFlags: args['tf-flags'] };
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
  // The load average beside these figures: on a shared machine, other work takes bandwidth and cores.
  if (suite === 'bandwidth') {
    const loadBefore = loadavg();
    return { bandwidth: await probeBandwidth([1, 2]), loadAverage: { before: loadBefore, after: loadavg() } };
  }
  if (suite === 'kernels') {
    const loadBefore = loadavg();
    const limits = await probeBandwidth([1, 2]);
    const products = await benchmarkKernels(Number(args.threads), limits);
    return { bandwidth: limits, loadAverage: { before: loadBefore, after: loadavg() }, products };
  }
  if (suite === 'profile') return profileDecodeStep(args.model ?? tinyLlama, promptTokens);
  if (suite === 'decoder-model') return measureDecoderModel(args.model!, args.name!, promptTokens, newTokens);
  if (suite === 'decoder') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    // Each model in a process of its own, so that its peak RSS is its own.
    const rows = [];
    for (const [name, folder] of [
      ['tiny-llama-docs', tinyLlama],
      ['gpt2-124m-random-fp32', gpt2],
    ] as const) {
      const child = spawnSync(process.execPath, [__filename, ...childArgs(folder, name)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.status !== 0) throw new Error(`measuring ${name} failed (exit ${child.status})`);
      rows.push(...JSON.parse(child.stdout.trim().split('\n').at(-1)!));
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
  throw new Error(`unknown suite "${suite}" (parity, decoder, generate, seq2seq, bandwidth, kernels, all)`);
}

function childArgs(folder: string, name: string): string[] {
  const passed = [
    '--backend',
    args.backend,
    '--threads',
    args.threads,
    '--kernels',
    args.kernels,
    '--tf-flags',
    args['tf-flags'],
    '--suite',
    'decoder-model',
    '--model',
    folder,
    '--name',
    name,
  ];
  return args.quick ? [...passed, '--quick'] : passed;
}

/** One model: load time, then for each cache kind a cold run (first of its shapes) and a warm one. */
async function measureDecoderModel(folder: string, name: string, promptTokens: number, newTokens: number) {
  const loadStart = performance.now();
  const { model, tokenizer } = await fromPretrained(folder, { cpuKernels: args.kernels !== 'off' });
  const loadMs = Math.round(performance.now() - loadStart);
  const prompt = promptOfLength(tokenizer!.encode(sampleText), promptTokens);
  const rows = [];
  for (const cache of ['dynamic', 'static'] as const) {
    await measureForwardDecode(model as CausalLM, prompt.slice(0, 8), 4, 1, cache); // kernels, tables
    const cold = await measureForwardDecode(model as CausalLM, prompt, newTokens, 1, cache);
    const warm = await measureForwardDecode(model as CausalLM, prompt, newTokens, 1, cache);
    rows.push({
      model: name,
      parameters: model.numParameters(),
      loadMs,
      coldTimeToFirstTokenMs: cold.timeToFirstTokenMs,
      ...warm,
    });
  }
  model.dispose();
  return rows;
}

function record(suite: string, machine: MachineInfo, results: unknown, wallMs: number): void {
  mkdirSync(args.out, { recursive: true });
  const cache = suite === 'generate' ? `-${args.cache}-cache` : '';
  const threads = args.threads === '1' ? '' : `-${args.threads}-threads`;
  const file = join(
    args.out,
    `${suite}-${machine.backend.name}${threads}${cache}${args.quick ? '-quick' : ''}.json`,
  );
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
