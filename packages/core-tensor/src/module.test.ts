import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { WeightLoadingError } from './errors.js';
import { Module, ModuleList } from './module.js';
import type { Parameter } from './parameter.js';
import { expectNoLeak } from './testing/index.js';
import { weightsFromTensors } from './weight-source.js';

class Proj extends Module {
  readonly weight: Parameter;
  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.weight = this.parameter('weight', [outFeatures, inFeatures]);
  }
}

class Block extends Module {
  readonly qProj = this.register('q_proj', new Proj(4, 4));
}

class Tiny extends Module {
  readonly embed = this.register('embed_tokens', new Proj(3, 4));
  readonly layers = this.register('layers', new ModuleList([new Block(), new Block()]));
  readonly lmHead = this.register('lm_head', new TiedHead(this.embed.weight));
}

class TiedHead extends Module {
  constructor(shared: Parameter) {
    super();
    this.parameter('weight', shared);
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('Module', () => {
  it('derives Hugging Face weight paths from the tree', () => {
    const names = new Tiny().namedParameters().map(([name]) => name);
    expect(names).toEqual([
      'embed_tokens.weight',
      'layers.0.q_proj.weight',
      'layers.1.q_proj.weight',
      'lm_head.weight',
    ]);
  });

  it('counts a tied parameter once', () => {
    expect(new Tiny().numParameters()).toBe(12 + 16 + 16);
  });

  it('switches train/eval mode recursively', () => {
    const model = new Tiny().train();
    expect(model.layers.at(1).qProj.training).toBe(true);
    model.eval();
    expect(model.layers.at(1).qProj.training).toBe(false);
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.parameter('w', [1]);
        this.parameter(name, [1]);
      }
    }
    expect(() => new Bad('w')).toThrow(/taken/);
    expect(() => new Bad('a.b')).toThrow(/dotted/);
  });

  it('loads weights by name, a tied weight through either name', async () => {
    await expectNoLeak(async () => {
      const model = new Tiny();
      const tensors = {
        'embed_tokens.weight': tf.ones([4, 3]),
        'layers.0.q_proj.weight': tf.fill([4, 4], 2),
        'layers.1.q_proj.weight': tf.fill([4, 4], 3),
      };
      const report = await model.loadWeights(weightsFromTensors(tensors));
      expect(report.missing).toEqual([]);
      expect(model.lmHead.namedParameters()[0]![1].tensor.dataSync()[0]).toBe(1);
      expect(model.layers.at(1).qProj.weight.tensor.dataSync()[5]).toBe(3);
      tf.dispose(Object.values(tensors));
      model.dispose();
    });
  });

  it('reports every missing, unexpected and mis-shaped tensor in one error, reading nothing', async () => {
    await expectNoLeak(async () => {
      const model = new Tiny();
      const tensors = {
        'embed_tokens.weight': tf.ones([4, 3]),
        'layers.0.q_proj.weight': tf.ones([4, 5]),
        'layers.9.q_proj.weight': tf.ones([4, 4]),
      };
      const error = await model.loadWeights(weightsFromTensors(tensors, 'x.safetensors')).catch((e) => e);
      expect(error).toBeInstanceOf(WeightLoadingError);
      expect(error.missing).toEqual(['layers.1.q_proj.weight']);
      expect(error.unexpected).toEqual(['layers.9.q_proj.weight']);
      expect(error.misShaped).toEqual([{ name: 'layers.0.q_proj.weight', expected: [4, 4], actual: [4, 5] }]);
      expect(error.message).toContain('x.safetensors');
      expect(model.embed.weight.isSet).toBe(false);
      tf.dispose(Object.values(tensors));
    });
  });

  it('checks names and shapes without reading a byte in a dry run', async () => {
    const headerOnly = (shapes: Record<string, number[]>) => ({
      location: 'header.safetensors',
      names: () => Object.keys(shapes),
      shape: (name: string) => shapes[name]!,
      read: () => Promise.reject(new Error('a dry run must not read tensors')),
    });
    const fitting = {
      'embed_tokens.weight': [4, 3],
      'layers.0.q_proj.weight': [4, 4],
      'layers.1.q_proj.weight': [4, 4],
    };
    const model = new Tiny();
    const report = await model.loadWeights(headerOnly(fitting), { dryRun: true });
    expect(report).toEqual({
      loaded: Object.keys(fitting),
      missing: [],
      unexpected: [],
      ignored: [],
      misShaped: [],
    });
    expect(model.parameters().some((parameter) => parameter.isSet)).toBe(false);

    const transposed = { ...fitting, 'embed_tokens.weight': [3, 4] };
    const strict = await model.loadWeights(headerOnly(transposed), { dryRun: true }).catch((e) => e);
    expect(strict).toBeInstanceOf(WeightLoadingError);
    expect(strict.message).toBe(
      'weights in header.safetensors do not fit the model: mis-shaped 1: embed_tokens.weight is [3,4] but the model needs [4,3]',
    );
    const lenient = await model.loadWeights(headerOnly({}), { dryRun: true, strict: false });
    expect(lenient.missing).toEqual([
      'embed_tokens.weight',
      'layers.0.q_proj.weight',
      'layers.1.q_proj.weight',
    ]);
  });

  it('maps or ignores checkpoint names through mapName', async () => {
    await expectNoLeak(async () => {
      const model = new Block();
      const tensors = { 'transformer.q_proj.weight': tf.ones([4, 4]), 'attn.masked_bias': tf.ones([1]) };
      const report = await model.loadWeights(weightsFromTensors(tensors), {
        mapName: (name) => (name.startsWith('attn.') ? null : name.replace(/^transformer\./, '')),
      });
      expect(report.ignored).toEqual(['attn.masked_bias']);
      expect(report.loaded).toEqual(['transformer.q_proj.weight']);
      tf.dispose(Object.values(tensors));
      model.dispose();
    });
  });
});

