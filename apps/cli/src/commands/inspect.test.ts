import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, type SafetensorsTensorData, serializeSafetensors } from '@tsformer/core-tensor';
import { fromPretrained, getModelFamily, MODEL_FAMILIES } from '@tsformer/models';
import { type TrainingMemory, trainingMemory } from '@tsformer/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli, runCliJson } from '../../test/run-cli.js';
import { EXIT_FAILURE } from '../cli-errors.js';

type RawConfig = Record<string, number | string | boolean | null | undefined>;

interface InspectJson {
  modelType: string;
  task: string;
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

/** The same for the families of issue 11 (param-counts-families.json), tested once they are registered. */
const FAMILY_COUNTS = JSON.parse(readFileSync(`${FIXTURES}/param-counts-families.json`, 'utf8')) as Record<
  string,
  { config: RawConfig; num_parameters: number; num_parameters_exclude_embeddings: number }
>;
const REGISTERED = new Set(MODEL_FAMILIES.map((family) => family.modelType));

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

  for (const [name, { config, num_parameters, num_parameters_exclude_embeddings }] of Object.entries(
    FAMILY_COUNTS,
  )) {
    const modelType = String(config.model_type);
    const known = REGISTERED.has(modelType);
    it.skipIf(!known)(
      `counts ${name} (${modelType}${known ? '' : ': no family registered yet, skipped'})`,
      () => {
        const path = join(folder, `${name}.json`);
        writeFileSync(path, JSON.stringify(config));
        const report = runCliJson<InspectJson>(['inspect', '--config', path, '--seq-len', '16']);
        expect(report.parameters).toBe(num_parameters);
        expect(report.parametersWithoutEmbeddings).toBe(num_parameters_exclude_embeddings);
      },
    );
  }

  it('reports encoder FLOPs per source token for encoder-decoder models', () => {
    const report = inspect('bart-base', ['--seq-len', '32']);
    expect(report.task).toBe('seq2seq-lm');
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

  it('adds the memory of a training step with --training, as trainingMemory computes it', () => {
    const config = PARAM_COUNTS['bart-base']!.config;
    const path = join(folder, 'bart-base-training.json');
    writeFileSync(path, JSON.stringify(config));
    const report = runCliJson<InspectJson & { training: TrainingMemory }>([
      'inspect',
      '--config',
      path,
      '--training',
      '--batch',
      '2',
      '--seq',
      '64',
      '--optimizer',
      'sgd',
    ]);
    const family = getModelFamily(config.model_type);
    const expected = trainingMemory(family.describe(family.resolveConfig(config)), {
      batch: 2,
      seq: 64,
      optimizer: 'sgd',
    });
    expect(report.training).toEqual(expected);
    expect(report.training.optimizerStateBytes).toBe(0);
    expect(report.training.activations.layers).toHaveLength(12);
  });

  it('prints each part and each layer of the training memory without --json', () => {
    const path = join(folder, 'smollm.json');
    writeFileSync(path, JSON.stringify(PARAM_COUNTS['smollm-135m']!.config));
    const run = runCli(['inspect', '--config', path, '--training', '--batch', '4', '--seq', '256']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^training\s+\S+ \S+ for one step of batch 4 × 256 tokens with adamw/m);
    expect(run.stdout).toMatch(/^ {2}gradients\s+513 MiB$/m);
    expect(run.stdout).toMatch(/^ {2}optimizer\s+1\.00 GiB of adamw states$/m);
    expect(run.stdout).toMatch(/^ {2}activations\s+.*embeddings .*, layers .*, head and loss /m);
    expect(run.stdout).toMatch(/^ {4}layers\.29\s+.*attention scores .*MLP .*weight temporaries/m);
  });
});

describe('tsformer inspect --config computes from the numbers, never building the model', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'tsformer-inspect-bounds-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const inspectRaw = (name: string, config: Record<string, unknown>, json = true) => {
    const path = join(folder, `${name}.json`);
    writeFileSync(path, JSON.stringify(config));
    return runCli(['inspect', '--config', path, ...(json ? ['--json'] : [])]);
  };

