import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyRotaryEmbedding } from './apply-rotary-embedding.js';
import { buildAttentionMask } from './attention-mask.js';
import { eagerAttention } from './eager-attention.js';
import { keyValueBlock } from './key-value-block.js';
import { resolveRopeParameters } from './rope-parameters.js';
import { RotaryEmbedding } from './rotary-embedding.js';

// HF transformers' own LlamaForCausalLM outputs (fixtures/hf-reference/llama): 4 heads over 2 kv heads,
// head_dim 16, default RoPE. The layer is rebuilt here from its weights with plain tensor ops around the
// package's RoPE, mask and attention, and compared with HF's attention probabilities and hidden states.
const folder = new URL('../../../fixtures/hf-reference/llama/', import.meta.url);
const config = JSON.parse(readFileSync(new URL('config.json', folder), 'utf8'));

/** The float32 tensors of a safetensors file (test-only reader: header JSON, then raw little-endian data). */
function readSafetensors(name: string): Map<string, { shape: number[]; data: Float32Array }> {
  const bytes = readFileSync(new URL(name, folder));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [tensorName, entry] of Object.entries<{
    dtype: string;
    shape: number[];
    data_offsets: number[];
  }>(header)) {
    if (tensorName === '__metadata__' || entry.dtype !== 'F32') continue;
    const [start, end] = entry.data_offsets as [number, number];
    const copy = bytes.buffer.slice(
      bytes.byteOffset + 8 + headerLength + start,
      bytes.byteOffset + 8 + headerLength + end,
    );
    tensors.set(tensorName, { shape: entry.shape, data: new Float32Array(copy) });
  }
  return tensors;
}

const weights = readSafetensors('model.safetensors');
const reference = readSafetensors('reference.safetensors');

function tensor(map: Map<string, { shape: number[]; data: Float32Array }>, name: string): tf.Tensor {
  const entry = map.get(name);
  if (!entry) throw new Error(`fixture has no ${name}`);
  return tf.tensor(entry.data, entry.shape, 'float32');
}

const heads = config.num_attention_heads as number;
const kvHeads = config.num_key_value_heads as number;
const headDim = config.head_dim as number;

function rmsNorm(x: tf.Tensor2D, weight: string): tf.Tensor2D {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(
    tensor(weights, weight),
    tf.mul(x, tf.rsqrt(tf.add(variance, config.rms_norm_eps))),
  ) as tf.Tensor2D;
}

function linear(x: tf.Tensor2D, weight: string): tf.Tensor2D {
  return tf.matMul(x, tensor(weights, weight), false, true);
}

/** `[seq, heads·headDim]` → `[1, heads, seq, headDim]`. */
function splitHeads(x: tf.Tensor2D, count: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [1, x.shape[0], count, headDim]), [0, 2, 1, 3]);
}

