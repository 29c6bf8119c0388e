import type { Module, Parameter } from '@tsformer/core-tensor';
import type { LinearWeightLayout } from '@tsformer/kernels';
import { Conv1D } from './conv1d.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';

/**
 * The parameters of `model` that only linear layers and embedding tables read — through the
 * `linear` and `embedding` ops, never `.tensor` — with the layout of their checkpoint shape (a tied
 * table and head agree: both `[vocab, hidden]`, `out-in`). A backend whose kernels serve both ops
 * may hold these as its own packed copy alone (`Parameter.assignLayout`); anything else a module
 * owns (norms, biases, position tables) stays a tensor.
 */
export function packableWeights(model: Module): Map<Parameter, LinearWeightLayout> {
  const layouts = new Map<Parameter, LinearWeightLayout>();
  const otherwiseUsed = new Set<Parameter>();
  for (const module of model.modules()) {
    const use = kernelUse(module);
    for (const [name, parameter] of module.namedParameters()) {
      if (name.includes('.')) continue; // a descendant's: seen with its own module
      if (use && parameter === use.weight) {
        const seen = layouts.get(parameter);
        if (seen !== undefined && seen !== use.layout) otherwiseUsed.add(parameter); // read both ways
        layouts.set(parameter, use.layout);
      } else {
        otherwiseUsed.add(parameter);
      }
    }
  }
  for (const parameter of otherwiseUsed) layouts.delete(parameter);
  return layouts;
}

/** The weight a module reads only through a kernel op, and how its checkpoint shape reads. */
function kernelUse(module: Module): { weight: Parameter; layout: LinearWeightLayout } | undefined {
  if (module instanceof Linear || module instanceof Embedding)
    return { weight: module.weight, layout: 'out-in' };
  if (module instanceof Conv1D) return { weight: module.weight, layout: 'in-out' };
  return undefined;
}
