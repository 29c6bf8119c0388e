// tsformer benchmarks. Usage (after `node build.mjs`):
//   node bench-dist/bench.cjs [--backend wasm|cpu|webgpu|tensorflow]
//                             [--suite parity|decoder|generate|seq2seq|training|bandwidth|kernels|peer|serving|load|webgpu-decode|webgpu-counts|webgpu-prefill|all]
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
import { defaultKernelThreads, kernelThreadsFromEnv } from '@tsformer/kernels';
import { fromPretrained, type LowerPrecisionDtype } from '@tsformer/models';
import { type BandwidthFigure, probeBandwidth } from './bandwidth-probe.js';
import { decodeStepBreakdown } from './decode-breakdown.js';
import { benchmarkKernels } from './kernel-bench.js';
import { runLoadTest } from './load-test.js';
import { fixtureGreedyPrompts, lowerPrecisionCost } from './lower-precision-cost.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { measureForwardDecode, promptOfLength } from './measure.js';
import { checkBundledModelParity } from './parity.js';
import { peerPromptIds, runPeerHarness } from './peer.js';
import { profilePrefill } from './prefill-profile.js';
import { profileDecodeStep } from './profile.js';
import { BART_BASE, ensureRandomModel, GPT2_124M } from './random-model.js';
import { measureSeq2Seq } from './seq2seq.js';
import { measureServing } from './serving.js';
import { profileServing } from './serving-profile.js';
import { stepOpsAB } from './step-ops-ab.js';
import { measureStrategies } from './strategies.js';
import { measureTraining } from './training.js';
import { countWebgpuDispatches, measureWebgpuModel } from './webgpu-decode-profile.js';
import { measurePrefillOps } from './webgpu-prefill-ops.js';
import { measureWebgpuPrefill } from './webgpu-prefill-profile.js';
import { weightFootprint } from './weight-footprint.js';

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
    // Opt-in lower-precision weights (fromPretrained's dtype): bf16 or int8.
    dtype: { type: 'string' },
    // tfjs environment flags as JSON, e.g. '{"WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE":64}', recorded with the figures.
    'tf-flags': { type: 'string', default: '{}' },
    out: { type: 'string', default: join(__dirname, '..', 'results') },
    repo: { type: 'string', default: join(__dirname, '..', '..') },
    scratch: { type: 'string', default: join(tmpdir(), 'tsformer-bench') },
    // The peer suite: a copy of ../shared/peer-bench (npm ci done) and the model folder its
    // build_model_folder.py --out wrote (outside shared/); --rounds interleaved process pairs.
    peer: { type: 'string' },
    'peer-model': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    // Internal: the decoder suite measures each model in a child process (`--suite decoder-model`).
    model: { type: 'string' },
    name: { type: 'string' },
    // decode-breakdown: rows decoded together in each step.
    batch: { type: 'string', default: '1' },
    // webgpu-decode: measure only the models whose name contains this (default: all).
    only: { type: 'string', default: '' },
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
  // A child process's one model: its figures as one JSON line for the parent, nothing recorded.
  if (args.suite === 'decoder-model' || args.suite === 'training-model' || args.suite === 'peer-model') {
    console.log(JSON.stringify(await runSuite(args.suite)));
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
  if (suite === 'profile-prefill') {
    const gpt2 = join(args.scratch, 'gpt2-124m-random');
    const folder =
      args.model ?? (await ensureRandomModel(gpt2, GPT2_124M, join(repo, 'fixtures/hf-reference/gpt2')));
    return profilePrefill(folder, 32, args.kernels !== 'off');
  }
  if (suite === 'lower-precision') {
    const gpt2Fixture = join(repo, 'fixtures/hf-reference/gpt2');
    const gpt2 = await ensureRandomModel(join(args.scratch, 'gpt2-124m-random'), GPT2_124M, gpt2Fixture);
    const newTokens = args.quick ? 8 : 32;
    return [
      ...(await lowerPrecisionCost(
        'tiny-llama-docs',
        tinyLlama,
        fixtureGreedyPrompts(tinyLlama),
        512,
        newTokens,
      )),
      ...(await lowerPrecisionCost(
        'gpt2-124m-random',
        gpt2,
        fixtureGreedyPrompts(gpt2Fixture),
        128,
        newTokens,
      )),
    ];
  }
  if (suite === 'decode-breakdown') {
    const folder =
      args.model ??
      (await ensureRandomModel(
        join(args.scratch, 'gpt2-124m-random'),
        GPT2_124M,
        join(repo, 'fixtures/hf-reference/gpt2'),
      ));
    return decodeStepBreakdown(
      folder,
      promptTokens,
      args.quick ? 8 : 24,
      args.dtype as LowerPrecisionDtype | undefined,
      Number(args.batch),
    );
  }
  if (suite === 'step-ops') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    const [rounds, steps] = args.quick ? [2, 4] : [6, 8];
    return {
      'gpt2-124m-random-fp32': await stepOpsAB(args.model ?? gpt2, promptTokens, rounds, steps),
      'tiny-llama-docs': await stepOpsAB(tinyLlama, promptTokens, rounds, steps),
    };
  }
  if (suite === 'webgpu-decode') {
    const models = [];
    if ('tiny-llama-docs'.includes(args.only)) {
      models.push(...(await measureWebgpuModel(tinyLlama, 'tiny-llama-docs', promptTokens, newTokens)));
    }
    if ('gpt2-124m-random-fp32'.includes(args.only)) {
      const gpt2 = await ensureRandomModel(
        join(args.scratch, 'gpt2-124m-random'),
        GPT2_124M,
        join(repo, 'fixtures/hf-reference/gpt2'),
      );
      models.push(...(await measureWebgpuModel(gpt2, 'gpt2-124m-random-fp32', promptTokens, newTokens)));
    }
    return { adapter: await adapterInfo(), models };
  }
  // Dispatches per decode step, kernels off and on, without the throughput runs (fits SwiftShader). The
  // GPT-2 model has GPT-2-124M's layers, heads and vocabulary at width 96: the same ops, so the same counts.
  if (suite === 'webgpu-counts') {
    const models = [];
    if ('tiny-llama-docs'.includes(args.only)) {
      models.push(...(await countWebgpuDispatches(tinyLlama, 'tiny-llama-docs', 16, 4)));
    }
    if ('gpt2-124m-shape-width-96'.includes(args.only)) {
      const gpt2 = await ensureRandomModel(
        join(args.scratch, 'gpt2-12-layer-narrow-random'),
        { ...GPT2_124M, n_embd: 96 },
        join(repo, 'fixtures/hf-reference/gpt2'),
      );
      models.push(...(await countWebgpuDispatches(gpt2, 'gpt2-124m-shape-width-96', 16, 4)));
    }
    return { adapter: await adapterInfo(), models };
  }
  // Where one prefill's time goes (wall, JavaScript, read-back wait, dispatches by program), kernels off
  // and on; then the GPU time per call of its projections and attention, tsformer's kernels and tfjs's ops. --quick: a 32-token prompt, 2 runs, GPT-2-124M's layers at width 96 (fits SwiftShader).
  if (suite === 'webgpu-prefill') {
    const runs = args.quick ? 2 : 10;
    const models = [];
    if ('tiny-llama-docs'.includes(args.only)) {
      models.push(...(await measureWebgpuPrefill(tinyLlama, 'tiny-llama-docs', promptTokens, runs)));
    }
    const [gpt2Name, gpt2Config] = args.quick
      ? ['gpt2-124m-shape-width-96', { ...GPT2_124M, n_embd: 96 }]
      : ['gpt2-124m-random-fp32', GPT2_124M];
    if (gpt2Name.includes(args.only)) {
      const gpt2 = await ensureRandomModel(
        join(args.scratch, args.quick ? 'gpt2-12-layer-narrow-random' : 'gpt2-124m-random'),
        gpt2Config,
        join(repo, 'fixtures/hf-reference/gpt2'),
      );
      models.push(...(await measureWebgpuPrefill(gpt2, gpt2Name, promptTokens, runs)));
    }
    // The ops alone (GPU ms per call): too slow for SwiftShader, so not with --quick.
    const ops = args.quick ? [] : await measurePrefillOps(promptTokens);
    return { adapter: await adapterInfo(), models, ops };
  }
  if (suite === 'decoder-model') return measureDecoderModel(args.model!, args.name!, promptTokens, newTokens);
  if (suite === 'training-model') {
    const [batch, length] = args.quick ? [2, 32] : [4, 128];
    return measureTraining(args.model!, args.name!, batch, length, args.quick ? 2 : 5);
  }
  if (suite === 'training') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    // Each model in a process of its own, so that its peak RSS is its own; a model whose training
    // state does not fit (GPT-2-124M's in the wasm heap) is a figure too.
    const rows = [];
    for (const [name, folder] of [
      ['tiny-llama-docs', tinyLlama],
      ['gpt2-124m-random-fp32', gpt2],
    ] as const) {
      const child = spawnSync(process.execPath, [__filename, ...childArgs(folder, name, 'training-model')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.status !== 0) rows.push({ model: name, failed: `exit ${child.status}` });
      else rows.push(...[JSON.parse(child.stdout.trim().split('\n').at(-1)!)].flat());
    }
    return rows;
  }
  if (suite === 'peer-model') return measurePeerModel(args.model!, args.peer!);
  if (suite === 'peer') return comparePeer();
  if (suite === 'decoder') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    const gpt2Bf16 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random-bf16'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
      'BF16',
    );
    // The bandwidth limit in this run (here, in the parent: its 512 MiB stay out of the models' RSS).
    const loadBefore = loadavg();
    const bandwidth = await probeBandwidth([1, 2]);
    // Each model in a process of its own, so that its peak RSS is its own.
    const rows = [];
    for (const [name, folder] of [
      ['tiny-llama-docs', tinyLlama],
      ['gpt2-124m-random-fp32', gpt2],
      ['gpt2-124m-random-bf16', gpt2Bf16],
    ] as const) {
      const child = spawnSync(process.execPath, [__filename, ...childArgs(folder, name, `${suite}-model`)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.status !== 0) throw new Error(`measuring ${name} failed (exit ${child.status})`);
      rows.push(...withBandwidthShare(JSON.parse(child.stdout.trim().split('\n').at(-1)!), bandwidth));
    }
    for (const row of rows) console.log(decoderLine(row));
    return { bandwidth, loadAverage: { before: loadBefore, after: loadavg() }, rows };
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
  if (suite === 'serving') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    return measureServing(gpt2, {
      clients: 8,
      requestsPerClient: args.quick ? 1 : 3,
      newTokens: args.quick ? 8 : 32,
      rounds: Number(args.rounds),
    });
  }
  if (suite === 'serving-profile') {
    const gpt2 = await ensureRandomModel(
      join(args.scratch, 'gpt2-124m-random'),
      GPT2_124M,
      join(repo, 'fixtures/hf-reference/gpt2'),
    );
    return profileServing(gpt2, {
      clients: 8,
      requestsPerClient: args.quick ? 1 : 3,
      newTokens: args.quick ? 8 : 32,
    });
  }
  if (suite === 'load') {
    return runLoadTest(args.model ?? tinyLlama, { total: args.quick ? 100 : 1000, concurrency: 32 });
  }
  throw new Error(
    `unknown suite "${suite}" (parity, decoder, generate, seq2seq, training, bandwidth, kernels, peer, serving, load, webgpu-decode, webgpu-counts, webgpu-prefill, all)`,
  );
}