  it.each([
    ['gpt2', { model_type: 'gpt2', n_layer: 1_000_000 }, 'n_layer'],
    ['gpt2', { model_type: 'gpt2', n_layer: 30_000 }, 'n_layer'],
    ['gpt2', { model_type: 'gpt2', vocab_size: 1e308 }, 'vocab_size'],
    ['llama', { model_type: 'llama', num_hidden_layers: 1e7 }, 'num_hidden_layers'],
    ['llama', { model_type: 'llama', rope_scaling: 'linear' }, 'rope_scaling'],
  ])('refuses a huge or mistyped %s config in one line naming the field (%j)', (_type, config, field) => {
    const run = inspectRaw(field, config);
    expect(run.status).toBe(EXIT_FAILURE);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^tsformer: ${join(folder, `${field}.json`)}: .*${field} .*\\n$`));
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr).not.toMatch(/Infinity|NaN|TypeError|RangeError/);
  });

  it('names the file first for every kind of config error: a field, RoPE, model_type', () => {
    const path = (name: string) => join(folder, `${name}.json`);
    expect(inspectRaw('hidden', { model_type: 'llama', hidden_size: 0 }).stderr).toBe(
      `tsformer: ${path('hidden')}: llama config: hidden_size must be a positive integer up to 131072, got 0\n`,
    );
    expect(inspectRaw('nulled', { model_type: 'gpt2', n_embd: null }).stderr).toBe(
      `tsformer: ${path('nulled')}: gpt2 config: n_embd must be a positive integer up to 131072, got null\n`,
    );
    expect(
      inspectRaw('rope', { model_type: 'llama', rope_parameters: { rope_type: 'linear', rope_theta: 1e4 } })
        .stderr,
    ).toBe(
      `tsformer: ${path('rope')}: invalid RoPE config: rope_parameters.factor is required by rope_type "linear"\n`,
    );
    expect(inspectRaw('type', { model_type: 'bogus' }).stderr).toMatch(
      new RegExp(`^tsformer: ${path('type')}: unknown model_type "bogus"; supported model types: `),
    );
  });

  it('describes the largest sizes the bounds admit at once, printing every count exactly', () => {
    // 1023 layers × 273 key/value heads of 4094 over 16,777,215 positions: the full-context KV cache
    // is past 2^55 bytes with an odd part past 2^53, so a float64 cannot hold it; the JSON gives every digit.
    const config = {
      model_type: 'llama',
      num_hidden_layers: 1023,
      hidden_size: 4096,
      num_attention_heads: 273,
      num_key_value_heads: 273,
      head_dim: 4094,
      intermediate_size: 11008,
      vocab_size: 2 ** 22,
      max_position_embeddings: 2 ** 24 - 1,
    };
    const run = inspectRaw('huge', config);
    expect(run.stderr).toBe('');
    const perToken = 2n * 1023n * 273n * 4094n * 4n;
    const fullContext = perToken * BigInt(2 ** 24 - 1);
    expect(BigInt(Number(fullContext))).not.toBe(fullContext);
    expect(run.stdout).toContain(`"kvCacheBytesPerToken": ${perToken},`);
    expect(run.stdout).toContain(`"kvCacheBytesAtFullContext": ${fullContext},`);
    const text = inspectRaw('huge-text', config, false);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^layers\s+1023 layers × hidden 4096; attention 273 heads × 4094/m);
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

  describe('checks the weights against the config as loading does, reading no tensor', () => {
    const LLAMA = `${FIXTURES}/llama`;
    let root: string;
    let tensors: Record<string, SafetensorsTensorData>;
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tsformer-inspect-weights-'));
      const file = await openSafetensors(`${LLAMA}/model.safetensors`);
      tensors = {};
      for (const name of file.names()) {
        const raw = await file.readRaw(name);
        tensors[name] = { dtype: file.dtype(name), shape: file.shape(name), data: raw.data };
      }
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    /** A folder with the llama fixture's config.json and `weights` as its model.safetensors. */
    const folderWith = (name: string, weights: Record<string, SafetensorsTensorData>): string => {
      const dir = join(root, name);
      mkdirSync(dir);
      copyFileSync(join(LLAMA, 'config.json'), join(dir, 'config.json'));
      writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(weights));
      return dir;
    };
    const without = (pattern: RegExp) =>
      Object.fromEntries(Object.entries(tensors).filter(([name]) => !pattern.test(name)));

    it('passes a checkpoint that fits, and says so', () => {
      const run = runCli(['inspect', '--model', folderWith('fits', tensors)]);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^weights\s+F32 .* \(21 tensors\); names and shapes fit the config$/m);
    });

    it.each([
      ['no tensors', () => ({}), /missing 21: model\.embed_tokens\.weight, /],
      [
        'a missing layer',
        () => without(/\.layers\.1\./),
        /missing 9: model\.layers\.1\.self_attn\.q_proj\.weight/,
      ],
      [
        'a transposed matrix',
        () => {
          const key = tensors['model.layers.0.self_attn.k_proj.weight']!;
          return {
            ...tensors,
            'model.layers.0.self_attn.k_proj.weight': { ...key, shape: [...key.shape].reverse() },
          };
        },
        /mis-shaped 1: model\.layers\.0\.self_attn\.k_proj\.weight is \[64,32\] but the model needs \[32,64\]/,
      ],
      [
        'a stray tensor',
        () => ({ ...tensors, 'model.extra.weight': tensors['model.norm.weight']! }),
        /unexpected 1: model\.extra\.weight/,
      ],
    ])('%s: exits non-zero with the list loading reports', async (name, weights, expected) => {
      const dir = folderWith(name.replaceAll(' ', '-'), weights());
      const run = runCli(['inspect', '--model', dir]);
      const loading = await fromPretrained(dir).catch((error: Error) => error);
      expect(run.status).toBe(EXIT_FAILURE);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(expected);
      expect(run.stderr).toBe(`tsformer: ${(loading as Error).message}\n`);
    });
  });
});
