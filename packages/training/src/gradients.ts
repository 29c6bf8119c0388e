import * as tf from '@tensorflow/tfjs-core';
import { gradientsEnabled, type Parameter } from '@tsformer/core-tensor';
import { GradientsNotEnabledError, NoTrainableParametersError } from './errors.js';

/** A loss and its gradients: one per parameter the loss depends on, in the parameter's stored layout. */
export interface LossAndGradients {
  loss: tf.Scalar;
  /** PyTorch's `.grad`: absent for a parameter the loss does not reach (it stays `None` there). */
  gradients: Map<Parameter, tf.Tensor>;
}

/**
 * Runs `computeLoss` on a gradient tape and returns the loss with d loss / d parameter for every
 * parameter in `parameters` it depends on (each made trainable first). `await enableGradients()` first. Every returned tensor belongs
 * to the caller; the forward's intermediates are freed.
 */
export function lossAndGradients(
  parameters: readonly Parameter[],
  computeLoss: () => tf.Scalar,
): LossAndGradients {
  if (parameters.length === 0) throw new NoTrainableParametersError('no parameter to compute gradients for');
  if (!gradientsEnabled())
    throw new GradientsNotEnabledError('gradients are not enabled: await enableGradients() first');
  const byVariable = new Map(parameters.map((parameter) => [parameter.makeTrainable().name, parameter]));
  const { value, grads } = tf.variableGrads(
    computeLoss,
    [...byVariable.keys()].map((name) => byVariable.get(name)!.variable),
  );
  const gradients = new Map<Parameter, tf.Tensor>();
  for (const [name, gradient] of Object.entries(grads)) {
    if (gradient) gradients.set(byVariable.get(name)!, gradient);
  }
  return { loss: value, gradients };
}
