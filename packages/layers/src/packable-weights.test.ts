import { Module, type Parameter } from '@tsformer/core-tensor';
import { describe, expect, it } from 'vitest';
import { Conv1D } from './conv1d.js';
import { Embedding } from './embedding.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import { packableWeights } from './packable-weights.js';

/** A tied table and head, a Conv1D, a norm, and a Linear weight that the model also owns itself. */
class Toy extends Module {
  readonly table = this.register('table', new Embedding(10, 4));
  readonly head = this.register('head', new Linear(4, 10, { bias: false, sharedWeight: this.table.weight }));
  readonly conv = this.register('conv', new Conv1D(4, 6));
  readonly norm = this.register('norm', new LayerNorm(4));
  readonly odd = this.register('odd', new Linear(4, 4));
  constructor() {
    super();
    // A weight also owned by a module that reads its tensor directly cannot be held packed only.
    this.parameter('alsoReadDirectly', this.odd.weight);
  }
}

describe('packableWeights', () => {
  it('lists weights read only through linear and embedding, with their checkpoint layout', () => {
    const toy = new Toy();
    const layouts = packableWeights(toy);
    const named = new Map<Parameter, string>(); // each parameter under its first name
    for (const [name, parameter] of toy.namedParameters())
      if (!named.has(parameter)) named.set(parameter, name);
    expect(Object.fromEntries([...layouts].map(([p, layout]) => [named.get(p), layout]))).toEqual({
      'table.weight': 'out-in', // the tied head reads it the same way
      'conv.weight': 'in-out',
    });
  });
});
