// In a test file of its own: the wasm backend must first initialise here, threaded.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { assertClose, expectNoLeak } from './testing/index.js';

describe('tfjs-wasm threads in Node', () => {
  it('starts a 2-thread XNNPACK pool, restores the globals it bridged, and computes the same products', async () => {
    const RealBlob = globalThis.Blob;
    const createObjectURL = URL.createObjectURL;
    const info = await useBackend('wasm', { threads: 2 });
    expect(info.details.threads).toBe(2);
    expect(globalThis.Blob).toBe(RealBlob);
    expect(URL.createObjectURL).toBe(createObjectURL);

    await expectNoLeak(async () => {
      // A product large enough for XNNPACK to split across threads, against a float64 sum.
      const [rows, inner, columns] = [64, 96, 80];
      const a = Float32Array.from({ length: rows * inner }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: inner * columns }, (_, i) => Math.cos(i * 0.7));
      const expected = new Float64Array(rows * columns);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns; c++) {
          let sum = 0;
          for (let k = 0; k < inner; k++) sum += a[r * inner + k]! * b[k * columns + c]!;
          expected[r * columns + c] = sum;
        }
      }
      const product = tf.tidy(() =>
        tf.matMul(tf.tensor2d(a, [rows, inner]), tf.tensor2d(b, [inner, columns])),
      );
      assertClose(await product.data(), expected, 1e-4, 'threaded matMul');
      product.dispose();
    });
  });
});