/** The WebGPU adapter's vendor, architecture, device and description (what Dawn reports). */
async function adapterInfo(): Promise<Record<string, string>> {
  const gpu = (
    globalThis as {
      navigator?: { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } };
    }
  ).navigator?.gpu;
  const info = (await gpu?.requestAdapter())?.info ?? {};
  const { vendor = '', architecture = '', device = '', description = '' } = info;
  return { vendor, architecture, device, description };
}

function childArgs(folder: string, name: string, suite: string): string[] {
  const passed = [
    '--backend',
    args.backend,
    '--threads',
    args.threads,
    '--kernels',
    args.kernels,
    ...(args.dtype === undefined ? [] : ['--dtype', args.dtype]),
    '--tf-flags',
    args['tf-flags'],
    '--suite',
    suite,
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
  const kernels = args.kernels !== 'off';
  const dtype = args.dtype === undefined ? undefined : (args.dtype as LowerPrecisionDtype);
  const { model, tokenizer } = await fromPretrained(folder, { cpuKernels: kernels, dtype });
  const loadMs = Math.round(performance.now() - loadStart);
  const footprint = weightFootprint(model);
  const threads = kernels
    ? (kernelThreadsFromEnv() ?? `auto (${defaultKernelThreads()})`)
    : Number(args.threads);
  const prompt = promptOfLength(tokenizer!.encode(sampleText), promptTokens);
  const rows = [];
  for (const cache of ['dynamic', 'static'] as const) {
    await measureForwardDecode(model as CausalLM, prompt.slice(0, 8), 4, 1, cache); // kernels, tables
    const cold = await measureForwardDecode(model as CausalLM, prompt, newTokens, 1, cache);
    const warm = await measureForwardDecode(model as CausalLM, prompt, newTokens, 1, cache);
    rows.push({
      model: name,
      backend: tf.getBackend(),
      // Whose matrix kernels ran: tsformer's (threads: TSFORMER_KERNEL_THREADS or auto by size) or tfjs's.
      kernels: kernels ? 'tsformer' : 'tfjs',
      threads,
      weightDtypes: footprint.dtypes,
      weightBytes: footprint.bytes,
      decodeGBPerSecond: round2((warm.decodeTokensPerSecond * footprint.bytes) / 1e9),
      parameters: model.numParameters(),
      loadMs,
      coldTimeToFirstTokenMs: cold.timeToFirstTokenMs,
      ...warm,
    });
  }
  model.dispose();
  return rows;
}

/** The peer harness's setting: batch 1, prompt 32, 64 new tokens, greedy (issue 12's table). */
const PEER_PROMPT_TOKENS = 32;
const PEER_NEW_TOKENS = 64;

/** tsformer on the peer's model folder (its model.safetensors), the peer's prompt: one warm-up, one timed run. */
async function measurePeerModel(folder: string, peerDir: string) {
  const kernels = args.kernels !== 'off';
  const dtype = args.dtype === undefined ? undefined : (args.dtype as LowerPrecisionDtype);
  const { model, tokenizer } = await fromPretrained(folder, { cpuKernels: kernels, dtype });
  const prompt = peerPromptIds(
    peerDir,
    (text) => tokenizer!.encode(text, { addSpecialTokens: false }),
    PEER_PROMPT_TOKENS,
  );
  await measureForwardDecode(model as CausalLM, prompt, 4);
  const figures = await measureForwardDecode(model as CausalLM, prompt, PEER_NEW_TOKENS);
  const footprint = weightFootprint(model);
  model.dispose();
  return {
    threads: kernels ? (kernelThreadsFromEnv() ?? `auto (${defaultKernelThreads()})`) : Number(args.threads),
    weightDtypes: footprint.dtypes,
    weightBytes: footprint.bytes,
    ...figures,
  };
}

/**
 * tsformer and transformers.js (../shared/peer-bench's harness, keep-last graph) on identical
 * GPT-2-124M weights, in interleaved processes (`--rounds` pairs): medians and the ratios.
 */
async function comparePeer() {
  if (!args.peer || !args['peer-model']) {
    throw new Error(
      '--suite peer needs --peer DIR (a copy of shared/peer-bench, npm ci done) and --peer-model DIR (its build_model_folder.py --out folder)',
    );
  }
  const peerDir = resolve(args.peer);
  const modelDir = resolve(args['peer-model']);
  const ours = [];
  const theirs = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    theirs.push(runPeerHarness(peerDir, modelDir, PEER_PROMPT_TOKENS, PEER_NEW_TOKENS));
    const passed = ['--backend', args.backend, '--threads', args.threads, '--kernels', args.kernels];
    if (args.dtype !== undefined) passed.push('--dtype', args.dtype);
    const child = spawnSync(
      process.execPath,
      [__filename, ...passed, '--suite', 'peer-model', '--model', modelDir, '--peer', peerDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`measuring tsformer failed (exit ${child.status})`);
    ours.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const tsformer = {
    prefillTokensPerSecond: median(ours.map((r) => r.prefillTokensPerSecond)),
    decodeTokensPerSecond: median(ours.map((r) => r.decodeTokensPerSecond)),
    peakRssMiB: median(ours.map((r) => r.peakRssMiB)),
  };
  const transformersJs = {
    prefillTokensPerSecond: median(theirs.map((r) => r.prefill_tok_s)),
    decodeTokensPerSecond: median(theirs.map((r) => r.decode_tok_s)),
    peakRssMiB: median(theirs.map((r) => r.peak_rss_mib)),
  };
  const ratios = {
    decode: round2(tsformer.decodeTokensPerSecond / transformersJs.decodeTokensPerSecond),
    prefill: round2(tsformer.prefillTokensPerSecond / transformersJs.prefillTokensPerSecond),
    peakRss: round2(tsformer.peakRssMiB / transformersJs.peakRssMiB),
  };
  console.log(
    `tsformer / transformers.js (median of ${ours.length} interleaved process pairs): decode ${ratios.decode}×, prefill ${ratios.prefill}×, peak RSS ${ratios.peakRss}×`,
  );
  return {
    promptTokens: PEER_PROMPT_TOKENS,
    newTokens: PEER_NEW_TOKENS,
    tsformer,
    transformersJs,
    ratios,
    runs: { tsformer: ours, transformersJs: theirs },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * A row's decode bandwidth as a share of the probe's limit in the same run, on the threads its
 * products could use (the pool's, at most the probed counts).
 */
function withBandwidthShare(rows: DecoderRow[], bandwidth: BandwidthFigure[]): DecoderRow[] {
  return rows.map((row) => {
    const threads = typeof row.threads === 'number' ? row.threads : Number(/\d+/.exec(row.threads)?.[0] ?? 1);
    const limit = bandwidth.filter((figure) => figure.threads <= threads).at(-1) ?? bandwidth[0]!;
    return {
      ...row,
      bandwidthLimitGBPerSecond: limit.gbPerSecond,
      percentOfBandwidthLimit: Math.round((100 * row.decodeGBPerSecond) / limit.gbPerSecond),
    };
  });
}

/** One line per run, as the issue asks `bench` to print. */
function decoderLine(row: DecoderRow & { percentOfBandwidthLimit?: number }): string {
  return [
    `${row.model} [${row.cache}]`,
    `backend ${row.backend} (${row.kernels} kernels, threads ${row.threads})`,
    `weights ${row.weightDtypes.join('+')} ${(row.weightBytes / 2 ** 20).toFixed(0)} MiB`,
    `prefill ${row.prefillTokensPerSecond} tok/s`,
    `decode ${row.decodeTokensPerSecond} tok/s = ${row.decodeGBPerSecond} GB/s (${row.percentOfBandwidthLimit}% of the measured limit)`,
    `peak RSS ${row.peakRssMiB} MiB`,
  ].join(' | ');
}

/** A decoder-model row as the child process reports it. */
type DecoderRow = Awaited<ReturnType<typeof measureDecoderModel>>[number];

function record(suite: string, machine: MachineInfo, results: unknown, wallMs: number): void {
  mkdirSync(args.out, { recursive: true });
  const cache = suite === 'generate' ? `-${args.cache}-cache` : '';
  const threads = args.threads === '1' ? '' : `-${args.threads}-threads`;
  const batch = args.batch === '1' ? '' : `-batch-${args.batch}`;
  const file = join(
    args.out,
    `${suite}-${machine.backend.name}${threads}${cache}${batch}${args.quick ? '-quick' : ''}.json`,
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
