import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli, runCliJson } from '../../test/run-cli.js';

type RawConfig = Record<string, number | string | boolean | null | undefined>;

interface InspectJson {
  modelType: string;
  className: string;
  parameters: number;
  parametersWithoutEmbeddings: number;
  flopsPerToken: { prefill: number; decode: number; encoder?: number };
  kvCacheBytesPerToken: number;
  kvCacheBytesAtFullContext: number;
  activationBytes: number;
  weights?: { dtype: string; tensors: number; bytes: number }[];
}

/** Real configurations with Hugging Face's num_parameters() (fixtures/hf-reference/param-counts.json). */
const PARAM_COUNTS = JSON.parse(readFileSync(`${FIXTURES}/param-counts.json`, 'utf8')) as Record<
  string,
  { config: RawConfig; num_parameters: number; num_parameters_no_embeddings: number }
>;

const num = (config: RawConfig, ...fields: string[]): number => {
  for (const field of fields) if (typeof config[field] === 'number') return config[field] as number;
  throw new Error(`no ${fields.join(' / ')} in the config`);
};

/** The decoder's attention sizes, read from the raw HF config independently of the CLI. */
function decoderSizes(config: RawConfig) {
  const layers = num(config, 'decoder_layers', 'num_hidden_layers', 'n_layer');
  const hidden = num(config, 'd_model', 'hidden_size', 'n_embd');
  const heads = num(config, 'decoder_attention_heads', 'num_attention_heads', 'n_head');
  const kvHeads = typeof config.num_key_value_heads === 'number' ? config.num_key_value_heads : heads;
  const headDim = typeof config.head_dim === 'number' ? config.head_dim : hidden / heads;
  return { layers, hidden, heads, kvHeads, headDim };
}

describe('tsformer inspect --config', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'tsformer-inspect-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const inspect = (name: string, extra: string[] = []): InspectJson => {
    const path = join(folder, `${name}.json`);
    writeFileSync(path, JSON.stringify(PARAM_COUNTS[name]!.config));
    return runCliJson<InspectJson>(['inspect', '--config', path, ...extra]);
  };

  it.each(Object.keys(PARAM_COUNTS))(
    "counts %s's parameters as Hugging Face does, with and without embeddings",
    (name) => {
      const expected = PARAM_COUNTS[name]!;
      const report = inspect(name, ['--seq-len', '16']);
      expect(report.parameters).toBe(expected.num_parameters);
      expect(report.parametersWithoutEmbeddings).toBe(expected.num_parameters_no_embeddings);
      const { layers, kvHeads, headDim } = decoderSizes(expected.config);
      expect(report.kvCacheBytesPerToken).toBe(2 * layers * kvHeads * headDim * 4);
      const context = num(expected.config, 'max_position_embeddings', 'n_positions');
      expect(report.kvCacheBytesAtFullContext).toBe(report.kvCacheBytesPerToken * context);
    },
  );

  it("gives GPT-2's FLOPs per token and activation memory by the documented formulas", () => {
    const config = PARAM_COUNTS.gpt2!.config;
    const { layers, hidden: d } = decoderSizes(config);
    const vocab = num(config, 'vocab_size');
    // c_attn (d → 3d), attn c_proj (d → d), mlp c_fc (d → 4d), mlp c_proj (4d → d), and the tied lm_head.
    const matmulWeights = layers * (3 * d * d + d * d + 4 * d * d + 4 * d * d) + d * vocab;
    const seqLen = 100;
    const report = inspect('gpt2', ['--seq-len', String(seqLen), '--batch', '2']);
    expect(report.flopsPerToken.decode).toBe(2 * matmulWeights + 4 * layers * d * seqLen);
    expect(report.flopsPerToken.prefill).toBeCloseTo(2 * matmulWeights + 2 * layers * d * (seqLen + 1), 3);
    const heads = num(config, 'n_head');
    const tokens = 2 * seqLen;
    const attention = tokens * 3 * d + 2 * 2 * heads * seqLen * seqLen;
    const mlp = 2 * tokens * 4 * d;
    expect(report.activationBytes).toBe((2 * tokens * d + Math.max(attention, mlp)) * 4 + 2 * vocab * 4);
  });

  it("gives Llama-2-7B's decode FLOPs with its SwiGLU MLP and untied head", () => {
    const config = PARAM_COUNTS['llama-2-7b']!.config;
    const { layers, hidden: d, heads, kvHeads, headDim } = decoderSizes(config);
    const ffn = num(config, 'intermediate_size');
    const vocab = num(config, 'vocab_size');
    const perLayer = d * heads * headDim * 2 + 2 * d * kvHeads * headDim + 3 * d * ffn;
    const report = inspect('llama-2-7b', ['--seq-len', '2048']);
    expect(report.flopsPerToken.decode).toBe(
      2 * (layers * perLayer + d * vocab) + 4 * layers * heads * headDim * 2048,
    );
  });

  it('reports encoder FLOPs per source token for encoder-decoder models', () => {
    const report = inspect('bart-base', ['--seq-len', '32']);
    expect(report.className).toBe('BartForConditionalGeneration');
    expect(report.flopsPerToken.encoder).toBeGreaterThan(0);
  });

  it('prints a few readable lines without --json', () => {
    const path = join(folder, 'smollm.json');
    writeFileSync(path, JSON.stringify(PARAM_COUNTS['smollm-135m']!.config));
    const run = runCli(['inspect', '--config', path]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('parameters  134,515,008');
    expect(run.stdout).toMatch(/^KV cache\s+45\.0 KiB per token/m);
    expect(run.stdout).toMatch(/9 heads × 64, 3 key\/value heads/);
  });
});

describe('tsformer inspect --model', () => {
  it('reads weight bytes by dtype from the safetensors headers of a sharded folder', () => {
    const reference = JSON.parse(readFileSync(`${BUNDLED_MODEL}/reference.json`, 'utf8'));
    const report = runCliJson<InspectJson>(['inspect', '--model', BUNDLED_MODEL]);
    expect(report.parameters).toBe(reference.num_parameters);
    // Every tensor is bfloat16 and the tied embedding is stored once: 2 bytes per parameter.
    expect(report.weights).toEqual([{ dtype: 'BF16', tensors: 56, bytes: 2 * reference.num_parameters }]);
  });
});
