import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';

describe('wasm binaries from an explicit folder (bundles)', () => {
  it('loads the backend from the given wasmPaths', async () => {
    const packageJson = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    const info = await useBackend('wasm', { wasmPaths: `${dirname(packageJson)}/dist/` });
    expect(info.name).toBe('wasm');
    expect(tf.sum(tf.tensor([1, 2, 3])).dataSync()[0]).toBe(6);
  });
});