describe('Module.dispose', () => {
  it("reaches every descendant's own dispose", async () => {
    await expectNoLeak(async () => {
      class HoldsTable extends Module {
        readonly table = tf.keep(tf.ones([3]));
        override dispose(): void {
          super.dispose();
          this.table.dispose();
        }
      }
      class Outer extends Module {
        readonly inner = this.register('inner', new ModuleList([new HoldsTable()]));
      }
      new Outer().dispose();
    });
  });
});

describe('Module.modules', () => {
  it('walks the module and every descendant depth first', () => {
    const model = new Tiny();
    const names = [...model.modules()].map((module) => module.constructor.name);
    expect(names).toEqual(['Tiny', 'Proj', 'ModuleList', 'Block', 'Proj', 'Block', 'Proj', 'TiedHead']);
  });
});

describe('Module training API', () => {
  class Pair extends Module {
    readonly a = this.parameter('a', [2]);
    readonly b = this.parameter('b', [2]);
  }
  class Tied extends Module {
    readonly first = this.register('first', new Pair());
    readonly shared = this.parameter('shared', this.first.a);
  }

  it('freezes by glob or RegExp and makes the rest trainable, tied weights once', async () => {
    await useBackend('wasm');
    const model = new Tied();
    for (const parameter of model.parameters()) parameter.assign(tf.zeros([2]));
    expect(model.freeze('first.b')).toEqual(['first.b']);
    // Own parameters come before children's (namedParameters order): the tied one under its first name.
    expect(model.makeTrainable().map(([name]) => name)).toEqual(['shared']);
    expect(model.first.a.isTrainable).toBe(true);
    expect(model.first.b.isTrainable).toBe(false);
    expect(model.unfreeze(/^first\./)).toEqual(['first.a', 'first.b']);
    expect(model.makeTrainable().map(([name]) => name)).toEqual(['shared', 'first.b']);
    expect(model.freeze('*')).toHaveLength(3);
    model.dispose();
  });
});
