import * as tf from '@tensorflow/tfjs-core';
import {
  DynamicLayerCache,
  type KeyValueBlocks,
  type LayerCache,
  SlidingWindowLayerCache,
  StaticLayerCache,
} from '@tsformer/cache';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  DecodeAttentionKernel,
  disableCpuKernels,
  enableCpuKernels,
  type KernelPool,
} from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAttention } from '../decode-attention.js';
import { rotaryKeyValues } from '../rotary-key-values.js';
import { cpuDecodeAttention } from './cpu-decode-attention.js';
import { disableCpuAttention, enableCpuAttention } from './enable-cpu-attention.js';

const HEADS = 4;
const KV_HEADS = 2;
const HEAD_DIM = 8;
const LAYERS = 2;
const BLOCK_SIZE = 4;

interface Kind {
  name: string;
  create(): LayerCache;
  /** Whether the kind has joinRows and dropStart (static caches have neither). */
  joins: boolean;
}

const KINDS: Kind[] = [
  { name: 'DynamicLayerCache', create: () => new DynamicLayerCache({ blockSize: BLOCK_SIZE }), joins: true },
  {
    name: 'StaticLayerCache',
    create: () => new StaticLayerCache(40, { blockSize: BLOCK_SIZE }),
    joins: false,
  },
  {
    name: 'SlidingWindowLayerCache',
    create: () => new SlidingWindowLayerCache(12, { blockSize: BLOCK_SIZE }),
    joins: true,
  },
];

const blockBytes = ({ keys, values }: KeyValueBlocks) =>
  [...keys, ...values].reduce((total, block) => total + 4 * block.size, 0);

describe.each(['wasm', 'cpu'] as const)(
  'decodeAttention over real caches with the CPU kernel on %s',
  (backend) => {
    let pool: KernelPool;
    let kernel: DecodeAttentionKernel;
    let removeAttention: () => void;
    beforeAll(async () => {
      await useBackend(backend);
      pool = await enableCpuKernels({ threads: 2 });
      enableCpuAttention(pool); // rotaryKeyValues; decodeAttention is this test's own kernel, to read its copies
      kernel = new DecodeAttentionKernel(pool);
      removeAttention = decodeAttention.register(backend, cpuDecodeAttention(kernel));
    });
    afterAll(() => {
      removeAttention();
      kernel.release();
      disableCpuAttention();
      disableCpuKernels();
    });

    for (const kind of KINDS) {
      it(`${kind.name}, blocks of ${BLOCK_SIZE}: 20 steps with reorder, crop, joinRows and dropStart equal the portable op; the copies are those of the live blocks`, async () => {
        const random = new SeededRandom(kind.name.length);
        const normal = (shape: number[]) =>
          tf.tensor(random.normalArray(shape.reduce((a, b) => a * b)), shape);
        await expectNoLeak(async () => {
          const caches = Array.from({ length: LAYERS }, () => kind.create());
          let rows = 2;
          // Per layer, the blocks its latest step attended to.
          const attended: tf.Tensor[][] = caches.map(() => []);
          const liveAttendedBytes = () =>
            [...new Set(attended.flat())].reduce(
              (total, block) => total + (block.isDisposed ? 0 : 4 * block.size),
              0,
            );
          // A step of `tokens` positions through every layer: RoPE and the cache, then attention.
          const step = async (tokens: number) => {
            for (const [layer, cache] of caches.entries()) {
              // As in a model's forward: the step's tensors (and a sliding window's alias of the block it
              // drops) live until the step's tidy ends.
              const [fast, portable, stepBytes] = tf.tidy(() => {
                const [query, key, value] = [HEADS, KV_HEADS, KV_HEADS].map(
                  (heads) => normal([rows, heads, tokens, HEAD_DIM]) as tf.Tensor4D,
                );
                const [cos, sin] = [
                  normal([rows, tokens, HEAD_DIM]),
                  normal([rows, tokens, HEAD_DIM]),
                ] as tf.Tensor3D[];
                const rotated = rotaryKeyValues(query!, key!, value!, cos!, sin!, cache);
                const input = { query: rotated.query, keyValues: rotated.keyValues };
                const attendedBytes = blockBytes(rotated.keyValues);
                attended[layer] = [...rotated.keyValues.keys, ...rotated.keyValues.values];
                if (tokens === 1) {
                  decodeAttention(input).output.dispose();
                  expect(kernel.mirroredBytes()).toBeGreaterThanOrEqual(attendedBytes);
                }
                return [decodeAttention(input).output, decodeAttention.portable(input).output, attendedBytes];
              }) as [tf.Tensor, tf.Tensor, number];
              expect(stepBytes).toBeGreaterThan(0);
              const [fastValues, portableValues] = await Promise.all([fast.data(), portable.data()]);
              for (let i = 0; i < fastValues.length; i++) {
                expect(Math.abs(fastValues[i]! - portableValues[i]!)).toBeLessThan(1e-5);
              }
              tf.dispose([fast, portable]);
            }
          };
          await step(3);
          for (let index = 0; index < 20; index++) {
            if (index === 4) for (const cache of caches) cache.reorder([1, 0]);
            if (index === 7) for (const cache of caches) cache.crop(cache.getSeqLength() - 2);
            if (index === 10 && kind.joins) {
              for (const cache of caches) {
                const joining = kind.create();
                const [key, value] = [normal([1, KV_HEADS, 2, HEAD_DIM]), normal([1, KV_HEADS, 2, HEAD_DIM])];
                joining.update(key as tf.Tensor4D, value as tf.Tensor4D);
                tf.dispose([key, value]);
                cache.joinRows!(joining);
                joining.dispose();
              }
              rows = 3;
            }
            if (index === 13 && kind.joins) for (const cache of caches) cache.dropStart!(2);
            if (index === 16) {
              for (const cache of caches) cache.reorder([0, rows - 1]);
              rows = 2;
            }
            await step(1);
            // The copies are those of the blocks the step attended to that are still alive (the others are
            // freed first): a sliding window's alias of the block it dropped died with the step's tidy.
            expect(kernel.mirroredBytes()).toBe(liveAttendedBytes());
            if (kind.name !== 'SlidingWindowLayerCache') {
              expect(kernel.mirroredBytes()).toBe(caches.reduce((total, cache) => total + cache.bytes(), 0));
            }
          }
          for (const cache of caches) cache.dispose();
          expect(kernel.mirroredBytes()).toBe(0);
        });
      });
    }
  },
);
