// Training on the webgpu backend: PyTorch's fine-tuning of the llama reference folder replayed there
// (losses, gradient norms, every gradient, every weight after 3 AdamW steps). Runs wherever a WebGPU
// adapter exists: a GPU, or SwiftShader from Debian's chromium package (vitest.config.ts); elsewhere
// it prints why it is skipped.
import { BackendUnavailableError, openSafetensors, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { describe, expect, it } from 'vitest';
import { FIXTURES, loadModel, readJson } from '../test/reference-folders.js';
import {
  checkTrainingReference,
  type Float64TrainingJson,
  type TrainingReferenceJson,
} from './testing/index.js';

const unavailable = await useBackend('webgpu').then(
  () => null,
  (error: unknown) => {
    if (!BackendUnavailableError.isInstance(error)) throw error;
    return error.message;
  },
);
if (unavailable) {
  console.log(`skipped: training on webgpu (${unavailable}; Debian's chromium package brings SwiftShader)`);
}

describe.skipIf(unavailable !== null)('training on webgpu', () => {
  it('fine-tunes llama as PyTorch does: every loss, norm, gradient and final weight', async () => {
    const dir = `${FIXTURES}llama`;
    const model = await loadModel('llama');
    try {
      const float64 = {
        json: readJson<Float64TrainingJson>(`${dir}/training-float64.json`),
        tensors: await openSafetensors(`${dir}/training-float64.safetensors`),
      };
      const reference = readJson<TrainingReferenceJson>(`${dir}/training.json`);
      const tensors = await openSafetensors(`${dir}/training.safetensors`);
      const checks = await expectNoLeak(() => checkTrainingReference(model, reference, tensors, float64));
      expect(checks.filter((check) => !check.pass).map((check) => `${check.name}: ${check.detail}`)).toEqual(
        [],
      );
      expect(checks.length).toBe(2 * reference.hyperparameters.steps + 2 + 2 * reference.parameters.length);
    } finally {
      model.dispose();
    }
  }, 600_000);
});
