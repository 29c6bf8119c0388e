import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultBackendName, useBackend } from './backend.js';
import { BackendUnavailableError } from './errors.js';

describe('backend selection', () => {
  afterEach(() => {
    delete process.env.TSFORMER_BACKEND;
  });

  it('defaults to wasm in Node, one thread, and reports SIMD and the thread count', async () => {
    expect(defaultBackendName()).toBe('wasm');
    const info = await useBackend();
    expect(tf.getBackend()).toBe('wasm');
    expect(typeof info.details.simd).toBe('boolean');
    expect(info.details.threads).toBe(1);
    expect(tf.add(tf.tensor([1, 2]), 1).arraySync()).toEqual([2, 3]);
  });

  it('switches to cpu at run time, without tfjs-backend-cpu\'s "running TensorFlow.js in Node.js" banner', async () => {
    const warnings: unknown[][] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation((...args) => void warnings.push(args));
    try {
      await useBackend('cpu');
      expect(tf.getBackend()).toBe('cpu');
      tf.tensor([1, 2]).dispose();
    } finally {
      warn.mockRestore();
    }
    expect(warnings.map((args) => args.join(' ')).join('\n')).not.toMatch(/TensorFlow\.js in Node\.js/);
  });

  it('reads TSFORMER_BACKEND and rejects an unknown name', () => {
    process.env.TSFORMER_BACKEND = 'cpu';
    expect(defaultBackendName()).toBe('cpu');
    process.env.TSFORMER_BACKEND = 'cuda';
    expect(() => defaultBackendName()).toThrow(BackendUnavailableError);
    expect(() => defaultBackendName()).toThrow(/wasm, cpu, webgpu, tensorflow/);
  });

  it('refuses a wasm thread count outside 1 to 8', async () => {
    for (const threads of [0, 9, 1.5]) {
      await expect(useBackend('wasm', { threads })).rejects.toThrow(
        /wasm threads must be an integer from 1 to 8/,
      );
    }
  });

  it('names the package to install when the tensorflow backend is absent', async () => {
    const error = await useBackend('tensorflow').catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(error.message).toMatch(/libtensorflow/);
  });

  it('explains why webgpu cannot run on a machine without a GPU (no Dawn package, or no adapter)', async () => {
    const error = await useBackend('webgpu').catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/needs the "webgpu" package|found no GPU adapter/);
  });
});
