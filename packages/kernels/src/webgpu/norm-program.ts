import type { WgslKernel } from './wgsl-kernel.js';

const THREADS = 256;

/** A normalization kernel variant (see `NormSpec`): which norm, its affine parameters, a residual add first. */
export interface NormVariant {
  kind: 'rms' | 'layer';
  hasWeight: boolean;
  hasBias: boolean;
  /** Normalizes `x + delta` and also writes that sum (`sum`, the first output). */
  addsDelta: boolean;
}

const kernels = new Map<string, WgslKernel>();

/**
 * One workgroup per row of `x` `[rows, hidden]`: the row's statistics reduced in workgroup memory in a
 * fixed order, then `normed` (and `sum` when `addsDelta`) written. RMS: `(weightOffset + weight) · v /
 * sqrt(mean(v²) + eps)`; layer: `(v - mean) / sqrt(mean((v - mean)²) + eps) · weight + bias` (two
 * passes, as PyTorch's). Inputs in order: `x`, `delta`, `weight`, `bias` (those the variant has);
 * uniforms `hidden`, `eps`, `weightOffset`; one workgroup per row.
 */
export function normKernel({ kind, hasWeight, hasBias, addsDelta }: NormVariant): WgslKernel {
  const key = `tsformer.norm.${kind}.${hasWeight}.${hasBias}.${addsDelta}`;
  const known = kernels.get(key);
  if (known) return known;
  const value = addsDelta ? 'x[base + i] + delta[base + i]' : 'x[base + i]';
  const reduce = (name: string) => `
      total[tid] = ${name};
      workgroupBarrier();
      for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
        if (tid < stride) { total[tid] = total[tid] + total[tid + stride]; }
        workgroupBarrier();
      }
      let ${name}Total = total[0];
      workgroupBarrier();`;
  const scaled =
    kind === 'rms'
      ? `(uniforms.weightOffset + ${hasWeight ? 'weight[i]' : '1.0'}) * (v * inverse)`
      : `(v - mean) * inverse${hasWeight ? ' * weight[i]' : ''}${hasBias ? ' + bias[i]' : ''}`;
  const statistics =
    kind === 'rms'
      ? `
      var squares = 0.0;
      for (var i = tid; i < hidden; i += ${THREADS}) { let v = ${value}; squares += v * v; }
      ${reduce('squares')}
      let inverse = inverseSqrt(squaresTotal / f32(hidden) + uniforms.eps);`
      : `
      var sums = 0.0;
      for (var i = tid; i < hidden; i += ${THREADS}) { sums += ${value}; }
      ${reduce('sums')}
      let mean = sumsTotal / f32(hidden);
      var squares = 0.0;
      for (var i = tid; i < hidden; i += ${THREADS}) { let c = ${value} - mean; squares += c * c; }
      ${reduce('squares')}
      let inverse = inverseSqrt(squaresTotal / f32(hidden) + uniforms.eps);`;
  const kernel: WgslKernel = {
    key,
    outputs: [...(addsDelta ? [{ name: 'sum', type: 'f32' as const }] : []), { name: 'normed', type: 'f32' }],
    inputs: [
      { name: 'x', type: 'f32' },
      ...(addsDelta ? [{ name: 'delta', type: 'f32' as const }] : []),
      ...(hasWeight ? [{ name: 'weight', type: 'f32' as const }] : []),
      ...(hasBias ? [{ name: 'bias', type: 'f32' as const }] : []),
    ],
    uniforms: [
      { name: 'hidden', type: 'i32' },
      { name: 'eps', type: 'f32' },
      { name: 'weightOffset', type: 'f32' },
    ],
    workgroupSize: THREADS,
    helpers: `var<workgroup> total : array<f32, ${THREADS}>;`,
    body: `
      let hidden = uniforms.hidden;
      let base = workgroupIndex * hidden;
      if (base >= i32(arrayLength(&normed))) { return; }
      ${statistics}
      for (var i = tid; i < hidden; i += ${THREADS}) {
        let v = ${value};
        ${addsDelta ? 'sum[base + i] = v;' : ''}
        normed[base + i] = ${scaled};
      }
    `,
  };
  kernels.set(key, kernel);
  return kernel;
}