interface Projected {
  query: tf.Tensor4D;
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** q, k, v of `hidden` (`[seq, hidden]`, tokens at positions `start…`), RoPE applied. */
function project(layer: number, hidden: tf.Tensor2D, start: number, rope: RotaryEmbedding): Projected {
  const prefix = `model.layers.${layer}`;
  const normed = rmsNorm(hidden, `${prefix}.input_layernorm.weight`);
  const positions = tf.reshape(tf.range(start, start + hidden.shape[0], 1, 'int32'), [1, -1]) as tf.Tensor2D;
  const { cos, sin } = rope.forward(positions, start + hidden.shape[0] - 1);
  const [query, key] = applyRotaryEmbedding(
    splitHeads(linear(normed, `${prefix}.self_attn.q_proj.weight`), heads),
    splitHeads(linear(normed, `${prefix}.self_attn.k_proj.weight`), kvHeads),
    cos,
    sin,
  );
  const value = splitHeads(linear(normed, `${prefix}.self_attn.v_proj.weight`), kvHeads);
  return { query, key, value };
}

/** The rest of the decoder layer: o_proj, residual, post-attention RMSNorm, SwiGLU MLP, residual. */
function finishLayer(layer: number, hidden: tf.Tensor2D, attentionOutput: tf.Tensor4D): tf.Tensor2D {
  const prefix = `model.layers.${layer}`;
  const merged = tf.reshape(tf.transpose(attentionOutput, [0, 2, 1, 3]), [hidden.shape[0], heads * headDim]);
  const afterAttention = tf.add(
    hidden,
    linear(merged as tf.Tensor2D, `${prefix}.self_attn.o_proj.weight`),
  ) as tf.Tensor2D;
  const normed = rmsNorm(afterAttention, `${prefix}.post_attention_layernorm.weight`);
  const gate = linear(normed, `${prefix}.mlp.gate_proj.weight`);
  const up = linear(normed, `${prefix}.mlp.up_proj.weight`);
  const mlp = linear(
    tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D,
    `${prefix}.mlp.down_proj.weight`,
  );
  return tf.add(afterAttention, mlp) as tf.Tensor2D;
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('HF Llama fixture', () => {
  it('resolves the fixture config to default RoPE over head_dim 16', () => {
    expect(resolveRopeParameters(config)).toMatchObject({
      ropeType: 'default',
      rotaryDim: 16,
      ropeTheta: 10000,
    });
  });

  it('reproduces HF attention probabilities and hidden states of every layer', async () => {
    await expectNoLeak(() => {
      const rope = new RotaryEmbedding(resolveRopeParameters(config));
      tf.tidy(() => {
        let hidden = tensor(reference, 'forward.0.hidden.0') as tf.Tensor2D; // [seq, hidden]
        const length = hidden.shape[0];
        const mask = buildAttentionMask({
          batchSize: 1,
          queryStart: 0,
          queryLength: length,
          keyStart: 0,
          keyLength: length,
        });
        for (let layer = 0; layer < config.num_hidden_layers; layer++) {
          const { query, key, value } = project(layer, hidden, 0, rope);
          const { output, attentions } = eagerAttention({
            query,
            keyValues: keyValueBlock(key, value),
            mask,
            outputAttentions: true,
          });
          assertClose(
            tf.squeeze(attentions!, [0]),
            tensor(reference, `forward.0.attn.${layer}`),
            1e-5,
            `attn.${layer}`,
          );
          hidden = finishLayer(layer, hidden, output);
          if (layer < config.num_hidden_layers - 1) {
            assertClose(
              hidden,
              tensor(reference, `forward.0.hidden.${layer + 1}`),
              1e-4,
              `hidden.${layer + 1}`,
            );
          }
        }
        const final = rmsNorm(hidden, 'model.norm.weight');
        assertClose(
          final,
          tensor(reference, `forward.0.hidden.${config.num_hidden_layers}`),
          1e-4,
          'final hidden',
        );
      });
      rope.dispose();
    });
  });

  it('gives the same probabilities when the last tokens attend to a two-block cache from a later offset', async () => {
    await expectNoLeak(() => {
      const rope = new RotaryEmbedding(resolveRopeParameters(config), { initialLength: 4 });
      tf.tidy(() => {
        const hidden = tensor(reference, 'forward.0.hidden.0') as tf.Tensor2D;
        const length = hidden.shape[0];
        const past = 10;
        const prefix = project(0, tf.slice(hidden, [0, 0], [past, -1]), 0, rope);
        const step = project(0, tf.slice(hidden, [past, 0], [length - past, -1]), past, rope);
        const mask = buildAttentionMask({
          batchSize: 1,
          queryStart: past,
          queryLength: length - past,
          keyStart: 0,
          keyLength: length,
        });
        const { attentions } = eagerAttention({
          query: step.query,
          keyValues: {
            keys: [prefix.key, step.key],
            values: [prefix.value, step.value],
            keyStart: 0,
            keyLength: length,
          },
          mask,
          outputAttentions: true,
        });
        const expected = tf.slice(tensor(reference, 'forward.0.attn.0'), [0, past, 0], [-1, -1, -1]);
        assertClose(tf.squeeze(attentions!, [0]), expected, 1e-5, 'attn.0 of the last tokens');
      });
      rope.dispose();
    });
  });
});
