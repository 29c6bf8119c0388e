import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { expectNoLeak } from '../testing/index.js';
import { openSafetensors, saveSafetensors } from './node.js';

const folder = mkdtempSync(join(tmpdir(), 'tsformer-webgpu-safetensors-'));

beforeAll(async () => {
  await useBackend('webgpu');
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('saveSafetensors on webgpu', () => {
  it('writes tensors that live on the GPU, read with await data() (no synchronous read)', async () => {
    await expectNoLeak(async () => {
      const weight = tf.tensor2d([1.5, -2, 3.25, 0, 7, -0.125], [2, 3]);
      const ids = tf.tensor1d([3, 1, 4], 'int32');
      const path = join(folder, 'gpu.safetensors');
      await saveSafetensors(path, { weight, ids });
      const file = await openSafetensors(path);
      const readWeight = await file.read('weight');
      const readIds = await file.read('ids');
      expect(readWeight.shape).toEqual([2, 3]);
      expect(Array.from(await readWeight.data())).toEqual([1.5, -2, 3.25, 0, 7, -0.125]);
      expect(Array.from(await readIds.data())).toEqual([3, 1, 4]);
      tf.dispose([weight, ids, readWeight, readIds]);
    });
  });
});
