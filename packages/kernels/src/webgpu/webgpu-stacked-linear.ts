import * as tf from '@tensorflow/tfjs-core';
import { type DerivedLayout, Parameter } from '@tsformer/core-tensor';
import { type LinearWeightLayout, linearFeatures, storedOrder } from '../linear.js';
import type { Projection } from '../projection-ops.js';
import { webgpuLinear } from './webgpu-linear.js';

const STACKED_KEY = 'webgpu:stacked-linear';

/** A number per parameter, so that a stacked weight knows which parameters it was made from. */
const parameterIds = new WeakMap<Parameter, number>();
let nextParameterId = 0;

function idOf(parameter: Parameter): number {
  let id = parameterIds.get(parameter);
  if (id === undefined) {
    id = nextParameterId++;
    parameterIds.set(parameter, id);
  }
  return id;
}

/**
 * Projections of one input (Llama's `q_proj`, `k_proj`, `v_proj`) as one: their weights concatenated
 * along the output features in the order they are stored (and their biases), made on first use and kept
 * by the first weight (freed when it is written); rebuilt when another projection or its value changes.
 * A second copy of those weights on the GPU, for one dispatch instead of one per projection.
 */
class StackedProjection implements DerivedLayout {
  private built: { projection: Projection; sources: string } | undefined;

  /** The stacked projection of `projections` (`[Σ out, in]` or `[in, Σ out]`, as they are stored). */
  current(projections: readonly Projection[], order: LinearWeightLayout): Projection {
    const sources = projections
      .flatMap(({ weight, bias }) => [weight, bias])
      .map((parameter) => (parameter ? `${idOf(parameter)}@${parameter.version}` : '-'))
      .join();
    if (this.built?.sources !== sources) {
      this.dispose();
      this.built = { projection: stack(projections, order), sources };
    }
    return this.built.projection;
  }

  dispose(): void {
    this.built?.projection.weight.dispose();
    this.built?.projection.bias?.dispose();
    this.built = undefined;
  }
}

/** One projection whose weight holds `projections`' side by side along the output features. */
function stack(projections: readonly Projection[], order: LinearWeightLayout): Projection {
  const outAxis = order === 'out-in' ? 0 : 1;
  const weights = projections.map(({ weight }) => weight.tensor);
  const stackedShape = [...weights[0]!.shape];
  stackedShape[outAxis] = weights.reduce((total, weight) => total + weight.shape[outAxis]!, 0);
  const weight = new Parameter(stackedShape);
  weight.assign(tf.concat(weights, outAxis));
  const biases = projections.map(({ bias }) => bias?.tensor);
  if (!biases.every((bias): bias is tf.Tensor => bias !== undefined)) return { weight, layout: order };
  const bias = new Parameter([stackedShape[outAxis]!]);
  bias.assign(tf.concat(biases, 0));
  return { weight, bias, layout: order };
}

/**
 * `x` `[..., in]` through several projections at once on webgpu, `[..., Σ out]`: one linear dispatch over
 * their stacked weights. Undefined where the projections cannot be stacked (different input sizes or
 * storage orders, only some with a bias, a trainable weight) or where `webgpuLinear` declines the shape.
 */
export function webgpuStackedLinear(x: tf.Tensor, projections: readonly Projection[]): tf.Tensor | undefined {
  const [first] = projections;
  if (!first) return undefined;
  const layoutOf = ({ weight, layout = 'out-in' }: Projection) => ({
    order: storedOrder(weight, layout),
    inFeatures: linearFeatures(weight, layout).inFeatures,
  });
  const { order, inFeatures } = layoutOf(first);
  const stackable = projections.every((projection) => {
    const other = layoutOf(projection);
    return (
      other.order === order &&
      other.inFeatures === inFeatures &&
      !projection.weight.isTrainable &&
      !projection.bias?.isTrainable &&
      (projection.bias === undefined) === (first.bias === undefined)
    );
  });
  if (!stackable || x.dtype !== 'float32' || x.shape[x.rank - 1] !== inFeatures) return undefined;
  const stacked = first.weight
    .derived(STACKED_KEY, () => new StackedProjection())
    .current(projections, order);
  return webgpuLinear(x, stacked.weight, stacked.bias, stacked.layout);
}
