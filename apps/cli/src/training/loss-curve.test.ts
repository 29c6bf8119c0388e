import { describe, expect, it } from 'vitest';
import { lossCurveSvg } from './loss-curve.js';

describe('lossCurveSvg', () => {
  it('draws the training losses as a line from the first to the last step, evaluations as dots', () => {
    const train = [3, 2, 1.5].map((loss, i) => ({
      kind: 'train' as const,
      step: i + 1,
      epoch: 0,
      loss,
      learningRate: 1e-3,
      gradNorm: 1,
      tokens: 10,
    }));
    const svg = lossCurveSvg(
      [...train, { kind: 'eval', step: 3, epoch: 0, loss: 1.8, perplexity: Math.exp(1.8), tokens: 5 }],
      'run <1>',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const points = /<polyline points="([^"]+)"/.exec(svg)![1]!.split(' ');
    expect(points).toHaveLength(3);
    // y grows downwards: loss 3 at the top margin (28), 1.5 on the axis (320), 2 two thirds down.
    expect(points.map((point) => Number(point.split(',')[1]))).toEqual([28, 222.7, 320]);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).toContain('run &lt;1&gt;');
    expect(svg).toContain('>3.000</text>');
    expect(svg).toContain('>1.500</text>');
  });
});
